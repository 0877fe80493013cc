"""Istio (sidecar mode) for canaryStrategy=istio: the `base` and `istiod` charts, pinned.

Version 1.31.1, whose support matrix covers Kubernetes 1.32-1.36. Its charts come from Istio's
chart repository at https://blob.istio.io/istio-release/charts: Istio moved its releases off the
Google Cloud bucket (istio-release.storage.googleapis.com), which does not carry 1.31 and is
removed in December 2026 (istio.io blog, 2026-08-21, "An update on our move to AWS").

Native sidecars are set on explicitly (the default "auto" turns them on for kubelets >= 1.33):
istio-proxy then runs as a restartable init container, started before the app's own init
containers and stopped after the app, so the mesh never cuts calls in flight.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.course import ISTIO_NAMESPACE

VERSION = "1.31.1"
REPO = "https://blob.istio.io/istio-release/charts"
NAMESPACE = ISTIO_NAMESPACE  # the app's NetworkPolicies admit istiod from there


@dataclass(frozen=True)
class IstioProps:
    """Defaults: istio-system, images from Docker Hub's `istio` organisation."""

    version: str = VERSION
    repo: str = REPO
    namespace: str = NAMESPACE
    hub: str = "docker.io/istio"


def istiod_values(props: IstioProps) -> dict:
    """The chart's own top-level keys (istio-discovery 1.31 values.yaml; deployment.yaml reads
    `.Values.env` and `.Values.resources`), not `pilot.*`, which only the chart's legacy copy
    step (zzy_descope_legacy.yaml) moves there."""
    return {
        "global": {"hub": props.hub, "tag": props.version},
        "env": {"ENABLE_NATIVE_SIDECARS": "true"},
        "resources": {"requests": {"cpu": "100m", "memory": "256Mi"}},
        "meshConfig": {"outboundTrafficPolicy": {"mode": "ALLOW_ANY"}},
    }


class Istio(pulumi.ComponentResource):
    """`base` (CRDs, validation) then `istiod`; dependants wait for istiod to be ready."""

    istiod: k8s.helm.v3.Release

    def __init__(self, name: str, provider: k8s.Provider,
                 depends_on: Sequence[pulumi.Resource] = (), props: IstioProps = IstioProps(),
                 opts: pulumi.ResourceOptions | None = None):
        """`depends_on`: what must run first (on EKS, the node group)."""
        super().__init__("eks-canary:addons:Istio", name, None, opts)
        release_opts = pulumi.ResourceOptions(parent=self, provider=provider,
                                              depends_on=list(depends_on))
        base = k8s.helm.v3.Release(
            f"{name}-base", name="istio-base",
            chart="base", version=props.version,
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=props.repo),
            namespace=props.namespace, create_namespace=True,
            values={"defaultRevision": "default"},
            skip_await=False, timeout=600, opts=release_opts)
        self.istiod = k8s.helm.v3.Release(
            f"{name}-istiod", name="istiod",
            chart="istiod", version=props.version,
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=props.repo),
            namespace=props.namespace, values=istiod_values(props),
            skip_await=False, timeout=600,
            opts=pulumi.ResourceOptions.merge(release_opts,
                                              pulumi.ResourceOptions(depends_on=[base])))
        self.register_outputs({"version": props.version})
