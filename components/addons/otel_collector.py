"""`tracing: otel`: an OpenTelemetry collector where the X-Ray daemon was, for the same apps.

A DaemonSet of the AWS Distro for OpenTelemetry (ADOT) collector in the `xray` namespace,
behind the same `xray-service` (2000/UDP and 2000/TCP). Its pipeline: the `awsxray`
receiver takes the X-Ray SDK's UDP segments and, on TCP, proxies its sampling calls
(`GetSamplingRules`, `GetSamplingTargets`, signed with the pod's IRSA role); `memory_limiter`
and `batch` processors; the `awsxray` exporter sends to X-Ray in the stack's region
(`PutTraceSegments`). So the apps' Deployments are the same in both modes.

Why manifests through the add-on block and not the `opentelemetry-collector` Helm chart:
`canaryctl render` and the CI validators see these objects, and the program owns the
Namespace and Service in both modes (see `SHARED_OBJECTS`). Why ADOT and not the contrib
image: AWS supports it, it carries a curated component set (contrib's own README advises
against its 250 components in production), and it is on ECR Public. The source of each fact is
named where it is used.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import yaml

from components.addons.addon import ClusterHandles
from components.addons.xray import ADDON_NAME as DAEMON_ADDON_NAME
from components.addons.xray import TracingAddon
from components.addons.xray_manifests import (
    SERVICE_NAME,
    STOP_DELAY_SECONDS,
    endpoint_network_policy,
    endpoint_service,
)
from components.course import TRACING_LABELS, XRAY_PORT
from components.k8s.checkov import SKIP_PULL_POLICY, checkov_skip_annotations
from components.k8s.objects import (
    PART_OF,
    RESTRICTED,
    ROLE_ARN_ANNOTATION,
    metadata,
    namespace_object,
)
from components.k8s.pods import (
    RUN_AS_UID,
    container_security_context,
    http_probe,
    pod_security_context,
    resources,
    sleep_before_stop,
)
from components.k8s.register import logical_name

# ADOT Collector v0.50.0 (2026-08-25), built on OpenTelemetry Collector (contrib) v0.158.0
# (aws-otel-collector docs/releases/v0.50.0.md); ADOT supports only its newest minor release
# (its README, "Supported Versions"). Tag form from its release workflow (.github/workflows/CD.yml).
COLLECTOR_IMAGE = "public.ecr.aws/aws-observability/aws-otel-collector:v0.50.0"
ADDON_NAME = "otel-collector"
NAME = "otel-collector"
LABELS = {"app": "otel-collector"}  # its DaemonSet's own selector (pods also: TRACING_LABELS)
CONFIG_MAP = "otel-collector-config"
CONFIG_DIR = "/conf"
CONFIG_FILE = "config.yaml"
HEALTH_PORT = 13133  # health_check extension's port (its default endpoint is localhost:13133)
HEALTH_PATH = "/"
MEMORY_LIMIT_MIB = 256
# The Go runtime's soft limit, 80 % of the container's (memory_limiter README, "Best Practices")
GOMEMLIMIT = f"{MEMORY_LIMIT_MIB * 8 // 10}MiB"

SKIP_IMAGE_DIGEST = (
    "CKV_K8S_43",
    "AWS publishes the ADOT collector by version tag; the tag is pinned and the image argument "
    "takes repo@sha256:<digest> for a digest pin",
)


def collector_config(region: str) -> dict[str, Any]:
    """The collector's config (written to YAML in a ConfigMap). Keys as read in the vendored
    contrib v0.156.0 source of ADOT v0.49.0 (receiver/awsxrayreceiver, internal/aws/proxy,
    exporter/awsxrayexporter, extension/healthcheckextension, core memorylimiter, batch)."""
    everywhere = f"0.0.0.0:{XRAY_PORT}"
    return {
        "extensions": {
            # the pod's IP (set from the downward API), so kubelet's probes reach it; the
            # chart does the same (opentelemetry-collector 0.170.0, values.yaml)
            "health_check": {"endpoint": f"${{env:POD_IP}}:{HEALTH_PORT}",
                             "path": HEALTH_PATH},
        },
        "receivers": {
            "awsxray": {
                # both endpoints default to localhost:2000 in the code, which the Service
                # cannot reach: set them (UDP for segments, TCP for the sampling proxy)
                "endpoint": everywhere,
                "transport": "udp",
                "proxy_server": {
                    "endpoint": everywhere,
                    # region set and local_mode on: no instance-metadata lookups (our
                    # NetworkPolicy does not admit 169.254.169.254); credentials from IRSA
                    "region": region,
                    "local_mode": True,
                },
            },
        },
        "processors": {
            # first in the pipeline; percentages of the container's cgroup limit
            # (memory_limiter README: recommended check_interval 1s, limit_percentage in
            # containers; 80/25 are the chart's defaults)
            "memory_limiter": {"check_interval": "1s", "limit_percentage": 80,
                               "spike_limit_percentage": 25},
            # ADOT's default X-Ray pipeline batches 50 segments per second (its config.yaml)
            "batch": {"timeout": "1s", "send_batch_size": 50},
        },
        "exporters": {
            "awsxray": {"region": region, "local_mode": True},
        },
        "service": {
            "extensions": ["health_check"],
            "pipelines": {
                "traces": {"receivers": ["awsxray"],
                           "processors": ["memory_limiter", "batch"],
                           "exporters": ["awsxray"]},
            },
            # no self-metrics endpoint to serve or protect
            "telemetry": {"metrics": {"level": "none"}},
        },
    }


def build_collector(namespace: str, region: str, role_arn: Any,
                    image: str = COLLECTOR_IMAGE, config: dict[str, Any] | None = None,
                    egress: list[dict] | None = None) -> list[dict]:
    """ServiceAccount, ConfigMap, DaemonSet, Service and NetworkPolicy, apply order. Without a
    role (`role_arn` None: a local cluster) the account has no IRSA annotation; `config` and
    `egress` replace the X-Ray pipeline and its egress to AWS."""
    service_account = {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": metadata(NAME, namespace, LABELS,
                             {ROLE_ARN_ANNOTATION: role_arn} if role_arn is not None else None),
        # IRSA projects its own token volume; no Kubernetes API token is needed
        "automountServiceAccountToken": False,
    }
    config_map = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": metadata(CONFIG_MAP, namespace, LABELS),
        "data": {CONFIG_FILE: yaml.safe_dump(config or collector_config(region),
                                             sort_keys=False)},
    }
    container = {
        "name": NAME,
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        # the image's entrypoint is /awscollector, its own CMD --config=/etc/otel-config.yaml
        "args": [f"--config={CONFIG_DIR}/{CONFIG_FILE}"],
        "env": [
            {"name": "AWS_REGION", "value": region},
            # set in the image too: ADOT then logs to stderr, never to a file under /opt/aws
            # (pkg/logger), so the root filesystem stays read-only
            {"name": "RUN_IN_CONTAINER", "value": "True"},
            {"name": "GOMEMLIMIT", "value": GOMEMLIMIT},
            {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
        ],
        "ports": [
            {"name": "xray-ingest", "containerPort": XRAY_PORT, "protocol": "UDP"},
            {"name": "xray-tcp", "containerPort": XRAY_PORT, "protocol": "TCP"},
            {"name": "health", "containerPort": HEALTH_PORT, "protocol": "TCP"},
        ],
        "resources": resources("100m", "128Mi", "500m", f"{MEMORY_LIMIT_MIB}Mi"),
        # FROM scratch, no shell: HTTP probes on the health_check extension
        "readinessProbe": http_probe(HEALTH_PATH, HEALTH_PORT, initial_delay=5),
        "livenessProbe": http_probe(HEALTH_PATH, HEALTH_PORT, initial_delay=10, failures=6),
        # the image's user is UID 4317; a static binary that reads only its config and the CA
        # bundle runs as the house's high UID as well (checkov CKV_K8S_40 wants >= 10000)
        # as the daemon: keep receiving while the endpoint is removed (the image has no shell)
        "lifecycle": sleep_before_stop(STOP_DELAY_SECONDS),
        "securityContext": container_security_context(RUN_AS_UID),
        "volumeMounts": [{"name": "config", "mountPath": CONFIG_DIR, "readOnly": True}],
    }
    daemon_set = {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": metadata(NAME, namespace, LABELS, checkov_skip_annotations(
            SKIP_IMAGE_DIGEST, SKIP_PULL_POLICY)),
        "spec": {
            "selector": {"matchLabels": dict(LABELS)},
            "updateStrategy": {"type": "RollingUpdate"},
            "template": {
                "metadata": {"labels": {**LABELS, **TRACING_LABELS, **PART_OF}},
                "spec": {
                    "serviceAccountName": NAME,
                    "automountServiceAccountToken": False,
                    "securityContext": pod_security_context(RUN_AS_UID),
                    "containers": [container],
                    "volumes": [{"name": "config", "configMap": {"name": CONFIG_MAP}}],
                },
            },
        },
    }
    return [service_account, config_map, daemon_set,
            endpoint_service(namespace),
            endpoint_network_policy(NAME, namespace, LABELS, egress)]


def collector_objects(namespace: str, region: str, role_arn: Any,
                      image: str = COLLECTOR_IMAGE) -> list[dict]:
    """Everything the add-on applies, its namespace first (also what `canaryctl render` writes)."""
    # the same Namespace as the daemon's (restricted Pod Security Standard, which the pod meets)
    return [namespace_object(namespace, RESTRICTED),
            *build_collector(namespace, region, role_arn, image)]


def shared_object_names(namespace: str) -> dict[str, str]:
    """The Namespace and the Service belong to the address, not to one backend: the collector
    registers them under the daemon add-on's Pulumi names. A URN holds the parent's type, not
    its name (pulumi/pulumi#837), and both add-ons are `eks-canary:addons:Addon`, so the URNs
    are the same and switching `tracing` updates the two in place. Were they new resources,
    Pulumi would create the new ones, then delete the old: the Namespace's deletion would take
    the new collector with it."""
    shared = [{"kind": "Namespace", "metadata": {"name": namespace}},
              {"kind": "Service", "metadata": {"name": SERVICE_NAME}}]
    return {logical_name(obj): f"{DAEMON_ADDON_NAME}-{logical_name(obj)}" for obj in shared}


@dataclass(frozen=True)
class OtelCollectorProps:
    """Defaults: namespace `xray` (the daemon's) and the pinned ADOT image."""

    namespace: str = "xray"
    image: str = COLLECTOR_IMAGE


class OtelCollector(TracingAddon):
    """The collector's add-on and address, as the X-Ray daemon's. Its role carries the managed
    `AWSXRayDaemonWriteAccess` (X-Ray write only: PutTraceSegments, PutTelemetryRecords,
    GetSamplingRules/Targets/StatisticSummaries)."""

    def __init__(self, cluster: ClusterHandles, props: OtelCollectorProps = OtelCollectorProps(),
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__(
            ADDON_NAME, cluster, props.namespace, NAME,
            lambda arn: collector_objects(props.namespace, cluster.region, arn, props.image),
            object_names=shared_object_names(props.namespace), opts=opts)
