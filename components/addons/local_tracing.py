"""`target: local`: the apps' X-Ray segments, shown as traces in Jaeger, with no AWS.

The same ADOT collector as `tracing: otel` (`otel_collector`), behind the same
`xray-service.xray:2000`, so the apps' Deployments are the same on both platforms. Its pipeline
here: the `awsxray` receiver (segments on UDP 2000) converts them to OpenTelemetry spans, and the
OTLP/gRPC exporter sends them to Jaeger in the same namespace, whose UI (16686) shows user
management calling V1 and V2 as traces.

- The exporter's type is `otlp_grpc` (collector core v0.156.0 renamed `otlp`, kept as a
  deprecated alias: exporter/otlpexporter/metadata.yaml); ADOT ships it (pkg/defaultcomponents).
- The receiver's sampling proxy (TCP 2000) needs a region in local mode to start
  (internal/aws/proxy/conn.go) and signs calls only when they come; with no AWS it cannot fetch
  rules, and the X-Ray SDK then samples by its built-in rule (1 request a second and 5 %).
- Jaeger v2 (jaegertracing/jaeger, `cmd/jaeger/internal/all-in-one.yaml`, the image's default
  config): in-memory storage, OTLP on 4317/4318 and the UI on 16686 on all interfaces (the
  image sets JAEGER_LISTEN_HOST=0.0.0.0), health on 13133 `/status`; the image's user is 10001.
"""

from __future__ import annotations

from typing import Any

from components.addons.otel_collector import COLLECTOR_IMAGE, LABELS, build_collector
from components.course import XRAY_PORT
from components.k8s.checkov import SKIP_PULL_POLICY, checkov_skip_annotations
from components.k8s.network_policy import dns_egress, in_namespace, network_policy, ports
from components.k8s.objects import RESTRICTED, metadata, namespace_object, service_host
from components.k8s.pods import (
    container_security_context,
    http_probe,
    resources,
    single_pod_deployment,
)

JAEGER_IMAGE = "jaegertracing/jaeger:2.20.0"  # 2026-07-19; amd64 and arm64
JAEGER = "jaeger"
JAEGER_LABELS = {"app": "jaeger"}
OTLP_GRPC_PORT = 4317
UI_PORT = 16686
HEALTH_PORT = 13133
# the sampling proxy's signing region; nothing is sent to AWS from a local cluster
PLACEHOLDER_REGION = "us-east-1"

SKIP_IMAGE_DIGEST = (
    "CKV_K8S_43",
    "Jaeger is pinned by version tag; digests differ per architecture",
)


def jaeger_address(namespace: str) -> str:
    return f"{service_host(JAEGER, namespace)}:{OTLP_GRPC_PORT}"


def local_collector_config(namespace: str) -> dict[str, Any]:
    """awsxray receiver -> memory_limiter, batch -> OTLP/gRPC to Jaeger (plain text inside the
    cluster)."""
    everywhere = f"0.0.0.0:{XRAY_PORT}"
    return {
        "extensions": {"health_check": {"endpoint": "${env:POD_IP}:13133", "path": "/"}},
        "receivers": {"awsxray": {
            "endpoint": everywhere, "transport": "udp",
            "proxy_server": {"endpoint": everywhere, "region": PLACEHOLDER_REGION,
                             "local_mode": True}}},
        "processors": {
            "memory_limiter": {"check_interval": "1s", "limit_percentage": 80,
                               "spike_limit_percentage": 25},
            "batch": {"timeout": "1s", "send_batch_size": 50},
        },
        "exporters": {"otlp_grpc": {"endpoint": jaeger_address(namespace),
                                    "tls": {"insecure": True}}},
        "service": {
            "extensions": ["health_check"],
            "pipelines": {"traces": {"receivers": ["awsxray"],
                                     "processors": ["memory_limiter", "batch"],
                                     "exporters": ["otlp_grpc"]}},
            "telemetry": {"metrics": {"level": "none"}},
        },
    }


def jaeger_objects(namespace: str, image: str = JAEGER_IMAGE) -> list[dict]:
    """Deployment, Service (OTLP 4317, UI 16686) and NetworkPolicy (OTLP from the collector)."""
    container = {
        "name": JAEGER,
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "ports": [{"name": "otlp-grpc", "containerPort": OTLP_GRPC_PORT, "protocol": "TCP"},
                  {"name": "ui", "containerPort": UI_PORT, "protocol": "TCP"},
                  {"name": "health", "containerPort": HEALTH_PORT, "protocol": "TCP"}],
        # in-memory traces: the limit bounds them (a restart forgets them)
        "resources": resources("50m", "128Mi", "500m", "512Mi"),
        "readinessProbe": http_probe("/status", HEALTH_PORT, initial_delay=2),
        "livenessProbe": http_probe("/status", HEALTH_PORT, initial_delay=10),
        "securityContext": container_security_context(),
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],  # the image's VOLUME
    }
    deployment = single_pod_deployment(
        JAEGER, namespace, JAEGER_LABELS, container,
        checkov_skip_annotations(SKIP_IMAGE_DIGEST, SKIP_PULL_POLICY),
        [{"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}])
    service = {
        "apiVersion": "v1", "kind": "Service",
        "metadata": metadata(JAEGER, namespace, JAEGER_LABELS),
        "spec": {"type": "ClusterIP", "selector": dict(JAEGER_LABELS), "ports": [
            {"name": "otlp-grpc", "port": OTLP_GRPC_PORT, "targetPort": OTLP_GRPC_PORT,
             "protocol": "TCP", "appProtocol": "grpc"},
            {"name": "http-ui", "port": UI_PORT, "targetPort": UI_PORT, "protocol": "TCP",
             "appProtocol": "http"}]},
    }
    policy = network_policy(
        JAEGER, namespace, {"matchLabels": dict(JAEGER_LABELS)},
        [{"from": [in_namespace(namespace, LABELS)], "ports": ports([OTLP_GRPC_PORT])}], [])
    return [deployment, service, policy]


def local_tracing_objects(namespace: str, image: str = COLLECTOR_IMAGE,
                          jaeger_image: str = JAEGER_IMAGE) -> list[dict]:
    """The namespace, the collector (no AWS role) and Jaeger, in apply order."""
    to_jaeger = [{"to": [in_namespace(namespace, JAEGER_LABELS)],
                  "ports": ports([OTLP_GRPC_PORT])}, dns_egress()]
    return [namespace_object(namespace, RESTRICTED),
            *build_collector(namespace, PLACEHOLDER_REGION, None, image,
                             config=local_collector_config(namespace), egress=to_jaeger),
            *jaeger_objects(namespace, jaeger_image)]
