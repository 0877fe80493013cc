"""checkov exceptions, declared on the object they excuse: `checkov.io/skipN: CHECK=reason`."""

from __future__ import annotations

import re
from collections.abc import Iterable

_SKIP_KEY = re.compile(r"^checkov\.io/skip\d+$")

# images pinned to release tags are pulled once per node
SKIP_PULL_POLICY = (
    "CKV_K8S_15",
    "images are pinned to release tags; IfNotPresent spares a registry round trip (and "
    "Docker Hub pull limits) at every pod start and scale-up",
)


def checkov_skip_annotations(*skips: tuple[str, str]) -> dict[str, str]:
    """`checkov.io/skipN: CHECK=reason` annotations: a justified exception, on its object."""
    for check, reason in skips:
        if not check or not reason.strip():
            raise ValueError(f"checkov skip {check!r} needs a check id and a reason")
    return {f"checkov.io/skip{i}": f"{check}={reason}" for i, (check, reason) in
            enumerate(skips, start=1)}


def checkov_skips(objects: Iterable[dict]) -> list[tuple[str, str, str, str]]:
    """Every checkov exception declared on the objects: (kind, name, check id, reason)."""
    found = []
    for obj in objects:
        annotations = obj.get("metadata", {}).get("annotations", {})
        for key, value in annotations.items():
            if _SKIP_KEY.match(key):
                check, _, reason = value.partition("=")
                found.append((obj["kind"], obj["metadata"]["name"], check, reason))
    return found
