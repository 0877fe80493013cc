"""IRSA: an IAM role that exactly one Kubernetes service account can assume.

The trust policy names the cluster's OIDC provider and pins both the subject
(`system:serviceaccount:<namespace>:<name>`) and the audience (`sts.amazonaws.com`), as the EKS
user guide's "Assign IAM roles to Kubernetes service accounts" page shows; no wildcard, so no
other pod in the cluster can use the role.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.irsa import trust_policy
from components.k8s.objects import ROLE_ARN_ANNOTATION
from components.tags import Tags


@dataclass(frozen=True)
class OidcTrust:
    """What a role needs to trust a cluster's service accounts."""

    provider_arn: pulumi.Input[str]
    issuer: pulumi.Input[str]  # without https://


@dataclass(frozen=True)
class ServiceAccountRoleArgs:
    namespace: str
    service_account: str
    oidc: OidcTrust
    tags: Tags
    role_name: str
    policy_document: pulumi.Input[str] | None = None  # JSON of an inline customer policy
    managed_policy_arns: Sequence[str] = field(default_factory=tuple)


class ServiceAccountRole(pulumi.ComponentResource):
    """The role, its policies attached; `annotations` go on the service account."""

    arn: pulumi.Output[str]
    attachments: list[pulumi.Resource]

    def __init__(self, name: str, args: ServiceAccountRoleArgs,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("eks-canary:iam:ServiceAccountRole", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        role = aws.iam.Role(
            f"{name}-role",
            name=args.role_name,
            description=f"IRSA role of {args.namespace}/{args.service_account}",
            assume_role_policy=pulumi.Output.json_dumps(
                pulumi.Output.all(args.oidc.provider_arn, args.oidc.issuer).apply(
                    lambda v: trust_policy(v[0], v[1], args.namespace, args.service_account))),
            tags=args.tags(args.role_name),
            opts=child,
        )
        self.attachments = []
        if args.policy_document is not None:
            policy = aws.iam.Policy(f"{name}-policy", name=args.role_name,
                                    policy=args.policy_document,
                                    description=f"Permissions of {args.namespace}/"
                                                f"{args.service_account}",
                                    tags=args.tags(args.role_name), opts=child)
            self.attachments.append(aws.iam.RolePolicyAttachment(
                f"{name}-policy", role=role.name, policy_arn=policy.arn, opts=child))
        for arn in args.managed_policy_arns:
            self.attachments.append(aws.iam.RolePolicyAttachment(
                f"{name}-{arn.rsplit('/', 1)[1]}", role=role.name, policy_arn=arn, opts=child))
        self.arn = role.arn
        self.register_outputs({"arn": self.arn})

    @property
    def annotations(self) -> dict[str, pulumi.Output[str]]:
        return {ROLE_ARN_ANNOTATION: self.arn}
