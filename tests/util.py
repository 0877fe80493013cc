"""Small helpers and constants shared by the test modules."""

from __future__ import annotations

from typing import Any

DOMAIN = {"domainName": "canary.example.com", "hostedZoneName": "example.com"}
SECRETS = {"dbPassword": "Db-Secret-Value-456", "smtpUsername": "AKIAEXAMPLE",
           "smtpPassword": "smtp-Secret-Value-123"}


def diff(a: Any, b: Any, path: tuple = ()) -> list[tuple]:
    """Paths at which two plain trees differ."""
    if isinstance(a, dict) and isinstance(b, dict):
        return [p for key in a.keys() | b.keys()
                for p in diff(a.get(key, KeyError), b.get(key, KeyError), (*path, key))]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [p for i, (x, y) in enumerate(zip(a, b, strict=True))
                for p in diff(x, y, (*path, i))]
    return [] if a == b else [path]


def env_of(container: dict) -> dict[str, Any]:
    """A container's env as name -> value (or valueFrom)."""
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}
