"""`target: local`: MySQL 8.4 in the cluster, where RDS is on AWS, as plain objects.

The official image (docker-library/mysql `8.4/Dockerfile.oracle` and `docker-entrypoint.sh`):
- `MYSQL_DATABASE` creates the course's `usermgmt` database at the first start, `MYSQL_USER` and
  `MYSQL_PASSWORD` its user with all privileges on it (the course's `dbadmin`); the root
  password is random and never needed.
- The entrypoint runs as any non-root user (it then skips its chown and `gosu` steps), so the
  pod runs as the house's UID with a read-only root: the data on the volume claim, the socket
  and pid file (`/var/run/mysqld`) and the server's tmpdir (`/tmp`) on emptyDirs.
- It initialises the data directory with a temporary server started with `--skip-networking`,
  so TCP 3306 opens only when the database and user exist: readiness is `mysqladmin ping`
  over TCP (its exit status is 0 whenever the server answers, even without credentials).
- The data directory is a folder on the claim (`--datadir`), which the entrypoint makes, so a
  volume's own `lost+found` never stops `--initialize`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from components.course import DB_NAME, DB_USERNAME, MYSQL_PORT
from components.k8s.checkov import SKIP_PULL_POLICY, checkov_skip_annotations
from components.k8s.network_policy import network_policy, ports
from components.k8s.objects import PART_OF, RESTRICTED, metadata, namespace_object, service_host
from components.k8s.pods import (
    RUN_AS_UID,
    container_security_context,
    pod_security_context,
    resources,
    tcp_probe,
)

# the newest 8.4 LTS build in docker-library/official-images `library/mysql` (2026-08-21);
# multi-arch (amd64, arm64v8)
MYSQL_IMAGE = "mysql:8.4.11"
NAME = "mysql"  # the StatefulSet and its Service: `mysql.<namespace>.svc.cluster.local`
LABELS = {"app": "mysql"}
SECRET = "mysql-credentials"
DATA_MOUNT = "/var/lib/mysql"
DATADIR = f"{DATA_MOUNT}/data"
STORAGE = "1Gi"
SECRET_MOUNT = "/etc/mysql-credentials"

SKIP_IMAGE_DIGEST = (
    "CKV_K8S_43",
    "the official image is pinned by version tag; digests differ per architecture and the "
    "local target runs on amd64 and arm64 machines",
)


def mysql_address(namespace: str) -> str:
    """The Service's DNS name, which the app's `mysql` ExternalName points at."""
    return service_host(NAME, namespace)


def _ping() -> dict:
    return {"exec": {"command": ["mysqladmin", "ping", "--protocol=TCP", "--host=127.0.0.1",
                                 f"--port={MYSQL_PORT}", "--silent"]}}


def mysql_objects(namespace: str, password: Any, client_peers: Sequence[dict],
                  image: str = MYSQL_IMAGE) -> list[dict]:
    """Namespace, Secret, Service, StatefulSet and NetworkPolicy, in apply order. `password`
    may be a Pulumi secret Output; `client_peers` may reach 3306 (user management's pods)."""
    secret = {
        "apiVersion": "v1", "kind": "Secret", "metadata": metadata(SECRET, namespace),
        "type": "Opaque", "stringData": {"password": password},
    }
    service = {
        "apiVersion": "v1", "kind": "Service", "metadata": metadata(NAME, namespace, LABELS),
        "spec": {"type": "ClusterIP", "selector": dict(LABELS),
                 "ports": [{"name": "tcp-mysql", "port": MYSQL_PORT, "targetPort": MYSQL_PORT,
                            "protocol": "TCP", "appProtocol": "tcp"}]},
    }
    container = {
        "name": NAME,
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        # no reverse DNS of clients (the policy admits no DNS egress; '%' hosts match anyway)
        "args": [f"--datadir={DATADIR}", "--skip-name-resolve"],
        "env": [
            {"name": "MYSQL_DATABASE", "value": DB_NAME},
            {"name": "MYSQL_USER", "value": DB_USERNAME},
            # the entrypoint reads `<VAR>_FILE` (file_env): the password stays out of the env
            {"name": "MYSQL_PASSWORD_FILE", "value": f"{SECRET_MOUNT}/password"},
            {"name": "MYSQL_RANDOM_ROOT_PASSWORD", "value": "yes"},
        ],
        "ports": [{"name": "mysql", "containerPort": MYSQL_PORT, "protocol": "TCP"}],
        "resources": resources("100m", "512Mi", "1", "1Gi"),
        # the first start initialises the data directory (about a minute, longer on a slow
        # disk): 5 minutes before the kubelet gives up
        "startupProbe": {**_ping(), "periodSeconds": 5, "timeoutSeconds": 5,
                         "failureThreshold": 60},
        "readinessProbe": {**_ping(), "periodSeconds": 10, "timeoutSeconds": 5,
                           "failureThreshold": 3},
        "livenessProbe": tcp_probe(MYSQL_PORT, initial_delay=0, failures=6),
        "securityContext": container_security_context(),
        "volumeMounts": [{"name": "data", "mountPath": DATA_MOUNT},
                         {"name": "run", "mountPath": "/var/run/mysqld"},
                         {"name": "tmp", "mountPath": "/tmp"},
                         {"name": "credentials", "mountPath": SECRET_MOUNT, "readOnly": True}],
    }
    stateful_set = {
        "apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": metadata(NAME, namespace, LABELS,
                             checkov_skip_annotations(SKIP_IMAGE_DIGEST, SKIP_PULL_POLICY)),
        "spec": {
            "serviceName": NAME,
            "replicas": 1,
            "selector": {"matchLabels": dict(LABELS)},
            # `pulumi destroy` leaves no volume behind (a local stack keeps no data)
            "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Delete",
                                                     "whenScaled": "Retain"},
            "template": {
                "metadata": {"labels": {**LABELS, **PART_OF}},
                "spec": {
                    "automountServiceAccountToken": False,
                    "enableServiceLinks": False,
                    # fsGroup: the claim is writable on provisioners that honour it; the
                    # local-path and hostpath provisioners of kind, k3d, minikube and Docker
                    # Desktop make world-writable folders
                    "securityContext": {**pod_security_context(), "fsGroup": RUN_AS_UID},
                    "terminationGracePeriodSeconds": 60,  # a clean InnoDB shutdown
                    "containers": [container],
                    "volumes": [{"name": "run", "emptyDir": {"sizeLimit": "16Mi"}},
                                {"name": "tmp", "emptyDir": {"sizeLimit": "256Mi"}},
                                # group-readable: the pod's fsGroup owns the files
                                {"name": "credentials", "secret": {"secretName": SECRET,
                                                                   "defaultMode": 0o440}}],
                },
            },
            # the cluster's default StorageClass
            "volumeClaimTemplates": [{
                "metadata": {"name": "data", "labels": {**LABELS, **PART_OF}},
                "spec": {"accessModes": ["ReadWriteOnce"],
                         "resources": {"requests": {"storage": STORAGE}}},
            }],
        },
    }
    policy = network_policy(
        NAME, namespace, {"matchLabels": dict(LABELS)},
        [{"from": list(client_peers), "ports": ports([MYSQL_PORT])}],
        [])  # the server calls nothing
    return [namespace_object(namespace, RESTRICTED), secret, service, stateful_set, policy]
