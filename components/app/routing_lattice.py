"""canaryStrategy=lattice: exact weights per request by Amazon VPC Lattice.

The AWS Gateway API Controller (add-on `gateway_api_controller`) turns a Gateway API HTTPRoute
into a VPC Lattice service whose listener rule forwards to one target group per backend, with
the route's weights; Lattice splits every request by them, with no sidecar in the pods. App Mesh,
the course's second "best way", reached end of support on 2026-09-30; AWS points EKS users here.

Behaviour followed, from aws/aws-application-networking-k8s at tag v2.1.3:
- a Gateway points to the service network *of the same name* (docs/api-types/gateway.md); the
  controller never creates or deletes it (pkg/controllers/gateway_controller.go): the platform
  layer does;
- the Lattice listener takes the Gateway listener's port (pkg/gateway/model_build_listener.go),
  so user management calls `http://<route's Lattice DNS name>:80`;
- backendRef weights go unchanged into the rule's weighted target groups
  (pkg/gateway/model_build_rule.go; Lattice accepts 0..999);
- the controller writes the service's DNS name into the route's annotation
  `application-networking.k8s.aws/lattice-assigned-domain-name` (pkg/controllers/
  route_controller.go); `pulumi.com/waitFor` holds the route's creation until it is there
  (pulumi-kubernetes provider, pkg/metadata/overrides.go), and the route's output then carries it;
- a Lattice service is named `<route>-<namespace>` by default, unique per account and region,
  so the route names it after the stack (`service-name-override`, docs/guides/
  service-name-override.md: 3-40 characters, set at creation only);
- the controller's mutating webhook (chart templates/webhook.yaml, `mpod.gwc.k8s.aws`,
  failurePolicy Fail) gives each new pod of a namespace labelled
  `application-networking.k8s.aws/pod-readiness-gate-inject: enabled` a readiness gate that turns
  true once its Lattice target is healthy (docs/guides/pod-readiness-gates.md), so a rollout keeps
  a version's last targets until new ones pass Lattice's health check;
- a changed `service-name-override` is not a rename: the controller makes a second Lattice service
  and the first stays in the service network, which can then not be deleted; the route is
  replaced instead (deleted first, `REPLACE_ON_CHANGES`);
- target groups health-check `/` by default (pkg/deploy/lattice/target_group_manager.go), which
  the notification app answers with 404: a TargetGroupPolicy per version points the check at
  the app's own health path.
"""

from __future__ import annotations

from typing import Any

from components.app.names import (
    NOTIFICATION_HEALTH_PATH,
    NOTIFICATION_LABELS,
    NOTIFICATION_PORT,
    USERMGMT_LABELS,
    VERSIONS,
)
from components.app.spec import AppSpec
from components.k8s.network_policy import network_policy, ports
from components.k8s.objects import metadata
from components.naming import LATTICE_SERVICE_MAX, shorten

GATEWAY_API = "gateway.networking.k8s.io/v1"
GATEWAY_CLASS = "amazon-vpc-lattice"
CONTROLLER_NAME = "application-networking.k8s.aws/gateway-api-controller"
LISTENER_NAME = "http"
LISTENER_PORT = 80  # the Lattice service's listener, where user management calls
ROUTE_NAME = "notification"
DOMAIN_ANNOTATION = "application-networking.k8s.aws/lattice-assigned-domain-name"
SERVICE_NAME_ANNOTATION = "application-networking.k8s.aws/service-name-override"
READINESS_GATE_INJECT = {"application-networking.k8s.aws/pod-readiness-gate-inject": "enabled"}
# Pulumi property paths whose change replaces the route (delete, then create)
REPLACE_ON_CHANGES = [f'metadata.annotations["{SERVICE_NAME_ANNOTATION}"]']
# how long `up` waits for the controller to write the route's DNS name (pulumi-kubernetes'
# own default for a resource is 10 minutes; set here so it is visible and documented)
ROUTE_WAIT_SECONDS = 600
# RFC 9535 bracket notation: the annotation key holds '.' and '/'
WAIT_FOR_DOMAIN = f"jsonpath={{.metadata.annotations['{DOMAIN_ANNOTATION}']}}"
# what `canaryctl render` shows for values that exist only after deployment
DOCUMENTED_CIDRS = ("169.254.171.0/24",)  # the link-local range the Lattice user guide names


def version_service_name(version: str) -> str:
    return f"notification-{version}"


def lattice_service_name(lattice_name: str) -> str:
    """The Lattice service's name: the stack's, within the 40 characters Lattice allows (a
    longer one is cut and ends in a hash of all of it, see `components.naming`)."""
    return shorten(f"{lattice_name}-{ROUTE_NAME}", LATTICE_SERVICE_MAX)


def route_weights(weight: int) -> dict[str, int]:
    """Backend weights per version: exactly 100 - W and W (Lattice takes 0..999)."""
    if not 0 <= weight <= 100:
        raise ValueError(f"canary_weight must be 0..100, got {weight}")
    return {"v1": 100 - weight, "v2": weight}


def gateway_class() -> dict:
    return {"apiVersion": GATEWAY_API, "kind": "GatewayClass",
            "metadata": metadata(GATEWAY_CLASS),
            "spec": {"controllerName": CONTROLLER_NAME}}


