"""The config of the EKS cluster: its Kubernetes version with the add-on builds pinned for it
(refused past its end of standard support), and its extra administrators.

Core, split from `config` so each module stays small; `config.parse_config` calls these.
"""

from __future__ import annotations

from datetime import date

from components.config_rules import IAM_PRINCIPAL, Reader
from components.eks_addons import (
    PINNED,
    STANDARD_SUPPORT_ENDS,
    VERSION_PATTERN,
    AddonVersions,
    kube_proxy_matches,
    supported_versions,
)
from components.partition import arn_partition


def addon_versions(r: Reader, k8s_version: str | None, today: date | None) -> AddonVersions | None:
    """The pinned add-on versions of the Kubernetes version, each overridable by config; a
    version past its end of standard support on `today` is refused (`today` None: no date
    applies, as on a local cluster, whose version is the user's own)."""
    keys = {"vpc_cni": "vpcCniVersion", "kube_proxy": "kubeProxyVersion",
            "coredns": "corednsVersion"}
    # per field: "" not set, None set but invalid (reported), else the version given
    given = {field: r.matching(key, VERSION_PATTERN, "an EKS add-on version such as "
                               "v1.21.1-eksbuild.7 (aws eks describe-addon-versions)")
             if r.text(key) else "" for field, key in keys.items()}
    if k8s_version is None:
        return None
    allowed = supported_versions(today) if today is not None else list(PINNED)
    choices = ", ".join(allowed) or ("no version of the program's calendar any more: a newer "
                                     "one with vpcCniVersion, kubeProxyVersion and "
                                     "corednsVersion set")
    newest = max(STANDARD_SUPPORT_ENDS, key=lambda v: int(v.split(".")[1]))
    unpinned_rule = f"or set vpcCniVersion, kubeProxyVersion and corednsVersion for {k8s_version}"
    end = STANDARD_SUPPORT_ENDS.get(k8s_version)
    if today is not None and end is not None and end < today:
        r.problem("kubernetesVersion", f"{choices} (EKS standard support of {k8s_version} ended "
                                       f"{end.isoformat()}, EKS release calendar; see README, "
                                       f"\"Upgrade Kubernetes\")")
        return None
    if (today is not None and end is None
            and int(k8s_version.split(".")[1]) <= int(newest.split(".")[1])):
        r.problem("kubernetesVersion", f"{choices} (the versions in EKS standard support on "
                                       f"{today}), or a newer one with its add-on "
                                       f"versions set")
        return None
    if k8s_version not in PINNED and not all(given.values()):
        r.problem("kubernetesVersion", f"{choices} (the versions whose EKS add-ons are pinned), "
                                       f"{unpinned_rule}")
        return None
    kube_proxy = given["kube_proxy"]
    if kube_proxy and not kube_proxy_matches(k8s_version, kube_proxy):
        r.problem("kubeProxyVersion", f"a kube-proxy build for Kubernetes {k8s_version} "
                                      f"(v{k8s_version}.N-eksbuild.N)")
        return None
    if None in given.values():
        return None
    pins = PINNED.get(k8s_version)
    return AddonVersions(**{field: given[field] or getattr(pins, field) for field in keys})


def cluster_admins(r: Reader, partition: str | None) -> list[str] | None:
    """IAM roles (a path is fine) or users; each principal once (EKS: one access entry each)."""
    example = "arn:aws:iam::123456789012:role/admin"
    admins = r.string_list("clusterAdmins", example)
    if admins is None:
        return None
    ok = True
    for index, arn in enumerate(admins):
        key = f"clusterAdmins[{index}]"
        if not IAM_PRINCIPAL.fullmatch(arn):
            r.problems.append(f"{key}: got {arn!r}; allowed: an IAM role or user ARN such as "
                              f"{example} (a role path is fine; not an sts assumed-role "
                              f"session or a service-linked role)")
            ok = False
        elif arn in admins[:index]:
            r.problems.append(f"{key}: got {arn!r} more than once; allowed: each principal once")
            ok = False
        elif partition is not None and arn_partition(arn) != partition:
            r.problems.append(f"{key}: got {arn!r}; allowed: a principal of the region's "
                              f"partition {partition} (arn:{partition}:iam::...)")
            ok = False
    return admins if ok else None
