"""The AWS Gateway API Controller for Amazon VPC Lattice, for canaryStrategy=lattice.

- Chart `aws-gateway-controller-chart` **v2.1.3** (controller v2.1.3) from its OCI registry
  `oci://public.ecr.aws/aws-application-networking-k8s/aws-gateway-controller-chart` (docs/
  guides/deploy.md of aws/aws-application-networking-k8s at v2.1.3), through the shared
  "chart + service-account role" block. Its own CRDs (TargetGroupPolicy and the rest) come with
  the chart (`crds/`).
- The Gateway API CRDs it needs, **v1.5.0 standard channel**: v2.1.x is built against Gateway
  API v1.5 and not compatible with older CRDs (docs/guides/upgrading-v2-0-x-to-v2-1-y.md), and
  it refuses to start unless Gateway, GatewayClass, HTTPRoute, GRPCRoute and TLSRoute are served
  at v1 (`checkRequiredCRDs` in cmd/aws-application-networking-k8s/main.go; TLSRoute is standard
  from v1.5.0). Applied by the program from the pinned release's `standard-install.yaml`; the
  controller and every Gateway API object depend on them, so `pulumi destroy` removes them last.
- IRSA role with the controller's documented policy (files/controller-installation/
  recommended-inline-policy.json at v2.1.3), kept as it is in `components/policies/`, minus its
  access-log part (`ACCESS_LOG_ACTIONS` and the log-delivery service-linked role): the
  controller calls no S3, CloudWatch Logs or Firehose API itself (no such client in pkg/aws/
  services); VPC Lattice's CreateAccessLogSubscription checks them on the caller, and the
  controller makes one only for an AccessLogPolicy (docs/api-types/access-log-policy.md), which
  this stack never creates. `s3:PutBucketPolicy` on `*` could rewrite any bucket's policy.
- Cluster name, VPC, region and account set explicitly: empty, the controller asks the instance
  metadata service for each (pkg/config/controller_config.go).
- No `defaultServiceNetwork`: the program owns the service network and its VPC association
  (`platform.lattice_network`); the controller only looks it up by the Gateway's name.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components.addons.addon import Addon, AddonArgs, ClusterHandles, HelmChart
from components.k8s.objects import RESTRICTED, namespace_object
from components.partition import in_partition

VERSION = "v2.1.3"
CHART = HelmChart(
    chart="oci://public.ecr.aws/aws-application-networking-k8s/aws-gateway-controller-chart",
    version=VERSION)  # the chart's own version carries the "v" (its Chart.yaml)
GATEWAY_API_VERSION = "v1.5.0"
GATEWAY_API_CRDS = ("https://github.com/kubernetes-sigs/gateway-api/releases/download/"
                    f"{GATEWAY_API_VERSION}/standard-install.yaml")
POLICY_FILE = (Path(__file__).resolve().parent.parent / "policies"
               / f"aws-application-networking-k8s-{VERSION}-recommended-inline-policy.json")


# what only access logs (an AccessLogPolicy) need, taken out of the vendored policy
ACCESS_LOG_ACTIONS = (
    "logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:DescribeLogGroups",
    "logs:PutResourcePolicy", "logs:DescribeResourcePolicies", "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery", "logs:ListLogDeliveries", "firehose:TagDeliveryStream",
    "s3:GetBucketPolicy", "s3:PutBucketPolicy",
)
LOG_DELIVERY_SERVICE = "delivery.logs.amazonaws.com"


def controller_policy(vendored: str, partition: str = "aws") -> dict:
    """The vendored policy without its access-log actions and log-delivery statement, its ARNs
    in the stack's partition (the controller publishes one file, for the commercial one)."""
    document = json.loads(in_partition(vendored, partition))
    statements = []
    for statement in document["Statement"]:
        if LOG_DELIVERY_SERVICE in json.dumps(statement):
            continue
        actions = statement["Action"]
        if isinstance(actions, list):
            statement = {**statement, "Action": [a for a in actions
                                                 if a not in ACCESS_LOG_ACTIONS]}
        statements.append(statement)
    return {**document, "Statement": statements}


@dataclass(frozen=True)
class GatewayApiControllerProps:
    """Defaults: the docs' namespace and service account, the chart's two replicas (leader
    election), info logs. The chart's pods meet the `restricted` Pod Security Standard."""

    namespace: str = "aws-application-networking-system"
    namespace_labels: dict[str, str] = field(default_factory=lambda: dict(RESTRICTED))
    service_account: str = "gateway-api-controller"
    replicas: int = 2
    log_level: str = "info"
    chart: HelmChart = CHART
    gateway_api_crds: str = GATEWAY_API_CRDS


@dataclass(frozen=True)
class GatewayApiControllerArgs:
    account_id: pulumi.Input[str]
    # the service network and its VPC association: the controller is removed before them
    depends_on: Sequence[pulumi.Resource] = field(default_factory=tuple)


def chart_values(cluster: ClusterHandles, account_id: pulumi.Input[str],
                 props: GatewayApiControllerProps) -> dict:
    """Keys as `helm/templates/deployment.yaml` of the chart (v2.1.3) reads them."""
    return {
        "clusterName": cluster.name,
        "clusterVpcId": cluster.vpc_id,
        "awsRegion": cluster.region,
        "awsAccountId": account_id,
        "log": {"level": props.log_level},
        "deployment": {"replicas": props.replicas},
    }


class GatewayApiController(pulumi.ComponentResource):
    """The Gateway API CRDs, then the controller (its namespace, role and chart)."""

    crds: k8s.yaml.v2.ConfigFile
    addon: Addon

    def __init__(self, name: str, cluster: ClusterHandles, args: GatewayApiControllerArgs,
                 props: GatewayApiControllerProps = GatewayApiControllerProps(),
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("eks-canary:addons:GatewayApiController", name, None, opts)
        self.crds = k8s.yaml.v2.ConfigFile(
            f"{name}-gateway-api-crds", file=props.gateway_api_crds,
            opts=pulumi.ResourceOptions(parent=self, provider=cluster.provider))
        self.addon = Addon(
            name,
            AddonArgs(cluster=cluster, namespace=props.namespace,
                      service_account=props.service_account,
                      policy_document=json.dumps(
                          controller_policy(POLICY_FILE.read_text(), cluster.partition), indent=2),
                      chart=props.chart, values=chart_values(cluster, args.account_id, props),
                      namespace_labels=props.namespace_labels,
                      depends_on=[self.crds, *args.depends_on]),
            opts=pulumi.ResourceOptions(parent=self))
        self.register_outputs({"roleArn": self.addon.role.arn})

    @property
    def installed(self) -> list[pulumi.Resource]:
        """What Gateway API objects wait for, and outlive on destroy: the CRDs, the controller."""
        return [self.crds, *self.addon.installed]


def controller_objects(props: GatewayApiControllerProps) -> list[dict]:
    """The add-on's own objects besides the chart (what `canaryctl render` writes): its
    namespace, as `Addon` makes it."""
    return [namespace_object(props.namespace, props.namespace_labels)]


def account_id() -> pulumi.Output[str]:
    """The stack's AWS account, for the controller's `AWS_ACCOUNT_ID`."""
    return aws.get_caller_identity_output().account_id
