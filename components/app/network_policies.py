"""The app's NetworkPolicies: default deny, then exactly the flows the app needs.

Enforced by the VPC CNI's policy agent on EKS. Kubelet probes come from the node's IP, which
the agent always admits. A strategy adds its own flows (see `routing.network_policies`).
"""

from __future__ import annotations

from components.app import routing
from components.app.names import (
    APP_PODS,
    NOTIFICATION_LABELS,
    NOTIFICATION_PORT,
    USERMGMT_LABELS,
    USERMGMT_PORT,
)
from components.app.spec import AppSpec
from components.course import MYSQL_PORT, XRAY_PORT
from components.k8s.network_policy import dns_egress, in_namespace, network_policy, ports


def network_policies(spec: AppSpec) -> list[dict]:
    ns = spec.namespace
    usermgmt_pods = {"matchLabels": dict(USERMGMT_LABELS)}
    notification_pods = {"matchLabels": dict(NOTIFICATION_LABELS)}
    return [
        network_policy("default-deny-all", ns, {}, [], []),
        network_policy("allow-dns-egress", ns, {}, None, [dns_egress()]),
        network_policy("allow-xray-egress", ns, APP_PODS, None, [{
            # exactly the labels `xray-service` selects by: the policy agent sees the
            # Service's ClusterIP (it filters before kube-proxy's DNAT), which the policy
            # controller admits only for a Service whose selector this podSelector matches
            # (aws/amazon-network-policy-controller-k8s, getMatchingServiceClusterIPs)
            "to": [in_namespace(spec.xray_namespace, spec.xray_pod_labels)],
            "ports": ports([XRAY_PORT], ("UDP", "TCP"))}]),
        network_policy(
            "usermgmt", ns, usermgmt_pods,
            # the ALB sends to pod IPs (target-type ip) from its public-subnet addresses;
            # without a load balancer nothing else may (kubectl port-forward reaches the pod
            # from inside its own network namespace, where no policy applies)
            [{"from": list(spec.usermgmt_from_peers), "ports": ports([USERMGMT_PORT])}]
            if spec.usermgmt_from_peers else [],
            [{"to": [{"podSelector": notification_pods}], "ports": ports([NOTIFICATION_PORT])},
             # MySQL, reached through the `mysql` ExternalName: RDS in the private subnets, or
             # the in-cluster server's pods
             {"to": list(spec.db_peers), "ports": ports([MYSQL_PORT])}]),
        network_policy(
            "notification", ns, notification_pods,
            [{"from": [{"podSelector": usermgmt_pods}], "ports": ports([NOTIFICATION_PORT])}],
            # the SMTP server: SES's public addresses, which change, or a server in the cluster
            [{"to": list(spec.smtp_peers), "ports": ports(spec.smtp_ports)}]),
        *routing.network_policies(spec),
    ]
