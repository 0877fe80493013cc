"""The shared add-on building block: a Helm chart or manifests, plus its service account's role.

Like EKS Blueprints' `HelmAddOn` + IRSA helper, or terraform-aws-eks-blueprints-addons' one
"Helm release + IAM role for its service account" module: every add-on here is one call of
`Addon` with its own props, so the three add-ons read the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.k8s import register as k8s_objects
from components.k8s.objects import namespace_object
from components.naming import iam_name
from components.partition import partition_of
from components.platform.service_account_role import (
    OidcTrust,
    ServiceAccountRole,
    ServiceAccountRoleArgs,
)
from components.tags import Tags


@dataclass(frozen=True)
class ClusterHandles:
    """What an add-on needs from the platform layer."""

    name: str
    region: str
    vpc_id: pulumi.Input[str]
    oidc: OidcTrust
    provider: k8s.Provider
    node_group: pulumi.Resource
    tags: Tags
    # what serves the cluster's DNS (the coredns add-on on EKS): every add-on depends on it,
    # so `pulumi destroy` removes the add-ons while their pods can still resolve AWS endpoints
    dns: Sequence[pulumi.Resource] = ()

    @property
    def partition(self) -> str:
        """The region's AWS partition, for AWS-owned ARNs (`components.partition`)."""
        return partition_of(self.region)

    def iam_name(self, suffix: str) -> str:
        """An IAM name unique to the stack (the cluster is named after it), within 64 chars;
        a longer one is cut and ends in a hash of all of it (see `components.naming`)."""
        return iam_name(self.name, suffix)


@dataclass(frozen=True)
class HelmChart:
    """An exactly pinned chart from its official repository: a chart name in a Helm repository
    (`repo`), or an OCI reference `oci://...` as `chart` with no `repo` (pulumi-kubernetes'
    Release passes OCI names straight to Helm's registry client; a repo URL would send it
    looking for an index.yaml instead: provider/pkg/provider/helm_release.go)."""

    chart: str
    version: str
    repo: str | None = None

    def __post_init__(self) -> None:
        if self.chart.startswith("oci://") == (self.repo is not None):
            raise ValueError(f"chart {self.chart}: an oci:// reference without repo, "
                             "or a chart name with its repo")


@dataclass(frozen=True)
class AddonArgs:
    cluster: ClusterHandles
    namespace: str
    service_account: str
    policy_document: pulumi.Input[str] | None = None
    managed_policy_arns: Sequence[str] = field(default_factory=tuple)
    # exactly one of: a chart (+ values), or manifests built from the role's ARN
    chart: HelmChart | None = None
    values: dict[str, Any] = field(default_factory=dict)
    manifests: Callable[[pulumi.Output[str]], list[dict[str, Any]]] | None = None
    # fixed Pulumi names of some manifests (by `register.logical_name`), instead of
    # "<add-on>-<logical name>": objects that two add-ons take turns to own keep one URN
    object_names: Mapping[str, str] = field(default_factory=dict)
    depends_on: Sequence[pulumi.Resource] = field(default_factory=tuple)
    # set: the add-on owns its namespace, with these labels (made before, deleted after it)
    namespace_labels: dict[str, str] | None = None


class Addon(pulumi.ComponentResource):
    """Installs after the nodes and the role's policies exist, and so is removed before them."""

    role: ServiceAccountRole
    release: k8s.helm.v3.Release | None
    objects: dict[str, pulumi.CustomResource]

    def __init__(self, name: str, args: AddonArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("eks-canary:addons:Addon", name, None, opts)
        if (args.chart is None) == (args.manifests is None):
            raise ValueError(f"add-on {name}: give a chart or manifests, not both or neither")
        cluster = args.cluster
        self.role = ServiceAccountRole(
            f"{name}-irsa",
            ServiceAccountRoleArgs(
                namespace=args.namespace, service_account=args.service_account,
                oidc=cluster.oidc, tags=cluster.tags, role_name=cluster.iam_name(name),
                policy_document=args.policy_document,
                managed_policy_arns=args.managed_policy_arns),
            opts=pulumi.ResourceOptions(parent=self))
        owned_namespace: list[pulumi.Resource] = []
        if args.namespace_labels is not None:
            owned_namespace = list(k8s_objects.register(
                [namespace_object(args.namespace, args.namespace_labels)],
                pulumi.ResourceOptions(parent=self, provider=cluster.provider),
                prefix=f"{name}-").values())
        install_opts = pulumi.ResourceOptions(
            parent=self, provider=cluster.provider,
            depends_on=[cluster.node_group, *cluster.dns, *self.role.attachments, *owned_namespace,
                        *args.depends_on])

        self.release, self.objects = None, {}
        if args.chart is not None:
            values = {**args.values, "serviceAccount": {
                "create": True, "name": args.service_account,
                "annotations": self.role.annotations}}
            self.release = k8s.helm.v3.Release(
                name,
                name=name,  # a stable release name, not an auto-suffixed one
                chart=args.chart.chart,
                version=args.chart.version,
                repository_opts=(k8s.helm.v3.RepositoryOptsArgs(repo=args.chart.repo)
                                 if args.chart.repo is not None else None),
                namespace=args.namespace,
                values=values,
                # wait for the pods to be ready (like `helm --wait`): what depends on the add-on
                # (webhooks, Ingress) must find it running
                skip_await=False,
                timeout=600,
                cleanup_on_fail=True,
                opts=install_opts)
        elif args.manifests is not None:
            self.objects = k8s_objects.register(args.manifests(self.role.arn), install_opts,
                                                prefix=f"{name}-", names=args.object_names)
        self.register_outputs({"roleArn": self.role.arn})

    @property
    def installed(self) -> list[pulumi.Resource]:
        """What dependants should wait for (and outlive them on destroy)."""
        return [self.release] if self.release is not None else list(self.objects.values())
