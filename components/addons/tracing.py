"""The tracing backend, chosen by the `tracing` config key in this one place.

`xray-daemon` runs the AWS X-Ray daemon (`xray`), `otel` an OpenTelemetry collector
(`otel_collector`). Both listen at `xray-service.xray:2000` (UDP segments, TCP sampling), in
the same namespace, so what the apps are given does not depend on the choice.
"""

from __future__ import annotations

from typing import Any

import pulumi

from components.addons.addon import ClusterHandles
from components.addons.otel_collector import OtelCollector, OtelCollectorProps, collector_objects
from components.addons.xray import XRayDaemon, XRayDaemonProps, xray_objects
from components.addons.xray_manifests import xray_address
from components.course import TRACING_LABELS
from components.seam import TracingEndpoint as Endpoint

Tracing = XRayDaemon | OtelCollector


def endpoint(mode: str) -> Endpoint:
    """The endpoint of a validated `tracing` value, without registering anything."""
    if mode == "otel":
        namespace = OtelCollectorProps().namespace
    elif mode == "xray-daemon":
        namespace = XRayDaemonProps().namespace
    else:
        raise ValueError(f"tracing: unknown mode {mode!r}")
    return Endpoint(xray_address(namespace), namespace, dict(TRACING_LABELS))


def tracing_backend(mode: str, cluster: ClusterHandles,
                    opts: pulumi.ResourceOptions | None = None) -> Tracing:
    """The add-on for a validated `tracing` value."""
    if mode == "otel":
        return OtelCollector(cluster, opts=opts)
    if mode == "xray-daemon":
        return XRayDaemon(cluster, opts=opts)
    raise ValueError(f"tracing: unknown mode {mode!r}")


def tracing_objects(mode: str, region: str, role_arn: Any) -> list[dict]:
    """The objects the add-on applies, for `canaryctl render`."""
    if mode == "otel":
        props = OtelCollectorProps()
        return collector_objects(props.namespace, region, role_arn, props.image)
    if mode == "xray-daemon":
        daemon = XRayDaemonProps()
        return xray_objects(daemon.namespace, region, role_arn, daemon.image)
    raise ValueError(f"tracing: unknown mode {mode!r}")
