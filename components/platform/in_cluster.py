"""A backing service that `target: local` runs inside the cluster (MySQL, the SMTP sink, the
trace store): its plain objects, registered on the cluster's provider under one component."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.k8s import register as k8s_objects


@dataclass(frozen=True)
class InClusterServiceArgs:
    objects: Sequence[dict[str, Any]]  # from a pure builder, in apply order
    provider: k8s.Provider
    depends_on: Sequence[pulumi.Resource] = field(default_factory=tuple)


class InClusterService(pulumi.ComponentResource):
    """Its objects, created in order (a namespace first, deleted last); dependants wait until
    its workloads are ready (pulumi-kubernetes awaits Deployments and StatefulSets)."""

    objects: dict[str, pulumi.CustomResource]

    def __init__(self, name: str, args: InClusterServiceArgs,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("eks-canary:platform:InClusterService", name, None, opts)
        self.objects = k8s_objects.register(
            args.objects,
            pulumi.ResourceOptions(parent=self, provider=args.provider,
                                   depends_on=list(args.depends_on)),
            prefix=f"{name}-")
        self.register_outputs({})

    @property
    def installed(self) -> list[pulumi.Resource]:
        return list(self.objects.values())
