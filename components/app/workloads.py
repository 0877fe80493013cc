"""The course's two apps as Deployments: user management, and notification V1 and V2.

The canary weight reaches them only through `spec.replicas` of the notification Deployments:
a weight change rescales pods and never rolls them.
"""

from __future__ import annotations

from dataclasses import replace

from components.app import routing
from components.app.disruption import spread
from components.app.jvm import JvmMemory
from components.app.names import (
    DB_SECRET,
    DB_SECRET_KEY,
    MYSQL_SERVICE,
    NOTIFICATION_CONTAINER,
    NOTIFICATION_HEALTH_PATH,
    NOTIFICATION_PORT,
    SMTP_SECRET,
    SMTP_SERVICE,
    TRACING_NAMES,
    USERMGMT_CONTAINER,
    USERMGMT_DEPLOYMENT,
    USERMGMT_HEALTH_PATH,
    USERMGMT_LABELS,
    USERMGMT_PORT,
    USERMGMT_TRACING_NAME,
    notification_labels,
    notification_name,
)
from components.app.pods import (
    APP_SKIPS,
    INIT_IMAGE,
    JAVA_MEMORY,
    deployment,
    java_container,
    pod_spec,
    secret_env,
    xray_env,
)
from components.app.spec import AppSpec
from components.course import DB_NAME, DB_USERNAME, MYSQL_PORT
from components.k8s.pods import container_security_context, resources


def java_memory(spec: AppSpec) -> JvmMemory:
    """The course apps' memory: the JVM's bounds always; the request as the platform asks."""
    return replace(JAVA_MEMORY, request_override_mib=spec.java_memory_request_mib)


def usermgmt(spec: AppSpec) -> dict:
    """User management: waits for MySQL, then serves the public API and calls notification."""
    notification_host, notification_port = routing.notification_address(spec)
    env = [
        {"name": "DB_HOSTNAME", "value": MYSQL_SERVICE},
        {"name": "DB_PORT", "value": str(MYSQL_PORT)},
        {"name": "DB_NAME", "value": DB_NAME},
        {"name": "DB_USERNAME", "value": DB_USERNAME},
        secret_env("DB_PASSWORD", DB_SECRET, DB_SECRET_KEY),
        {"name": "NOTIFICATION_SERVICE_HOST", "value": notification_host},
        {"name": "NOTIFICATION_SERVICE_PORT", "value": str(notification_port)},
        *xray_env(spec, USERMGMT_TRACING_NAME),
    ]
    init_db = {
        "name": "init-db",
        "image": INIT_IMAGE,
        "imagePullPolicy": "IfNotPresent",
        "command": ["sh", "-c",
                    f"until nc -z {MYSQL_SERVICE} {MYSQL_PORT}; "
                    "do echo waiting for mysql; sleep 2; done"],
        "resources": resources("10m", "16Mi", "100m", "32Mi"),
        "securityContext": container_security_context(),
    }
    container = java_container(USERMGMT_CONTAINER, spec.usermgmt_image, USERMGMT_PORT, env,
                               USERMGMT_HEALTH_PATH, java_memory(spec))
    return deployment(spec, USERMGMT_DEPLOYMENT, USERMGMT_LABELS, spec.usermgmt_replicas,
                      pod_spec([container], [init_db], spread(USERMGMT_LABELS)),
                      routing.usermgmt_pod_annotations(spec), APP_SKIPS)


def notification(spec: AppSpec, version: str) -> dict:
    """Notification V1 or V2: same app, its own image, tracing name and pod count."""
    labels = notification_labels(version)
    env = [
        {"name": "AWS_MAIL_SERVER_HOST", "value": SMTP_SERVICE},
        secret_env("AWS_MAIL_SERVER_USERNAME", SMTP_SECRET, "username"),
        secret_env("AWS_MAIL_SERVER_PASSWORD", SMTP_SECRET, "password"),
        {"name": "AWS_MAIL_SERVER_FROM_ADDRESS", "value": spec.smtp_from_address},
        *xray_env(spec, TRACING_NAMES[version]),
    ]
    container = java_container(NOTIFICATION_CONTAINER, spec.image(version), NOTIFICATION_PORT,
                               env, NOTIFICATION_HEALTH_PATH, java_memory(spec))
    return deployment(spec, notification_name(version), labels,
                      spec.replicas(version), pod_spec([container]),
                      routing.pod_annotations(spec), APP_SKIPS)
