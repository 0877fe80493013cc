"""The EKS cluster: pulumi-eks control plane, one managed node group, and its Kubernetes provider.

Access is by EKS access entries (authentication mode API, no aws-auth ConfigMap); the cluster
creator gets admin through EKS's bootstrap permission (pulumi-eks always sets it), `clusterAdmins`
get an access entry each with the cluster-admin policy, and EKS itself makes the access entry of
a managed node group's role. The managed add-ons vpc-cni, kube-proxy and coredns run at pinned
versions (`components.eks_addons`); vpc-cni on an IRSA role of its own (`vpc_cni`).

Control-plane logs go to `/aws/eks/<cluster>/cluster`, which EKS creates on its first delivery.
The program does not own that group: EKS recreates it from late deliveries after a destroy has
deleted it, and the next `up` of the same stack would then fail creating it
(ResourceAlreadyExistsException, terraform-aws-eks issues 920, 2486, 2763). It outlives a
destroy and is reused by the next deployment of the stack.

The OIDC provider lets each add-on's service account assume an IAM role of its own (IRSA). The
VPC CNI runs with network policy enforcement on, so the app's
NetworkPolicies apply (https://docs.aws.amazon.com/eks/latest/userguide/cni-network-policy.html).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_eks as eks
import pulumi_kubernetes as k8s

from components.config_rules import is_graviton
from components.eks_addons import AddonVersions
from components.naming import iam_name, short_hash
from components.partition import eks_access_policy_arn, managed_policy_arn
from components.platform.service_account_role import OidcTrust
from components.platform.vpc_cni import VpcCni, VpcCniArgs
from components.tags import Tags

LOG_TYPES = ["api", "audit", "authenticator"]
CLUSTER_ADMIN_POLICY = "AmazonEKSClusterAdminPolicy"  # an EKS access policy
# What a managed node's role needs (EKS user guide, "Amazon EKS node IAM role"): the kubelet's
# EC2 lookups and pulling images from ECR, with the policy that page names (PullOnly). The VPC
# CNI's ENI permissions are on aws-node's own IRSA role instead (the guide's recommendation,
# `components.platform.vpc_cni`), so pods reaching the instance metadata cannot use them.
NODE_POLICIES = [
    "AmazonEKSWorkerNodePolicy",
    "AmazonEC2ContainerRegistryPullOnly",
]


def ami_type_for(instance_type: str) -> str:
    """AL2023 for the instance's architecture: Graviton families (m7g, t4g, c6gn...) are ARM."""
    return "AL2023_ARM_64_STANDARD" if is_graviton(instance_type) else "AL2023_x86_64_STANDARD"


@dataclass(frozen=True)
class ClusterArgs:
    cluster_name: str
    kubernetes_version: str
    vpc_id: pulumi.Input[str]
    public_subnet_ids: Sequence[pulumi.Input[str]]
    private_subnet_ids: Sequence[pulumi.Input[str]]
    node_instance_type: str
    node_desired_size: int
    node_min_size: int
    node_max_size: int
    tags: Tags
    addon_versions: AddonVersions
    admins: Sequence[str] = ()  # IAM role/user ARNs with cluster-admin access entries
    aws_profile: str | None = None  # the stack's aws:profile, if any
    partition: str = "aws"  # of the stack's region: every AWS-owned ARN's (components.partition)


# EKS tag on the cluster naming the principal that created it (tag values allow the `:` and `/`
# of an ARN; a tag rather than a stack output, because the program can read it before any change)
CREATOR_TAG = "eks-canary/cluster-creator"


