"""How the course's Java apps run: their container, pod and Deployment shape, as plain dicts.

Hardened (see `components.k8s.pods`), with a writable /tmp for Tomcat and the JVM, a preStop
pause so a scale-down (a weight change) lets kube-proxy and the ALB drop a pod before it stops
taking calls, and rollouts that keep full capacity.
"""

from __future__ import annotations

from typing import Any

from components.app.jvm import JvmMemory
from components.app.spec import AppSpec
from components.k8s.checkov import SKIP_PULL_POLICY, checkov_skip_annotations
from components.k8s.objects import PART_OF, metadata
from components.k8s.pods import (
    container_security_context,
    http_probe,
    pod_security_context,
    tcp_probe,
)

INIT_IMAGE = "busybox:1.37.0"
# the pod keeps serving for PRE_STOP_SECONDS after it is marked terminating
PRE_STOP_SECONDS = 15
TERMINATION_GRACE_SECONDS = 45
# Spring Boot 2.1 takes tens of seconds to start (the course waits 60 s before probing). A
# startup probe every STARTUP_PERIOD seconds, allowed STARTUP_FAILURES misses (5 minutes),
# notices a started app within seconds; readiness and liveness only begin after it succeeds
# (kubelet prober: readiness is then run at once), so they need no initial delay.
STARTUP_PERIOD = 5
STARTUP_FAILURES = 60
JAVA_MEMORY = JvmMemory(limit_mib=1024)

# reasons for the checkov checks the app's pods cannot pass by design
SKIP_IMAGE_DIGEST = (
    "CKV_K8S_43",
    "the course's images are pinned by tag as the course names them; the image config keys "
    "also take repo@sha256:<digest> for a digest pin",
)
SKIP_SECRET_ENV = (
    "CKV_K8S_35",
    "the course's apps read credentials only from environment variables; they come from a "
    "Secret by secretKeyRef, never as literals",
)
APP_SKIPS = (SKIP_IMAGE_DIGEST, SKIP_PULL_POLICY, SKIP_SECRET_ENV)


def secret_env(name: str, secret: str, key: str) -> dict:
    # not optional (the default): both Secrets always exist, SMTP values may be empty
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}


def xray_env(spec: AppSpec, tracing_name: str) -> list[dict]:
    return [
        {"name": "AWS_XRAY_TRACING_NAME", "value": tracing_name},
        {"name": "AWS_XRAY_DAEMON_ADDRESS", "value": spec.xray_address},
        # log a missing trace context instead of failing the request (the default)
        {"name": "AWS_XRAY_CONTEXT_MISSING", "value": "LOG_ERROR"},
    ]


def _pre_stop() -> dict:
    return {"preStop": {"exec": {"command": ["/bin/sh", "-c", f"sleep {PRE_STOP_SECONDS}"]}}}


def java_container(name: str, image: str, port: int, env: list[dict], health_path: str,
                   memory: JvmMemory = JAVA_MEMORY) -> dict:
    """A course app container: the JVM bounded inside its memory limit (both from `memory`),
    probed once started, read-only root with a writable /tmp."""
    return {
        "name": name,
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "ports": [{"name": "http", "containerPort": port, "protocol": "TCP"}],
        "env": [*env, {"name": "JAVA_OPTS", "value": memory.java_opts}],
        "resources": memory.resources("250m", "1"),
        "startupProbe": http_probe(health_path, port, initial_delay=0, period=STARTUP_PERIOD,
                                   failures=STARTUP_FAILURES),
        "readinessProbe": http_probe(health_path, port, initial_delay=0),
        # the process answers on its port; a hung JVM is restarted after a minute
        "livenessProbe": tcp_probe(port, initial_delay=0, failures=6),
        "lifecycle": _pre_stop(),
        "securityContext": container_security_context(),
        # Spring Boot's embedded Tomcat and the JVM write to java.io.tmpdir
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
    }


def pod_spec(containers: list[dict], init_containers: list[dict] | None = None,
             spread: list[dict] | None = None) -> dict:
    spec: dict[str, Any] = {
        "automountServiceAccountToken": False,  # the apps never call the Kubernetes API
        # the apps read explicit env; no <SERVICE>_PORT variables for every Service around
        "enableServiceLinks": False,
        "securityContext": pod_security_context(),
        "terminationGracePeriodSeconds": TERMINATION_GRACE_SECONDS,
    }
    if init_containers:
        spec["initContainers"] = init_containers
    spec["containers"] = containers
    if spread:
        spec["topologySpreadConstraints"] = spread
    spec["volumes"] = [{"name": "tmp", "emptyDir": {"sizeLimit": "256Mi"}}]
    return spec


def deployment(spec: AppSpec, name: str, labels: dict, replicas: int, pod: dict,
               pod_annotations: dict[str, str], skips: tuple[tuple[str, str], ...]) -> dict:
    template_meta: dict[str, Any] = {"labels": {**labels, **PART_OF}}
    if pod_annotations:
        template_meta["annotations"] = pod_annotations
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": metadata(name, spec.namespace, labels, checkov_skip_annotations(*skips)),
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": dict(labels)},
            # a new pod is ready before an old one goes: rollouts keep full capacity
            "strategy": {"type": "RollingUpdate",
                         "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
            "template": {"metadata": template_meta, "spec": pod},
        },
    }
