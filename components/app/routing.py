"""The routing of each canary strategy, chosen by `canaryStrategy` in this one place.

- `replicas` (the course's): nothing to add; one ClusterIP Service over both versions' pods,
  so the split follows the pod counts.
- `istio`: sidecars, and a VirtualService with exact weights (`routing_istio`).
- `lattice`: a Gateway API HTTPRoute with exact weights, which the AWS Gateway API Controller
  makes a VPC Lattice service; user management calls that service (`routing_lattice`).

The workload builders ask here what a strategy adds to the namespace, the pods and the
NetworkPolicies, and where user management calls notification; `routing_objects` are the
strategy's own objects, applied after the rest.
"""

from __future__ import annotations

from typing import Any

from components.app import routing_istio, routing_lattice
from components.app.names import NOTIFICATION_PORT, NOTIFICATION_SERVICE
from components.app.spec import AppSpec
from components.k8s.objects import RESTRICTED


def namespace_labels(spec: AppSpec) -> dict[str, str]:
    """Without a mesh the namespace enforces the `restricted` Pod Security Standard; with
    Lattice it also asks the controller for readiness gates on its pods."""
    if spec.istio:
        return routing_istio.NAMESPACE_LABELS
    if spec.lattice:
        return {**RESTRICTED, **routing_lattice.READINESS_GATE_INJECT}
    return RESTRICTED


def replace_on_changes(obj: dict) -> list[str]:
    """Property paths of a routing object whose change must replace it, not update it."""
    if obj["kind"] == "HTTPRoute" and obj["apiVersion"] == routing_lattice.GATEWAY_API:
        return list(routing_lattice.REPLACE_ON_CHANGES)
    return []


def pod_annotations(spec: AppSpec) -> dict[str, str]:
    return routing_istio.pod_annotations() if spec.istio else {}


def usermgmt_pod_annotations(spec: AppSpec) -> dict[str, str]:
    return routing_istio.usermgmt_pod_annotations() if spec.istio else {}


def network_policies(spec: AppSpec) -> list[dict]:
    if spec.istio:
        return [routing_istio.sidecar_network_policy(spec)]
    if spec.lattice:
        return routing_lattice.network_policies(spec)
    return []


def routing_objects(spec: AppSpec) -> list[dict]:
    if spec.istio:
        return routing_istio.istio_routing(spec)
    if spec.lattice:
        return routing_lattice.lattice_routing(spec)
    return []


def address_route(spec: AppSpec) -> dict | None:
    """The routing object whose live state holds user management's notification host (the
    HTTPRoute, with its Lattice DNS name), or None when the address is fixed. The app registers
    it (with the namespace and the other routing objects) before it builds user management."""
    return routing_lattice.http_route(spec) if spec.lattice else None


def route_address(route_metadata: dict) -> str:
    """The notification host in the live metadata of `address_route`'s object."""
    return routing_lattice.domain_name(route_metadata)


def has_route_address(route_metadata: dict) -> bool:
    """Whether the controller has written the notification host into that metadata yet."""
    return routing_lattice.assigned_domain_name(route_metadata) is not None


def notification_address(spec: AppSpec) -> tuple[Any, int]:
    """NOTIFICATION_SERVICE_HOST and _PORT of user management."""
    if spec.lattice:
        return routing_lattice.notification_address(spec)
    # the course's ClusterIP Service; with Istio the mesh routes calls to it by version
    return NOTIFICATION_SERVICE, NOTIFICATION_PORT
