"""The AWS X-Ray daemon as plain Kubernetes objects (the course's, hardened), no Pulumi here.

A DaemonSet receives trace segments on 2000/UDP (and serves sampling rules on 2000/TCP) and
forwards them to the X-Ray API with the IRSA role of its service account. Apps send to the
Service `xray-service.<namespace>:2000` (a stable ClusterIP). The caller creates the namespace.

`role_arn` may be a Pulumi Output: it is placed into the ServiceAccount annotation as it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from components.course import TRACING_LABELS, XRAY_LABELS, XRAY_PORT
from components.k8s.checkov import SKIP_PULL_POLICY, checkov_skip_annotations
from components.k8s.network_policy import dns_egress, ports
from components.k8s.objects import PART_OF, ROLE_ARN_ANNOTATION, metadata
from components.k8s.pods import (
    container_security_context,
    pod_security_context,
    resources,
    sleep_before_stop,
    tcp_probe,
)

# The scratch build: aws-xray-daemon's release workflow (.github/workflows/
# release-build-publish.yml) pushes `Dockerfile` (FROM scratch, USER xray = UID 10001,
# ENTRYPOINT /xray -t 0.0.0.0:2000 -b 0.0.0.0:2000; no shell) to ECR Public, and
# `Dockerfile.amazonlinux` to Docker Hub's amazon/aws-xray-daemon.
XRAY_IMAGE = "public.ecr.aws/xray/aws-xray-daemon:3.6.6"
NAME = "xray-daemon"
SERVICE_NAME = "xray-service"
CONFIG_MAP = "xray-config"
CONFIG_DIR = "/aws/xray"
UID = 10001
# preStop wait: segments sent while kube-proxy removes the pod's endpoint still arrive (apps
# resolve the ClusterIP; kube-proxy follows the EndpointSlice within a second or two)
STOP_DELAY_SECONDS = 5

SKIP_IMAGE_DIGEST = (
    "CKV_K8S_43",
    "AWS publishes the daemon by version tag; the tag is pinned and the image argument takes "
    "repo@sha256:<digest> for a digest pin",
)


def xray_address(namespace: str) -> str:
    """Where apps send segments (AWS_XRAY_DAEMON_ADDRESS)."""
    return f"{SERVICE_NAME}.{namespace}:{XRAY_PORT}"


def daemon_config(region: str) -> str:
    """The daemon's config.yaml (format Version 2, aws/aws-xray-daemon's cfg.yaml keys), with
    the course's 24 MB buffer."""
    return (
        "Version: 2\n"
        "TotalBufferSizeMB: 24\n"
        "Socket:\n"
        f'  UDPAddress: "0.0.0.0:{XRAY_PORT}"\n'
        f'  TCPAddress: "0.0.0.0:{XRAY_PORT}"\n'
        f'Region: "{region}"\n'
        # no instance-metadata lookups: region is set above, credentials come from IRSA, and
        # the NetworkPolicy does not let the daemon reach 169.254.169.254 anyway
        "LocalMode: true\n"
        "Logging:\n"
        '  LogLevel: "prod"\n'
    )


