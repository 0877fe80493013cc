"""The VPC CNI on an IRSA role of its own, so the nodes' role needs no ENI permissions.

The EKS user guide ("Configure the Amazon VPC CNI plugin to use IRSA") recommends it: every
pod that reaches a node's instance metadata holds the node role's permissions, and
`AmazonEKS_CNI_Policy` creates, attaches and deletes ENIs anywhere. The order is what matters:

1. The role (trusting only kube-system/aws-node) and its policy come first. Its trust needs the
   cluster's OIDC provider, which pulumi-eks makes inside its component, whose outputs arrive
   only after every child is made (pulumi sdk/nodejs/provider/server.ts, `construct` awaits
   `waitForRPCs`). So pulumi-eks is told `useDefaultVpcCni` and makes no add-on; an add-on of
   its own could only name a role that does not exist yet, which CreateAddon refuses.
2. The vpc-cni add-on is pulumi-eks' own `VpcCniAddon`, made here with the name and parent
   pulumi-eks gave it (cluster.ts: `new VpcCniAddon(`${name}-vpc-cni`, ..., {parent})`), so
   its URN, and its add-on's, are the ones an existing stack holds: the add-on is updated in
   place with the role (UpdateAddon; terraform-provider-aws internal/service/eks/addon.go).
3. UpdateAddon only annotates the `aws-node` ServiceAccount, and the pod identity webhook gives
   a pod the role only when the pod is created. A DaemonSet patch writes the role's ARN into
   aws-node's pod template: aws-node rolls, and pulumi-kubernetes waits until every pod is
   updated and available (its DaemonSet awaiter). A pod whose role does not work never gets
   ready (ipamd needs EC2 at start), so the update stops there.
4. The managed nodes wait for the patch (`ready`): on a new stack aws-node starts with the role
   on every node (nodes do not join without CNI permissions).
5. On an existing stack the node role's `AmazonEKS_CNI_Policy` attachment is gone from the
   program, and Pulumi deletes such resources after every create and update has finished
   (pulumi pkg/resource/deploy/deployment_executor.go, `performPostSteps`), and not when a step
   failed: the nodes keep the permissions until aws-node runs with its role.

`pulumi destroy` runs it backwards: the nodes, the patch (left as it is), the add-on (`preserve`:
aws-node stays for the cluster's own deletion), then the role. The add-on names the cluster by
text, yet still goes before it: it needs the role, whose trust needs the OIDC provider, which
needs the cluster (the construct reports each output's dependencies: server.ts
`stateDependencies`; the Python SDK keeps them, runtime/resource.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

import pulumi
import pulumi_eks as eks
import pulumi_kubernetes as k8s

from components.partition import managed_policy_arn
from components.platform.service_account_role import (
    OidcTrust,
    ServiceAccountRole,
    ServiceAccountRoleArgs,
)
from components.tags import Tags

CNI_NAMESPACE, CNI_SERVICE_ACCOUNT = "kube-system", "aws-node"
CNI_DAEMON_SET = "aws-node"
CNI_POLICY = "AmazonEKS_CNI_Policy"  # IPv4 clusters (the user guide; IPv6 needs its own policy)
# on aws-node's pod template: a new role ARN rolls aws-node, whose pods then get that role
ROLE_ANNOTATION = "eks-canary/aws-node-role"
# aws-node rolls a few nodes at a time (its maxUnavailable); pulumi-kubernetes waits 10 minutes
# by default (provider/pkg/await/daemonset.go)
ROLLOUT_TIMEOUT = "30m"


@dataclass(frozen=True)
class VpcCniArgs:
    eks_cluster: eks.Cluster  # the add-on's parent, as in pulumi-eks
    eks_cluster_resource_name: str  # the eks.Cluster's Pulumi name: the add-on's is derived
    cluster_name: str
    kubernetes_version: str
    addon_version: str
    cluster_tags: Mapping[str, str]  # what the eks.Cluster was given: pulumi-eks passed them on
    oidc: OidcTrust
    role_name: str
    partition: str
    tags: Tags
    provider: k8s.Provider


class VpcCni(pulumi.ComponentResource):
    """aws-node's role, the vpc-cni add-on naming it, and aws-node rolled onto it (`ready`)."""

    role: ServiceAccountRole
    addon: eks.VpcCniAddon
    ready: pulumi.Resource

    def __init__(self, name: str, args: VpcCniArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("eks-canary:platform:VpcCni", name, None, opts)
        self.role = ServiceAccountRole(
            f"{name}-irsa",
            ServiceAccountRoleArgs(
                namespace=CNI_NAMESPACE, service_account=CNI_SERVICE_ACCOUNT, oidc=args.oidc,
                tags=args.tags, role_name=args.role_name,
                managed_policy_arns=[managed_policy_arn(args.partition, CNI_POLICY)]),
            opts=pulumi.ResourceOptions(parent=self))
        self.addon = eks.VpcCniAddon(
            f"{args.eks_cluster_resource_name}-vpc-cni",
            cluster_name=args.cluster_name,
            cluster_version=args.kubernetes_version,
            addon_version=args.addon_version,
            enable_network_policy=True,
            service_account_role_arn=self.role.arn,
            # a map, as cluster.ts passes the cluster's tags on; the SDK's type says a list of
            # maps, but the construct hands its inputs to the add-on unchanged (cni-addon.ts)
            tags=cast(Any, dict(args.cluster_tags)),
            opts=pulumi.ResourceOptions(parent=args.eks_cluster,
                                        depends_on=self.role.attachments))
        template_annotations = {ROLE_ANNOTATION: self.role.arn}
        self.ready = k8s.apps.v1.DaemonSetPatch(
            f"{name}-aws-node-role",
            metadata=k8s.meta.v1.ObjectMetaPatchArgs(name=CNI_DAEMON_SET,
                                                     namespace=CNI_NAMESPACE),
            spec=k8s.apps.v1.DaemonSetSpecPatchArgs(
                template=k8s.core.v1.PodTemplateSpecPatchArgs(
                    metadata=k8s.meta.v1.ObjectMetaPatchArgs(annotations=template_annotations))),
            opts=pulumi.ResourceOptions(
                parent=self, provider=args.provider, depends_on=[self.addon],
                # on destroy the nodes go first; giving the field back would only roll aws-node
                retain_on_delete=True,
                custom_timeouts=pulumi.CustomTimeouts(create=ROLLOUT_TIMEOUT,
                                                      update=ROLLOUT_TIMEOUT)))
        self.register_outputs({"roleArn": self.role.arn})
