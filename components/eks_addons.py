"""The EKS managed add-ons this stack pins, per Kubernetes version: vpc-cni, kube-proxy, coredns.

pulumi-eks installs vpc-cni and kube-proxy at the *most recent* version for the cluster's
Kubernetes version whenever no version is set (its `VpcCniOptions.addonVersion` docstring, and
`getAddonVersion(mostRecent: true)` in its cluster code), so a later weight-only `pulumi up`
would upgrade them and roll `aws-node` on every node. Pinned here, they change only when this
table, `kubernetesVersion` or the `*Version` config keys change.

Versions from the EKS user guide's tables ("Manage the Amazon VPC CNI add-on", "Manage
kube-proxy", "Manage CoreDNS"), 2026-11. Check what your region offers with
`aws eks describe-addon-versions --kubernetes-version 1.35 --addon-name vpc-cni`; override with
`pulumi config set vpcCniVersion|kubeProxyVersion|corednsVersion v...-eksbuild.N`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

VERSION_PATTERN = re.compile(r"^v\d+\.\d+\.\d+-eksbuild\.\d+$")


@dataclass(frozen=True)
class AddonVersions:
    vpc_cni: str
    kube_proxy: str
    coredns: str


PINNED: dict[str, AddonVersions] = {
    "1.33": AddonVersions("v1.21.1-eksbuild.7", "v1.33.10-eksbuild.13", "v1.12.4-eksbuild.18"),
    "1.34": AddonVersions("v1.21.1-eksbuild.7", "v1.34.6-eksbuild.13", "v1.13.2-eksbuild.11"),
    "1.35": AddonVersions("v1.21.1-eksbuild.7", "v1.35.3-eksbuild.13", "v1.14.3-eksbuild.3"),
}


# End of EKS standard support per Kubernetes version: the EKS user guide's "Amazon EKS Kubernetes
# release calendar" (docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html; 1.35:
# released on EKS 2026-01-27, 14 months of standard support). Past its date a version cannot
# take the cluster's `STANDARD` upgrade policy and EKS upgrades the control plane by itself;
# the next `up` would then plan a downgrade that EKS refuses. 1.36 is not offered: its add-on
# builds are not in the guide's tables this table was read from (2026-11).
STANDARD_SUPPORT_ENDS: dict[str, date] = {
    "1.33": date(2026, 7, 29),
    "1.34": date(2026, 12, 2),
    "1.35": date(2027, 3, 27),
}
WARN_DAYS = 60  # EKS announces an end of standard support at least 60 days ahead


def supported_versions(today: date) -> list[str]:
    """The versions of the calendar still in standard support on `today` (its last day too)."""
    return [v for v, end in STANDARD_SUPPORT_ENDS.items() if end >= today]


def next_minor(version: str) -> str:
    major, minor = version.split(".")
    return f"{major}.{int(minor) + 1}"


def support_warning(version: str, today: date) -> str | None:
    """The warning every `up` logs when `version` has less than WARN_DAYS of standard support
    left, or when its end date is not in the calendar; None otherwise."""
    end = STANDARD_SUPPORT_ENDS.get(version)
    upgrade = (f"upgrade one minor version at a time: `pulumi config set kubernetesVersion "
               f"{next_minor(version)}` (with vpcCniVersion, kubeProxyVersion and "
               f"corednsVersion for it if the program does not pin them), then `pulumi up` "
               f"(README, \"Upgrade Kubernetes\")")
    if end is None:
        return (f"kubernetesVersion {version}: its end of standard support is not in the "
                f"program's calendar (components/eks_addons.py); check the EKS release "
                f"calendar and upgrade before that date")
    left = (end - today).days
    if left >= WARN_DAYS:
        return None
    return (f"kubernetesVersion {version}: EKS standard support ends {end.isoformat()} "
            f"({left} days left); after it EKS upgrades the control plane itself. {upgrade}")


def kube_proxy_matches(kubernetes_version: str, kube_proxy_version: str) -> bool:
    """kube-proxy is built per Kubernetes minor: v1.35.x goes with 1.35 only."""
    return kube_proxy_version.startswith(f"v{kubernetes_version}.")
