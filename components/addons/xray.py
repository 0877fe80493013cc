"""The AWS X-Ray daemon: a DaemonSet the apps send trace segments to, on UDP/TCP 2000.

Manifests (not a chart: AWS publishes none) from `xray_manifests.build_xray`, in a namespace of
their own, with a service account whose role carries the managed `AWSXRayDaemonWriteAccess`.
AWS ends support for the daemon on 2027-02-25; `tracing: otel` runs an OpenTelemetry collector
(`otel_collector`) behind the same Service address instead; the apps' Deployments stay the same.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pulumi

from components.addons.addon import Addon, AddonArgs, ClusterHandles
from components.addons.xray_manifests import XRAY_IMAGE, build_xray, xray_address
from components.k8s.objects import RESTRICTED, namespace_object
from components.partition import managed_policy_arn

WRITE_POLICY = "AWSXRayDaemonWriteAccess"  # AWS managed, in the stack's partition
ADDON_NAME = "xray-daemon"  # the component's name: prefix of its objects' Pulumi names


@dataclass(frozen=True)
class XRayDaemonProps:
    """Defaults: namespace `xray`, service account `xray-daemon`, the pinned 3.x image."""

    namespace: str = "xray"
    service_account: str = "xray-daemon"
    image: str = XRAY_IMAGE


def xray_objects(namespace: str, region: str, role_arn, image: str = XRAY_IMAGE) -> list[dict]:
    """Everything the add-on applies, its namespace first (also what `canaryctl render` writes)."""
    # the daemon's pod meets the `restricted` Pod Security Standard, so the namespace enforces it
    return [namespace_object(namespace, RESTRICTED),
            *build_xray(namespace, region, role_arn, image)]


class TracingAddon:
    """A tracing backend's add-on (manifests + a role with X-Ray write only) and the address
    apps send to (`xray-service.<namespace>:2000`). Shared by the daemon and the collector."""

    def __init__(self, name: str, cluster: ClusterHandles, namespace: str, service_account: str,
                 manifests: Callable[[pulumi.Output[str]], list[dict[str, Any]]],
                 object_names: Mapping[str, str] | None = None,
                 opts: pulumi.ResourceOptions | None = None):
        self.namespace = namespace
        self.address = xray_address(namespace)
        self.addon = Addon(
            name,
            AddonArgs(cluster=cluster, namespace=namespace, service_account=service_account,
                      managed_policy_arns=(managed_policy_arn(cluster.partition, WRITE_POLICY),),
                      manifests=manifests,
                      object_names=dict(object_names or {})),
            opts=opts)


class XRayDaemon(TracingAddon):
    """The X-Ray daemon's add-on and address."""

    def __init__(self, cluster: ClusterHandles, props: XRayDaemonProps = XRayDaemonProps(),
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__(
            ADDON_NAME, cluster, props.namespace, props.service_account,
            lambda arn: xray_objects(props.namespace, cluster.region, arn, props.image),
            opts=opts)