def cluster_creator(cluster_name: str) -> str:
    """The IAM principal that created the cluster, which EKS made admin at creation.

    Not simply whoever runs this `up`: when a colleague listed in `clusterAdmins` runs it, the
    caller is not the creator; filtering the caller would delete the colleague's own entry and
    add one for the real creator, which EKS refuses (ResourceInUseException). So the creator is
    recorded in a cluster tag when the cluster is made and read back while it exists. A new
    cluster (none of that name in the region) is made by the caller: an assumed-role session ->
    its role, with path; anything else (an IAM user) -> its own ARN (aws_iam_session_context
    sets issuer_arn = arn when the ARN is no assumed role: terraform-provider-aws
    internal/service/iam/session_context_data_source.go)."""
    if cluster_name in (aws.eks.get_clusters().names or []):
        recorded = (aws.eks.get_cluster(name=cluster_name).tags or {}).get(CREATOR_TAG)
        if recorded:
            return recorded
        pulumi.log.warn(f"cluster {cluster_name} has no {CREATOR_TAG} tag (made before it was "
                        f"recorded): taking the identity running this update as its creator")
    caller = aws.get_caller_identity()
    return aws.iam.get_session_context(arn=caller.arn).issuer_arn


def admin_access_entries(admins: Sequence[str], creator: str,
                         partition: str = "aws") -> dict[str, eks.AccessEntryArgs]:
    """One access entry with the cluster-admin policy per admin, keyed by a hash of its ARN
    (stable when the list is reordered). The creator is left out: EKS already gave it an
    entry at creation, and a second one fails with ResourceInUseException."""
    if creator in admins:
        pulumi.log.warn(f"clusterAdmins: {creator} created the cluster and already has admin "
                        f"access; no second access entry is made for it")
    return {
        f"admin-{short_hash(arn)}": eks.AccessEntryArgs(
            principal_arn=arn,
            access_policies={"cluster-admin": eks.AccessPolicyAssociationArgs(
                policy_arn=eks_access_policy_arn(partition, CLUSTER_ADMIN_POLICY),
                access_scope=aws.eks.AccessPolicyAssociationAccessScopeArgs(type="cluster"))})
        for arn in admins if arn != creator
    }


