"""What a platform hands to the program: the cluster's provider, what the app needs (the seam),
what the app must wait for, and the platform's own stack outputs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.seam import AppServices


@dataclass(frozen=True)
class Platform:
    provider: k8s.Provider
    services: AppServices
    # the app's objects are created after these and deleted before them (controllers,
    # webhooks, tracing, databases)
    app_depends_on: Sequence[pulumi.Resource] = field(default_factory=tuple)
    # ExternalDNS's release: the Ingress waits for it (and its DNS clean-up) on destroy
    external_dns: Sequence[pulumi.Resource] = field(default_factory=tuple)
    outputs: Mapping[str, Any] = field(default_factory=dict)  # in export order
