"""NetworkPolicy primitives, as plain dicts (enforced by the VPC CNI's policy agent on EKS)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from components.k8s.objects import metadata


def ports(numbers: Iterable[int], protocols: Iterable[str] = ("TCP",)) -> list[dict]:
    return [{"protocol": protocol, "port": number} for number in numbers for protocol in protocols]


def ip_blocks(cidrs: Iterable[str]) -> list[dict]:
    """NetworkPolicy peers for address ranges outside the cluster."""
    return [{"ipBlock": {"cidr": cidr}} for cidr in cidrs]


def in_namespace(name: str, pod_labels: Mapping[str, str]) -> dict:
    return {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": name}},
            "podSelector": {"matchLabels": dict(pod_labels)}}


def dns_egress() -> dict:
    """Egress to the cluster DNS (kube-dns pods in kube-system), UDP and TCP 53."""
    return {"to": [in_namespace("kube-system", {"k8s-app": "kube-dns"})],
            "ports": ports([53], ("UDP", "TCP"))}


def network_policy(name: str, namespace: str, pod_selector: dict,
                   ingress_rules: list | None, egress_rules: list | None) -> dict:
    """A policy for the selected pods; `None` leaves a direction unrestricted, `[]` denies it."""
    body: dict[str, Any] = {"podSelector": pod_selector, "policyTypes": []}
    if ingress_rules is not None:
        body["policyTypes"].append("Ingress")
        body["ingress"] = ingress_rules
    if egress_rules is not None:
        body["policyTypes"].append("Egress")
        body["egress"] = egress_rules
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": metadata(name, namespace), "spec": body}
