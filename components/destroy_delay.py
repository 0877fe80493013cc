"""A resource that does nothing but wait when it is deleted.

Placed between the Ingress and ExternalDNS, it keeps ExternalDNS running for a while after the
Ingress is gone, so that ExternalDNS (policy sync) sees the deletion and removes the DNS record
before `pulumi destroy` uninstalls it. Pulumi deletes dependants first: Ingress, then this
delay, then ExternalDNS. A dynamic provider, so no extra package or plugin is needed.
"""

from __future__ import annotations

import time

import pulumi
from pulumi.dynamic import CreateResult, Resource, ResourceProvider


class _DelayProvider(ResourceProvider):
    def create(self, props):
        return CreateResult(id_=f"destroy-delay-{props['seconds']}s", outs=props)

    def delete(self, _id, props):
        time.sleep(int(props["seconds"]))


class DestroyDelay(Resource):
    """Waits `seconds` on delete; `reason` is shown in the state for whoever wonders why."""

    def __init__(self, name: str, seconds: int, reason: str,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__(_DelayProvider(), name, {"seconds": seconds, "reason": reason}, opts)
