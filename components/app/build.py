"""All of the app's objects, in apply order: what the component registers and render writes."""

from __future__ import annotations

from components.app import routing
from components.app.disruption import budgets
from components.app.ingress import ingress
from components.app.names import VERSIONS
from components.app.network_policies import network_policies
from components.app.services import (
    external_services,
    namespace,
    notification_service,
    secrets,
    usermgmt_service,
)
from components.app.spec import AppSpec
from components.app.workloads import notification, usermgmt


def build_app(spec: AppSpec) -> list[dict]:
    """All of the app's objects, in apply order; the strategy's routing objects come last."""
    return [
        namespace(spec),
        *secrets(spec),
        *external_services(spec),
        notification_service(spec),
        usermgmt_service(spec),
        usermgmt(spec),
        *(notification(spec, version) for version in VERSIONS),
        *budgets(spec),
        *([ingress(spec)] if spec.load_balancer else []),
        *network_policies(spec),
        *routing.routing_objects(spec),
    ]
