"""`target: local`: an SMTP sink with a web UI (Mailpit), where SES is on AWS.

The course's notification app (03-notifications-service, `MailConfig` and
application.properties) sends through `AWS_MAIL_SERVER_HOST` on port 587 (fixed), with
`mail.smtp.auth=true` and `mail.smtp.starttls.enable=true` but not `starttls.required`, using
JavaMail 1.4.7. That JavaMail (SMTPTransport.protocolConnect) goes on in plain text when the
server offers no STARTTLS, and skips authentication when it offers no AUTH, provided a user and
password are set (it refuses to connect without them: the local platform gives placeholders).
Mailpit offers neither unless configured to, so the mails arrive as they are: creating a user
(`POST /usermgmt/user`) sends one, which Mailpit's web UI shows.

Mailpit (axllent/mailpit): SMTP on 1025, web UI and API on 8025 (`/livez`, `/readyz`), its
database a temporary SQLite file under /tmp. Its image sets no USER: the pod sets one.
"""

from __future__ import annotations

from collections.abc import Sequence

from components.k8s.checkov import SKIP_PULL_POLICY, checkov_skip_annotations
from components.k8s.network_policy import network_policy, ports
from components.k8s.objects import RESTRICTED, metadata, namespace_object, service_host
from components.k8s.pods import (
    container_security_context,
    http_probe,
    resources,
    single_pod_deployment,
)

MAILPIT_IMAGE = "axllent/mailpit:v1.30.5"  # 2026-07-20; amd64 and arm64
NAME = "mailpit"
LABELS = {"app": "mailpit"}
SMTP_PORT = 1025  # Mailpit's
APP_SMTP_PORT = 587  # the port the course's app sends to (fixed in its config)
UI_PORT = 8025

SKIP_IMAGE_DIGEST = (
    "CKV_K8S_43",
    "Mailpit is pinned by version tag; digests differ per architecture",
)


def mail_host(namespace: str) -> str:
    """The Service's DNS name, which the app's `smtp-service` ExternalName points at."""
    return service_host(NAME, namespace)


def mail_objects(namespace: str, client_peers: Sequence[dict],
                 image: str = MAILPIT_IMAGE) -> list[dict]:
    """Namespace, Deployment, Service (587 -> 1025, UI 8025) and NetworkPolicy."""
    container = {
        "name": NAME,
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        # no reverse DNS of each SMTP client before the greeting (internal/smtpd/smtpd.go): the
        # policy admits no DNS, and JavaMail 1.4.7 waits with no read timeout
        "env": [{"name": "MP_SMTP_DISABLE_RDNS", "value": "true"}],
        "ports": [{"name": "smtp", "containerPort": SMTP_PORT, "protocol": "TCP"},
                  {"name": "http", "containerPort": UI_PORT, "protocol": "TCP"}],
        "resources": resources("10m", "32Mi", "200m", "128Mi"),
        "readinessProbe": http_probe("/readyz", UI_PORT, initial_delay=2),
        "livenessProbe": http_probe("/livez", UI_PORT, initial_delay=5),
        "securityContext": container_security_context(),
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
    }
    deployment = single_pod_deployment(
        NAME, namespace, LABELS, container,
        checkov_skip_annotations(SKIP_IMAGE_DIGEST, SKIP_PULL_POLICY),
        [{"name": "tmp", "emptyDir": {"sizeLimit": "256Mi"}}])
    service = {
        "apiVersion": "v1", "kind": "Service", "metadata": metadata(NAME, namespace, LABELS),
        "spec": {"type": "ClusterIP", "selector": dict(LABELS), "ports": [
            {"name": "smtp", "port": APP_SMTP_PORT, "targetPort": SMTP_PORT, "protocol": "TCP",
             "appProtocol": "tcp"},
            {"name": "http", "port": UI_PORT, "targetPort": UI_PORT, "protocol": "TCP",
             "appProtocol": "http"}]},
    }
    # the notification pods send on 1025 (policies see the pod's port, after the Service's
    # translation); the UI is reached by port-forward, inside the pod, where no policy applies
    policy = network_policy(NAME, namespace, {"matchLabels": dict(LABELS)},
                            [{"from": list(client_peers), "ports": ports([SMTP_PORT])}], [])
    return [namespace_object(namespace, RESTRICTED), deployment, service, policy]
