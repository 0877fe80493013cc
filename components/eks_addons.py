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


def kube_proxy_matches(kubernetes_version: str, kube_proxy_version: str) -> bool:
    """kube-proxy is built per Kubernetes minor: v1.35.x goes with 1.35 only."""
    return kube_proxy_version.startswith(f"v{kubernetes_version}.")
