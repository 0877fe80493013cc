"""The app's namespace, Secrets and Services (the course's names, its mistakes fixed)."""

from __future__ import annotations

from typing import Any

from components.app import routing
from components.app.names import (
    DB_SECRET,
    DB_SECRET_KEY,
    MYSQL_SERVICE,
    NOTIFICATION_LABELS,
    NOTIFICATION_PORT,
    NOTIFICATION_SERVICE,
    SMTP_PORT,
    SMTP_SECRET,
    SMTP_SERVICE,
    USERMGMT_HEALTH_PATH,
    USERMGMT_LABELS,
    USERMGMT_PORT,
    USERMGMT_SERVICE,
)
from components.app.spec import AppSpec
from components.course import MYSQL_PORT
from components.k8s.objects import metadata, namespace_object


def namespace(spec: AppSpec) -> dict:
    """The app's namespace, labelled as its canary strategy needs (see `routing`) and as the
    platform asks (on AWS the load balancer controller's readiness gates: a user-management pod
    is ready only once the ALB finds it healthy, so a rollout never removes the last healthy
    target)."""
    return namespace_object(spec.namespace,
                            {**routing.namespace_labels(spec), **spec.namespace_labels})


def secrets(spec: AppSpec) -> list[dict]:
    """The only objects that hold secret values; the pods read them by secretKeyRef."""
    def secret(name: str, data: dict) -> dict:
        return {"apiVersion": "v1", "kind": "Secret",
                "metadata": metadata(name, spec.namespace), "type": "Opaque",
                "stringData": data}

    return [
        secret(DB_SECRET, {DB_SECRET_KEY: spec.db_password}),
        # always present (values may be empty): the notification pods start without SES
        secret(SMTP_SECRET, {"username": spec.smtp_username, "password": spec.smtp_password}),
    ]


def external_services(spec: AppSpec) -> list[dict]:
    """DNS aliases the apps connect to, as the course names them: `mysql` and `smtp-service`
    (on AWS: the RDS endpoint and SES; on a local cluster: Services there)."""
    def external(name: str, target: Any, port: int, port_name: str) -> dict:
        return {
            "apiVersion": "v1", "kind": "Service",
            "metadata": metadata(name, spec.namespace),
            "spec": {
                "type": "ExternalName",
                "externalName": target,
                # MySQL and SMTP speak first from the server: declared TCP so that Istio does
                # not wait for the client to sniff the protocol
                "ports": [{"name": port_name, "port": port, "targetPort": port,
                           "protocol": "TCP", "appProtocol": "tcp"}],
            },
        }

    return [
        external(MYSQL_SERVICE, spec.db_address, MYSQL_PORT, "tcp-mysql"),
        external(SMTP_SERVICE, spec.smtp_host, SMTP_PORT, "tcp-smtp"),
    ]


def http_port(port: int) -> dict:
    # named and typed, so Istio routes it as HTTP
    return {"name": "http", "port": port, "targetPort": port, "protocol": "TCP",
            "appProtocol": "http"}


def notification_service(spec: AppSpec) -> dict:
    """Selects only the app label: the pods of both versions, which is the replica canary."""
    return {
        "apiVersion": "v1", "kind": "Service",
        "metadata": metadata(NOTIFICATION_SERVICE, spec.namespace, NOTIFICATION_LABELS),
        "spec": {"type": "ClusterIP", "selector": dict(NOTIFICATION_LABELS),
                 "ports": [http_port(NOTIFICATION_PORT)]},
    }


def usermgmt_service(spec: AppSpec) -> dict:
    """The Ingress backend; the ALB's health check path is set here, per target group."""
    return {
        "apiVersion": "v1", "kind": "Service",
        "metadata": metadata(USERMGMT_SERVICE, spec.namespace, USERMGMT_LABELS, {
            "alb.ingress.kubernetes.io/healthcheck-path": USERMGMT_HEALTH_PATH}),
        "spec": {"type": "NodePort", "selector": dict(USERMGMT_LABELS),
                 "ports": [http_port(USERMGMT_PORT)]},
    }
