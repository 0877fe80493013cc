"""The course's names, labels and ports of the app, as the course deploys them."""

from __future__ import annotations

USERMGMT_DEPLOYMENT = "usermgmt-microservice"
USERMGMT_CONTAINER = "usermgmt-restapp"
USERMGMT_LABELS = {"app": "usermgmt-restapp"}
USERMGMT_PORT = 8095
USERMGMT_SERVICE = "usermgmt-restapp-nodeport-service"
USERMGMT_HEALTH_PATH = "/usermgmt/health-status"

NOTIFICATION_CONTAINER = "notification-service"
NOTIFICATION_LABELS = {"app": "notification-restapp"}
NOTIFICATION_PORT = 8096
NOTIFICATION_SERVICE = "notification-clusterip-service"
# The course's manifests give notification no probe; GET /notification/health-status is the
# app's own health endpoint, a constant answer (course repository
# stacksimplify/aws-eks-kubernetes-masterclass, others/code/springboot-kubernetes/
# 03-notifications-service, NotificationController).
NOTIFICATION_HEALTH_PATH = "/notification/health-status"
VERSIONS = ("v1", "v2")
TRACING_NAMES = {"v1": "V1-Notification-Microservice", "v2": "V2-Notification-Microservice"}
USERMGMT_TRACING_NAME = "User-Management-Microservice"  # the X-Ray node that calls them

INGRESS_NAME = "eks-microservices-demo-canary"

DB_SECRET = "mysql-db-password"
DB_SECRET_KEY = "db-password"
SMTP_SECRET = "smtp-credentials"
MYSQL_SERVICE = "mysql"
SMTP_SERVICE = "smtp-service"
SMTP_PORT = 587

APP_PODS = {"matchExpressions": [{
    "key": "app", "operator": "In",
    "values": [USERMGMT_LABELS["app"], NOTIFICATION_LABELS["app"]]}]}


def notification_labels(version: str) -> dict[str, str]:
    """Pod labels of one version: the Service's app label plus the version the Deployment owns."""
    if version not in VERSIONS:
        raise ValueError(f"version must be one of {VERSIONS}, got {version!r}")
    return {**NOTIFICATION_LABELS, "version": version}


def notification_name(version: str) -> str:
    """The Deployment (and budget) of one version."""
    return f"{version}-notification-microservice"