class Cluster(pulumi.ComponentResource):
    """EKS control plane + managed nodes + the `kubernetes.Provider` every k8s object must use."""

    name: str
    kubeconfig: pulumi.Output[str]
    oidc_provider_arn: pulumi.Output[str]
    oidc_issuer: pulumi.Output[str]
    cluster_security_group_id: pulumi.Output[str]
    provider: k8s.Provider
    node_group: eks.ManagedNodeGroup
    vpc_cni: VpcCni
    coredns: aws.eks.Addon

    def __init__(self, name: str, args: ClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("eks-canary:platform:Cluster", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tag = args.tags

        # looked up while the program runs: pulumi-eks takes access_entries as a plain map
        creator = cluster_creator(args.cluster_name)
        access_entries = (admin_access_entries(args.admins, creator, args.partition)
                          if args.admins else None)
        versions = args.addon_versions
        credentials = (eks.KubeconfigOptionsArgs(profile_name=args.aws_profile)
                       if args.aws_profile else None)

        eks_name = f"{name}-eks"
        cluster_tags = tag(args.cluster_name)
        cluster = eks.Cluster(
            eks_name,
            name=args.cluster_name,
            version=args.kubernetes_version,
            vpc_id=args.vpc_id,
            public_subnet_ids=args.public_subnet_ids,
            private_subnet_ids=args.private_subnet_ids,
            authentication_mode=eks.AuthenticationMode.API,
            create_oidc_provider=True,
            skip_default_node_group=True,
            # Without the default (self-managed) node group pulumi-eks' own security groups are
            # unused; skipping them makes cluster_security_group_id the EKS-created group that
            # managed nodes actually use, which is what the database admits.
            skip_default_security_groups=True,
            node_associate_public_ip_address=False,
            endpoint_private_access=True,
            endpoint_public_access=True,
            enabled_cluster_log_types=LOG_TYPES,
            upgrade_policy=aws.eks.ClusterUpgradePolicyArgs(support_type="STANDARD"),
            use_default_vpc_cni=True,  # the add-on is made below, once its role exists
            kube_proxy_addon_options=eks.KubeProxyAddonOptionsArgs(version=versions.kube_proxy),
            coredns_addon_options=eks.CoreDnsAddonOptionsArgs(enabled=False),
            access_entries=access_entries,
            provider_credential_opts=credentials,
            tags=cluster_tags,
            cluster_tags={CREATOR_TAG: creator},  # on the EKS cluster only (pulumi-eks cluster.ts)
            opts=child,
        )

        self.name = args.cluster_name
        # `aws eks get-token` in the kubeconfig must use the same credentials as the stack: with
        # aws:profile set, the profile is written into the kubeconfig
        kubeconfig = (cluster.get_kubeconfig(profile_name=args.aws_profile)
                      if args.aws_profile else cluster.kubeconfig_json)
        self.kubeconfig = pulumi.Output.secret(kubeconfig)
        self.oidc_provider_arn = cluster.oidc_provider_arn
        self.oidc_issuer = cluster.oidc_provider_url.apply(
            lambda url: url.removeprefix("https://"))
        self.cluster_security_group_id = cluster.cluster_security_group_id
        # A stable cluster_identifier: a new kubeconfig (rotated token, endpoint format) updates
        # the provider in place instead of replacing every Kubernetes object it manages.
        self.provider = k8s.Provider(f"{name}-k8s", kubeconfig=self.kubeconfig,
                                     cluster_identifier=args.cluster_name, opts=child)

        self.vpc_cni = VpcCni(f"{name}-vpc-cni", VpcCniArgs(
            eks_cluster=cluster, eks_cluster_resource_name=eks_name,
            cluster_name=args.cluster_name, kubernetes_version=args.kubernetes_version,
            addon_version=versions.vpc_cni, cluster_tags=cluster_tags,
            oidc=OidcTrust(provider_arn=self.oidc_provider_arn, issuer=self.oidc_issuer),
            role_name=iam_name(args.cluster_name, "vpc-cni"),
            partition=args.partition, tags=tag, provider=self.provider), opts=child)

        node_role = aws.iam.Role(
            f"{name}-node-role",
            assume_role_policy=json.dumps({
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                               "Principal": {"Service": "ec2.amazonaws.com"}}],
            }),
            tags=tag(f"{args.cluster_name}-node"),
            opts=child,
        )
        attachments = [
            aws.iam.RolePolicyAttachment(f"{name}-node-{policy}", role=node_role.name,
                                         policy_arn=managed_policy_arn(args.partition, policy),
                                         opts=child)
            for policy in NODE_POLICIES
        ]

        # after aws-node runs with its role (pulumi-eks' node groups likewise wait for its
        # vpc-cni add-on, nodegroup.ts): nodes do not join without the CNI's permissions
        self.node_group = eks.ManagedNodeGroup(
            f"{name}-nodes",
            cluster=cluster,
            node_role=node_role,
            ami_type=ami_type_for(args.node_instance_type),
            instance_types=[args.node_instance_type],
            scaling_config=aws.eks.NodeGroupScalingConfigArgs(
                desired_size=args.node_desired_size, min_size=args.node_min_size,
                max_size=args.node_max_size),
            subnet_ids=args.private_subnet_ids,
            enable_imd_sv2=True,
            tags=tag(f"{args.cluster_name}-nodes"),
            opts=pulumi.ResourceOptions(parent=self,
                                        depends_on=[*attachments, self.vpc_cni.ready]),
        )

        # pulumi-eks makes its own coredns add-on only with a default node group, Fargate or
        # Auto Mode, or when told to (cluster.ts, `corednsExplicitlyEnabled`); its Python args
        # class sets `enabled=True` as soon as it is built (pulumi_eks/_inputs.py,
        # CoreDnsAddonOptionsArgs), so it is told `enabled=False` explicitly above. This add-on,
        # made after the nodes, takes over the coredns that EKS installed at creation.
        # `preserve`: deleting the add-on leaves CoreDNS running in the cluster (as pulumi-eks
        # does for its own add-ons); the add-ons that clean up AWS objects on destroy depend on
        # it (`ClusterHandles.dns`), so they go first, while the cluster still resolves names.
        self.coredns = aws.eks.Addon(
            f"{name}-coredns", cluster_name=args.cluster_name, addon_name="coredns",
            addon_version=versions.coredns, resolve_conflicts_on_create="OVERWRITE",
            resolve_conflicts_on_update="OVERWRITE", preserve=True,
            tags=tag(f"{args.cluster_name}-coredns"),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.node_group]))
        self.register_outputs({"clusterName": self.name, "kubeconfig": self.kubeconfig})
