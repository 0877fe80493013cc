"""Legacy: the dynamic provider of the destroy delay that stacks made before 2026-11 hold.

The delay between the Ingress and ExternalDNS is now pulumiverse-time's `Sleep` (see
`components/app/component.py`). Stacks deployed earlier still have a
`pulumi-python:dynamic:Resource` in their state whose provider Pulumi pickled by reference to
`components.destroy_delay._DelayProvider`; the first `pulumi up` after the change deletes it,
and Pulumi must load this class to do so. So the class stays here, at this module path, and
it now survives what the first version did not: the SDK's default `update` stores no outputs,
so `delete` falls back to the default wait instead of raising KeyError.

Nothing registers new resources with this provider. Remove the module once no stack from
before the change is left.
"""

from __future__ import annotations

import time
from typing import Any

from pulumi.dynamic import CreateResult, ResourceProvider, UpdateResult

DEFAULT_SECONDS = 90  # what every legacy delay was made with


class _DelayProvider(ResourceProvider):
    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(id_=f"destroy-delay-{props['seconds']}s", outs=props)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(outs=news)  # keep the outputs that delete() reads

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        time.sleep(int(props.get("seconds", DEFAULT_SECONDS)))
