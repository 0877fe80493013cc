"""canaryStrategy=istio: exact weights per request by an Istio VirtualService.

Sidecars are injected into the app's namespace; a DestinationRule names the versions as
subsets and a mesh VirtualService sends exactly `canaryWeight` percent to V2. The pods hold
their start until their proxy runs, and a NetworkPolicy admits the sidecar's ports and istiod.
"""

from __future__ import annotations

from components.app.names import APP_PODS, NOTIFICATION_PORT, NOTIFICATION_SERVICE, VERSIONS
from components.app.spec import AppSpec
from components.course import (
    ISTIO_NAMESPACE,
    ISTIO_SIDECAR_PORTS,
    ISTIOD_LABELS,
    ISTIOD_PORTS,
    MYSQL_PORT,
)
from components.k8s.network_policy import in_namespace, network_policy, ports
from components.k8s.objects import metadata, service_host

# Istio's sidecar init container needs NET_ADMIN, so the `restricted` Pod Security Standard is
# only warned about in a namespace with injection
NAMESPACE_LABELS = {"istio-injection": "enabled", "pod-security.kubernetes.io/warn": "restricted"}


def pod_annotations() -> dict[str, str]:
    # the app starts only once its proxy is ready, so its first calls are not refused
    return {"proxy.istio.io/config": '{"holdApplicationUntilProxyStarts": true}'}


def usermgmt_pod_annotations() -> dict[str, str]:
    # MySQL traffic bypasses the proxy: RDS is outside the mesh, and MySQL speaks first,
    # which protocol sniffing would stall. With native sidecars (the default of Istio 1.27+
    # on Kubernetes >= 1.33) the proxy runs before init containers, so init-db's
    # `nc mysql 3306` would otherwise go through it too.
    return {**pod_annotations(),
            "traffic.sidecar.istio.io/excludeOutboundPorts": str(MYSQL_PORT)}


def sidecar_network_policy(spec: AppSpec) -> dict:
    return network_policy(
        "allow-istio-sidecar", spec.namespace, APP_PODS,
        # the sidecar's status port (probes are rewritten to 15020) and health port
        # (an empty `from` would admit every source: with no node peers, rely on the policy
        # engine admitting the pod's own node, as local ones do)
        [{"from": list(spec.node_peers), "ports": ports(ISTIO_SIDECAR_PORTS)}]
        if spec.node_peers else [],
        [{"to": [in_namespace(ISTIO_NAMESPACE, ISTIOD_LABELS)], "ports": ports(ISTIOD_PORTS)}])


def notification_host(namespace_name: str) -> str:
    return service_host(NOTIFICATION_SERVICE, namespace_name)


def istio_routing(spec: AppSpec) -> list[dict]:
    """Exact weights per request: subsets by version label, a mesh VirtualService over them."""
    weight = spec.canary_weight
    if not 0 <= weight <= 100:
        raise ValueError(f"canary_weight must be 0..100, got {weight}")
    host = notification_host(spec.namespace)
    destination_rule = {
        "apiVersion": "networking.istio.io/v1",
        "kind": "DestinationRule",
        "metadata": metadata("notification", spec.namespace),
        "spec": {"host": host,
                 "subsets": [{"name": v, "labels": {"version": v}} for v in VERSIONS]},
    }
    virtual_service = {
        "apiVersion": "networking.istio.io/v1",
        "kind": "VirtualService",
        "metadata": metadata("notification", spec.namespace),
        "spec": {
            "hosts": [host],  # no gateways: applies to calls inside the mesh
            "http": [{"route": [
                # both destinations stay, also at weight 0: Istio accepts it
                {"destination": {"host": host, "subset": "v1",
                                 "port": {"number": NOTIFICATION_PORT}},
                 "weight": 100 - weight},
                {"destination": {"host": host, "subset": "v2",
                                 "port": {"number": NOTIFICATION_PORT}},
                 "weight": weight},
            ]}],
        },
    }
    return [destination_rule, virtual_service]