def gateway(spec: AppSpec) -> dict:
    """Named after the service network the platform made: that name is the binding."""
    if not spec.lattice_name:
        raise ValueError("the lattice strategy needs the service network's name")
    return {"apiVersion": GATEWAY_API, "kind": "Gateway",
            "metadata": metadata(spec.lattice_name, spec.namespace),
            "spec": {"gatewayClassName": GATEWAY_CLASS,
                     "listeners": [{"name": LISTENER_NAME, "protocol": "HTTP",
                                    "port": LISTENER_PORT}]}}


def version_services(spec: AppSpec) -> list[dict]:
    """One ClusterIP Service per version: each becomes a Lattice target group of pod IPs."""
    def service(version: str) -> dict:
        labels = {**NOTIFICATION_LABELS, "version": version}
        return {"apiVersion": "v1", "kind": "Service",
                "metadata": metadata(version_service_name(version), spec.namespace, labels),
                "spec": {"type": "ClusterIP", "selector": labels,
                         "ports": [{"name": "http", "port": NOTIFICATION_PORT,
                                    "targetPort": NOTIFICATION_PORT, "protocol": "TCP",
                                    "appProtocol": "http"}]}}

    return [service(version) for version in VERSIONS]


def target_group_policies(spec: AppSpec) -> list[dict]:
    """Health checks on the notification app's health path (the default `/` answers 404)."""
    def policy(version: str) -> dict:
        return {
            "apiVersion": "application-networking.k8s.aws/v1alpha1",
            "kind": "TargetGroupPolicy",
            "metadata": metadata(version_service_name(version), spec.namespace),
            "spec": {
                "targetRef": {"group": "", "kind": "Service",
                              "name": version_service_name(version)},
                # a new pod takes calls after 2 passed checks 10 s apart, not Lattice's default
                # 5 checks 30 s apart
                "healthCheck": {"enabled": True, "protocol": "HTTP", "protocolVersion": "HTTP1",
                                "path": NOTIFICATION_HEALTH_PATH, "statusMatch": "200",
                                "intervalSeconds": 10, "timeoutSeconds": 5,
                                "healthyThresholdCount": 2, "unhealthyThresholdCount": 2},
            },
        }

    return [policy(version) for version in VERSIONS]


def http_route(spec: AppSpec) -> dict:
    """The canary: one rule, the two versions' Services weighted exactly 100 - W and W."""
    weights = route_weights(spec.canary_weight)
    return {
        "apiVersion": GATEWAY_API, "kind": "HTTPRoute",
        "metadata": metadata(ROUTE_NAME, spec.namespace, annotations={
            SERVICE_NAME_ANNOTATION: lattice_service_name(spec.lattice_name),
            "pulumi.com/waitFor": WAIT_FOR_DOMAIN,
            "pulumi.com/timeoutSeconds": str(ROUTE_WAIT_SECONDS),
        }),
        "spec": {
            "parentRefs": [{"name": spec.lattice_name, "sectionName": LISTENER_NAME}],
            "rules": [{"backendRefs": [
                # both backends stay, also at weight 0 (no traffic, and no pods either)
                {"name": version_service_name(v), "kind": "Service", "port": NOTIFICATION_PORT,
                 "weight": weights[v]} for v in VERSIONS]}],
        },
    }


def lattice_routing(spec: AppSpec) -> list[dict]:
    """The strategy's objects in apply order; the route last, as it waits for its DNS name."""
    return [gateway_class(), gateway(spec), *version_services(spec),
            *target_group_policies(spec), http_route(spec)]


def network_policies(spec: AppSpec) -> list[dict]:
    """User management reaches Lattice on the listener port; Lattice (calls and health checks)
    reaches the notification pods. Lattice's addresses are its managed prefix list's entries."""
    usermgmt_pods = {"matchLabels": dict(USERMGMT_LABELS)}
    notification_pods = {"matchLabels": dict(NOTIFICATION_LABELS)}
    return [
        network_policy("usermgmt-to-vpc-lattice", spec.namespace, usermgmt_pods, None,
                       [{"to": spec.lattice_peers, "ports": ports([LISTENER_PORT])}]),
        network_policy("vpc-lattice-to-notification", spec.namespace, notification_pods,
                       [{"from": spec.lattice_peers, "ports": ports([NOTIFICATION_PORT])}], None),
    ]


def notification_address(spec: AppSpec) -> tuple[Any, int]:
    """Where user management calls notification: the route's Lattice DNS name, port 80."""
    if spec.notification_host is None:
        raise ValueError("the lattice strategy needs the HTTPRoute's Lattice DNS name")
    return spec.notification_host, LISTENER_PORT


def assigned_domain_name(route_metadata: dict) -> str | None:
    """The controller's DNS-name annotation on a route, if it has written it yet."""
    return (route_metadata.get("annotations") or {}).get(DOMAIN_ANNOTATION) or None


def domain_name(route_metadata: dict) -> str:
    """The Lattice DNS name in a route's (live) metadata, as the controller wrote it. Always
    there once the route is created (`pulumi.com/waitFor`); a preview of an update sees it too,
    as its server-side dry run returns the live object. A preview of its creation has only the
    inputs: the app passes an unknown host then (`component._route_host`)."""
    name = assigned_domain_name(route_metadata)
    if not name:
        raise ValueError(f"the HTTPRoute has no {DOMAIN_ANNOTATION} annotation: is the AWS "
                         "Gateway API Controller running, and the service network there?")
    return name
