"""Reading AWS X-Ray: the client, the per-version queries, and waiting for a complete window.

The client is boto3's, made the way boto3 makes any client (``boto3.session.Session()``): the
credential chain (environment, ``AWS_PROFILE`` and the shared files, SSO, the container and
instance roles) and an endpoint from ``AWS_ENDPOINT_URL_XRAY`` or ``AWS_ENDPOINT_URL``
(botocore/configprovider.py, ``EnvironmentProvider``/``_get_env_var_name``:
``AWS_ENDPOINT_URL_<SERVICE ID>``). The region is the stack's ``aws:region``: the traces are
there (the tracing backend sends to its cluster's region), and a profile's region elsewhere
would read an empty X-Ray that never judges. boto3's own region (``AWS_DEFAULT_REGION`` or the
profile's; botocore 1.44 reads no ``AWS_REGION``: configprovider.py) serves only a stack
without one. boto3 is imported here, on
first use, so ``canaryctl --help``, ``render`` and ``verify`` without ``--xray`` never load it.

The query is ``GetTimeSeriesServiceStatistics`` (X-Ray API 2016-04-12; paginated by
``NextToken``, botocore/data/xray/2016-04-12/paginators-1.json) once per version, with the
``EntitySelectorExpression``
``edge("User-Management-Microservice", "V2-Notification-Microservice")`` (the model: "A filter
expression defining entities that will be aggregated for statistics. Supports ID, service, and
edge functions"; the X-Ray developer guide's filter expressions, xray-console-filters, write
``edge(source, destination)``), whose ``EdgeSummaryStatistics`` count user management's calls
to that version: the real traffic. The version's own service node would also count the
kubelet's readiness probes of its pods (traced by the app's servlet filter, each within the
SDK's reservoir of one a second), enough to fill a five-minute window alone. ``Period`` 60
("Aggregation period in seconds"). Statistics come per period, so a window is whole minutes: a
minute straddling the step's ``up`` would mix in the weight before it. ``GetServiceGraph`` has
the same counts and histograms but takes no service name and returns every service of the
account, so it is not used.

Data arrives late: the apps' SDK sends a segment when it closes, the X-Ray daemon batches them
(pkg/processor/processor.go of aws/aws-xray-daemon: a batch of ``BatchSize`` segments or after
``IdleTimeoutMillisecond``), and X-Ray then processes them; no delay is documented. So a window
is first read ``settle`` seconds after its end and read again every ``POLL_S`` seconds until
three reads in a row agree (complete), or until the deadline (incomplete).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from canaryctl.stats import BASELINE_VERSION, CANARY_VERSION
from canaryctl.xray_stats import VersionStats, Window, XRayRead
from components.app.names import TRACING_NAMES, USERMGMT_TRACING_NAME

# the X-Ray service name of each version: the apps' AWS_XRAY_TRACING_NAME
SERVICES = {BASELINE_VERSION: TRACING_NAMES["v1"], CANARY_VERSION: TRACING_NAMES["v2"]}
PERIOD_S = 60
MINUTE = timedelta(seconds=PERIOD_S)
POLL_S = 15.0
# equal reads in a row before a window counts as complete: its numbers held for 30 s (two equal
# reads 15 s apart may only mean no batch was processed meanwhile)
AGREEING_READS = 3
OPERATION = "get_time_series_service_statistics"


class XRayError(Exception):
    """X-Ray cannot be asked (no boto3, region or credentials, an API error); one line."""


def utcnow() -> datetime:
    return datetime.now(UTC)


def make_client(stack_region: str | None = None) -> Any:
    """An X-Ray client resolved as boto3 resolves any, in ``stack_region`` when there is one."""
    try:
        import boto3  # type: ignore[import-untyped]
    except ImportError as exc:  # pragma: no cover - requirements.txt pins it
        raise XRayError(f"boto3 is not installed ({exc}): pip install -r requirements.txt") \
            from exc
    session = boto3.session.Session()
    region = stack_region or session.region_name
    if not region:
        raise XRayError("no AWS region: set AWS_DEFAULT_REGION (or a profile's region) or the "
                        "stack's aws:region")
    return session.client("xray", region_name=region)


def selector(service: str) -> str:
    """User management's calls to ``service`` (an X-Ray edge), not the service's own node."""
    return f'edge("{USERMGMT_TRACING_NAME}", "{service}")'


def floor_minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def ceil_minute(moment: datetime) -> datetime:
    floor = floor_minute(moment)
    return floor if floor == moment else floor + MINUTE


def step_window(started: datetime, seconds: float) -> Window:
    """Whole minutes from the first minute after ``started`` (a step's `up` ended), at least
    ``seconds`` long."""
    start = ceil_minute(started)
    return Window(start, start + max(1, math.ceil(seconds / PERIOD_S)) * MINUTE)


@dataclass(frozen=True)
class Timing:
    window_s: float = 300.0  # a step's window (rounded up to whole minutes)
    settle_s: float = 60.0  # wait after the window's end before the first read
    wait_s: float = 300.0  # past end + settle: for the numbers to settle or V2's traffic


class XRayReader:
    """Reads the two services' statistics; ``now``/``sleep`` are injectable for tests."""

    def __init__(self, client: Any, now: Callable[[], datetime] = utcnow,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.client = client
        self.now = now
        self.sleep = sleep

    def read(self, window: Window) -> dict[str, VersionStats]:
        """One read of both versions over ``window`` (every page)."""
        versions: dict[str, VersionStats] = {}
        for version, service in SERVICES.items():
            periods: list[dict[str, Any]] = []
            try:
                pages = self.client.get_paginator(OPERATION).paginate(
                    StartTime=window.start, EndTime=window.end,
                    EntitySelectorExpression=selector(service), Period=PERIOD_S)
                for page in pages:
                    periods += page.get("TimeSeriesServiceStatistics") or []
            except Exception as exc:  # botocore's ClientError/BotoCoreError: one message
                raise XRayError(f"GetTimeSeriesServiceStatistics for {service} failed: "
                                f"{_one_line(exc)}") from exc
            # keep only periods inside the window (X-Ray is asked for exactly these)
            versions[version] = VersionStats.of(
                p for p in periods if window.start <= p.get("Timestamp", window.start)
                < window.end)
        return versions

    def wait_until(self, moment: datetime, on_wait: Callable[[str], None], what: str) -> None:
        while (left := (moment - self.now()).total_seconds()) > 0:
            on_wait(f"{what}, {_clock(left)} left")
            self.sleep(min(1.0, left))

    def analyse(self, window: Window, timing: Timing, min_requests: int,
                on_wait: Callable[[str], None], extend: bool = True) -> XRayRead:
        """Read ``window`` once it is complete (``AGREEING_READS`` equal reads in a row); with
        ``extend``, add minutes (up to the deadline) while V2 has fewer than ``min_requests``
        traced requests."""
        settle = timedelta(seconds=timing.settle_s)
        deadline = max(window.end + settle, self.now()) + timedelta(seconds=timing.wait_s)
        reads = 0
        while True:
            self.wait_until(window.end + settle, on_wait, f"X-Ray: waiting for {window.label} "
                            "to arrive")
            current, complete, same = self.read(window), False, 1
            reads += 1
            while self.now() + timedelta(seconds=POLL_S) <= deadline:
                on_wait(f"X-Ray: read {reads} of {window.label}; reading again in {POLL_S:g} s")
                self.sleep(POLL_S)
                again = self.read(window)
                reads += 1
                same = same + 1 if again == current else 1
                current = again
                if same >= AGREEING_READS:
                    complete = True
                    break
            short = current[CANARY_VERSION].requests < min_requests
            if (extend and complete and short
                    and window.end + MINUTE + settle + timedelta(seconds=POLL_S) <= deadline):
                on_wait(f"X-Ray: {current[CANARY_VERSION].requests} traced V2 requests in "
                        f"{window.label}, need {min_requests}: one more minute")
                window = Window(window.start, window.end + MINUTE)
                continue
            return XRayRead(window, current, complete=complete, reads=reads)


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(math.ceil(seconds)), 60)
    return f"{minutes}:{secs:02d}"


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__