def build_xray(namespace: str, region: str, role_arn: Any, image: str = XRAY_IMAGE) -> list[dict]:
    """ServiceAccount, ConfigMap, DaemonSet, Service and NetworkPolicy, apply order."""
    service_account = {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": metadata(NAME, namespace, XRAY_LABELS,
                             {ROLE_ARN_ANNOTATION: role_arn}),
        # IRSA needs no API token: EKS's pod identity webhook projects its own
        # `aws-iam-token` volume (audience sts.amazonaws.com) into the pod
        "automountServiceAccountToken": False,
    }
    config_map = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": metadata(CONFIG_MAP, namespace, XRAY_LABELS),
        "data": {"config.yaml": daemon_config(region)},
    }
    container = {
        "name": NAME,
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "args": ["-c", f"{CONFIG_DIR}/config.yaml"],
        "env": [{"name": "AWS_REGION", "value": region}],
        # no hostPort (the course sets 2000): apps send to the Service's name, which resolves
        # to the daemon pods' own IPs, and checkov CKV_K8S_26 forbids host ports
        "ports": [
            {"name": "xray-ingest", "containerPort": XRAY_PORT, "protocol": "UDP"},
            {"name": "xray-tcp", "containerPort": XRAY_PORT, "protocol": "TCP"},
        ],
        "resources": resources("256m", "32Mi", "512m", "64Mi"),
        "readinessProbe": tcp_probe(XRAY_PORT, initial_delay=5),
        "livenessProbe": tcp_probe(XRAY_PORT, initial_delay=10, failures=6),
        "lifecycle": sleep_before_stop(STOP_DELAY_SECONDS),
        "securityContext": container_security_context(UID),
        "volumeMounts": [{"name": "config", "mountPath": CONFIG_DIR, "readOnly": True}],
    }
    daemon_set = {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": metadata(NAME, namespace, XRAY_LABELS, checkov_skip_annotations(
            SKIP_IMAGE_DIGEST, SKIP_PULL_POLICY)),
        "spec": {
            "selector": {"matchLabels": dict(XRAY_LABELS)},
            "updateStrategy": {"type": "RollingUpdate"},
            "template": {
                "metadata": {"labels": {**XRAY_LABELS, **TRACING_LABELS, **PART_OF}},
                "spec": {
                    "serviceAccountName": NAME,
                    "automountServiceAccountToken": False,
                    "securityContext": pod_security_context(UID),
                    "containers": [container],
                    "volumes": [{"name": "config", "configMap": {"name": CONFIG_MAP}}],
                },
            },
        },
    }
    return [service_account, config_map, daemon_set,
            endpoint_service(namespace),
            endpoint_network_policy(NAME, namespace, XRAY_LABELS)]


def endpoint_service(namespace: str) -> dict:
    """`xray-service`, the address apps send to, over the pods of whichever backend runs: it
    selects by the shared TRACING_LABELS, so it is the same object in every mode.

    A ClusterIP Service, not headless as the course's: the X-Ray SDK for Java resolves the
    name once, when the app starts (`DaemonConfiguration.setUDPAddress` builds an
    `InetSocketAddress`), so with a headless Service an app would keep sending segments to the
    one pod IP it found then, lost when that pod is replaced (a node drain, an update, a switch
    of `tracing`). The virtual IP stays: kube-proxy keeps an app's UDP flow on one ready pod
    and, when that pod's endpoint goes, clears the flow so the next segment finds another.
    """
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata(SERVICE_NAME, namespace, dict(TRACING_LABELS)),
        "spec": {
            "type": "ClusterIP",
            "selector": dict(TRACING_LABELS),
            "ports": [
                {"name": "xray-ingest", "port": XRAY_PORT, "targetPort": XRAY_PORT,
                 "protocol": "UDP"},
                {"name": "xray-tcp", "port": XRAY_PORT, "targetPort": XRAY_PORT,
                 "protocol": "TCP"},
            ],
        },
    }


def endpoint_network_policy(name: str, namespace: str, labels: Mapping[str, str],
                            egress: list[dict] | None = None) -> dict:
    """The tracing pods (TRACING_LABELS, whichever backend) take 2000 UDP/TCP from any pod of
    the cluster and send only to AWS (443) and the cluster DNS, or where `egress` says (a trace
    store in the cluster). `labels`: the object's own."""
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": metadata(name, namespace, dict(labels)),
        "spec": {
            "podSelector": {"matchLabels": dict(TRACING_LABELS)},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [{
                "from": [{"namespaceSelector": {}}],  # any pod of the cluster may send traces
                "ports": ports([XRAY_PORT], ("UDP", "TCP")),
            }],
            "egress": egress if egress is not None else [
                # the X-Ray API and STS (IRSA) are public AWS endpoints
                {"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}],
                 "ports": ports([443])},
                dns_egress(),
            ],
        },
    }
