"""The routing of each canary strategy, chosen by `canaryStrategy` in this one place.

- `replicas` (the course's): nothing to add; one ClusterIP Service over both versions' pods,
  so the split follows the pod counts.
- `istio`: sidecars, and a VirtualService with exact weights (`routing_istio`).

The workload builders ask here what a strategy adds to the namespace, the pods and the
NetworkPolicies; `routing_objects` are the strategy's own objects, applied after the rest.
"""

from __future__ import annotations

from components.app import routing_istio
from components.app.spec import AppSpec
from components.k8s.objects import RESTRICTED


def namespace_labels(spec: AppSpec) -> dict[str, str]:
    """Without a mesh the namespace enforces the `restricted` Pod Security Standard."""
    return routing_istio.NAMESPACE_LABELS if spec.istio else RESTRICTED


def pod_annotations(spec: AppSpec) -> dict[str, str]:
    return routing_istio.pod_annotations() if spec.istio else {}


def usermgmt_pod_annotations(spec: AppSpec) -> dict[str, str]:
    return routing_istio.usermgmt_pod_annotations() if spec.istio else {}


def network_policies(spec: AppSpec) -> list[dict]:
    return [routing_istio.sidecar_network_policy(spec)] if spec.istio else []


def routing_objects(spec: AppSpec) -> list[dict]:
    return routing_istio.istio_routing(spec) if spec.istio else []
