"""Read the program's stack outputs (`trafficSplit`, `url`) from plain JSON values.

The keys are the ones `__main__.py` exports (`trafficSplit` is `TrafficSplit.as_output()` in
components/canary.py); both `pulumi stack output --json` and the Automation API's
`Stack.outputs()` (after unwrapping `OutputValue.value`) give these plain values.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping

NOTIFICATION_PATH = "/usermgmt/notification-xray"


class OutputError(ValueError):
    """A stack output is missing or not what the program exports."""


def _split_number(outputs: object, key: str) -> float:
    split = outputs.get("trafficSplit") if isinstance(outputs, Mapping) else None
    value = split.get(key) if isinstance(split, Mapping) else None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise OutputError(f"stack output trafficSplit.{key} missing or not a number")
    if not 0 <= value <= 100:
        raise OutputError(f"stack output trafficSplit.{key}={value} is not in 0..100")
    return float(value)


def effective_weight(outputs: object) -> float:
    """``trafficSplit.effectiveWeight``: the percent of calls V2 is deployed to get."""
    return _split_number(outputs, "effectiveWeight")


def requested_weight(outputs: object) -> int:
    """``trafficSplit.requestedWeight``: the ``canaryWeight`` of the last completed update."""
    return int(_split_number(outputs, "requestedWeight"))


def notification_url(outputs: object) -> str:
    """The app's `url` output plus the notification path that answers with `appversion`."""
    url = outputs.get("url") if isinstance(outputs, Mapping) else None
    if not isinstance(url, str) or not url:
        raise OutputError("stack output url missing (is the stack deployed?)")
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        # e.g. "(pending: ...)" until the load balancer controller has written the Ingress
        # status (components/app/component.py)
        raise OutputError(f"stack output url is not an http(s) URL yet: {url!r}")
    return url.rstrip("/") + NOTIFICATION_PATH
