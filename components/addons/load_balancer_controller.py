"""AWS Load Balancer Controller: turns the app's Ingress into an ALB.

Chart `aws-load-balancer-controller` 3.5.0 (controller v3.5.0) from the official eks-charts
repository; its IAM policy is the controller's own `docs/install/iam_policy.json` at tag
v3.5.0 (for the China and GovCloud partitions its `iam_policy_cn.json` and
`iam_policy_us-gov.json`), kept in `components/policies/` (never fetched at run time).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pulumi

from components.addons.addon import Addon, AddonArgs, ClusterHandles, HelmChart

CHART = HelmChart(chart="aws-load-balancer-controller", version="3.5.0",
                  repo="https://aws.github.io/eks-charts")
# Namespace label that turns on the controller's pod readiness gates there: its pod webhook
# (chart templates/webhook.yaml, mpod.elbv2.k8s.aws) selects namespaces by it and adds a gate to
# each new pod behind an ip-target target group; the pod is ready only once the ALB finds it
# healthy (controller docs/deploy/pod_readiness_gate.md at v3.5.0)
READINESS_GATE_INJECT = {"elbv2.k8s.aws/pod-readiness-gate-inject": "enabled"}
POLICY_DIR = Path(__file__).resolve().parent.parent / "policies"
# The controller's own policy per partition (docs/install/ at tag v3.5.0): the China and
# GovCloud files differ from the commercial one in more than their ARNs
POLICY_FILES = {"aws": "iam_policy.json", "aws-cn": "iam_policy_cn.json",
                "aws-us-gov": "iam_policy_us-gov.json"}
POLICY_FILE = POLICY_DIR / "aws-load-balancer-controller-v3.5.0-iam_policy.json"


def policy_file(partition: str) -> Path:
    """The vendored policy file of the controller for a partition."""
    if partition not in POLICY_FILES:
        raise ValueError(f"no load balancer controller policy for partition {partition!r}")
    return POLICY_DIR / f"aws-load-balancer-controller-v3.5.0-{POLICY_FILES[partition]}"


@dataclass(frozen=True)
class LoadBalancerControllerProps:
    """Defaults: kube-system, the chart's service account name, two replicas (the chart's
    default, spread over nodes by the chart's preferred pod anti-affinity) with a
    PodDisruptionBudget of one unavailable pod, so a node drain evicts them one at a time and
    the admission webhooks always keep an endpoint. Replicas alone do not do that: a drain
    may evict both at once when no budget exists, and the chart makes none by default."""

    namespace: str = "kube-system"
    service_account: str = "aws-load-balancer-controller"
    replicas: int = 2
    chart: HelmChart = CHART


def chart_values(cluster: ClusterHandles, props: LoadBalancerControllerProps) -> dict:
    return {
        "clusterName": cluster.name,
        # region and VPC set explicitly: the controller then never depends on the instance
        # metadata service (and its IMDSv2 hop limit) to find them
        "region": cluster.region,
        "vpcId": cluster.vpc_id,
        "replicaCount": props.replicas,
        # chart 3.5.0 templates/pdb.yaml: rendered only if this is set and replicaCount > 1
        "podDisruptionBudget": {"maxUnavailable": 1},
        # reuse the webhook's certificate on upgrades instead of regenerating it each time
        "keepTLSSecret": True,
        # the Service mutating webhook (failurePolicy Fail) only serves `type: LoadBalancer`
        # Services, which this stack has none of; off, it cannot block other charts' Services
        # while the controller is not ready (kubernetes-sigs/aws-load-balancer-controller#4140)
        "enableServiceMutatorWebhook": False,
    }


def load_balancer_controller(cluster: ClusterHandles,
                             props: LoadBalancerControllerProps = LoadBalancerControllerProps(),
                             opts: pulumi.ResourceOptions | None = None) -> Addon:
    return Addon(
        "aws-load-balancer-controller",
        AddonArgs(cluster=cluster, namespace=props.namespace,
                  service_account=props.service_account,
                  policy_document=policy_file(cluster.partition).read_text(),
                  chart=props.chart, values=chart_values(cluster, props)),
        opts=opts)
