"""Stand-ins for X-Ray in tests: a fake clock, a botocore Stubber-wrapped client, and answers
shaped like the X-Ray API's (the Stubber checks requests and answers against botocore's
service model, botocore/data/xray/2016-04-12/service-2.json)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import botocore.session
from botocore.stub import Stubber

from canaryctl.xray import AGREEING_READS, OPERATION, SERVICES, XRayReader, selector
from canaryctl.xray_stats import Window

T0 = datetime(2026, 12, 7, 1, 0, 20, tzinfo=UTC)  # "now" when a test starts


def at(hh: int, mm: int) -> datetime:
    return datetime(2026, 12, 7, hh, mm, tzinfo=UTC)


@dataclass
class FakeClock:
    moment: datetime = T0
    slept: float = 0.0

    def now(self) -> datetime:
        return self.moment

    def sleep(self, seconds: float) -> None:
        self.slept += seconds
        self.moment += timedelta(seconds=seconds)


@dataclass(frozen=True)
class Traffic:
    """One service's traced requests over a window: counts and a histogram in seconds."""

    ok: int = 0
    errors: int = 0
    faults: int = 0
    histogram: tuple[tuple[float, int], ...] = ()

    @property
    def total(self) -> int:
        return self.ok + self.errors + self.faults


def quiet() -> Traffic:
    return Traffic()


def healthy(n: int, seconds: float = 0.04) -> Traffic:
    return Traffic(ok=n, histogram=((seconds, n),))


def answer(window: Window, traffic: Traffic) -> dict[str, Any]:
    """A GetTimeSeriesServiceStatistics answer: the traffic in the window's first period."""
    if traffic.total == 0:
        return {"TimeSeriesServiceStatistics": [], "ContainsOldGroupVersions": False}
    return {"TimeSeriesServiceStatistics": [{
        "Timestamp": window.start,
        "EdgeSummaryStatistics": {
            "OkCount": traffic.ok,
            "ErrorStatistics": {"ThrottleCount": 0, "OtherCount": traffic.errors,
                                "TotalCount": traffic.errors},
            "FaultStatistics": {"OtherCount": traffic.faults, "TotalCount": traffic.faults},
            "TotalCount": traffic.total,
            "TotalResponseTime": sum(v * c for v, c in traffic.histogram)},
        "ResponseTimeHistogram": [{"Value": v, "Count": c} for v, c in traffic.histogram]}],
        "ContainsOldGroupVersions": False}


@dataclass
class XRayStub:
    """A Stubber on a real botocore X-Ray client; ``expect_read`` queues one read (V1, V2),
    ``expect_settled`` a window read until complete."""

    clock: FakeClock = field(default_factory=FakeClock)
    regions: list[str | None] = field(default_factory=list)

    def __post_init__(self) -> None:
        session = botocore.session.get_session()
        self.client = session.create_client(
            "xray", region_name="us-east-1", aws_access_key_id="AKIDTEST",
            aws_secret_access_key="test-secret")  # the Stubber answers: nothing is sent
        self.stubber = Stubber(self.client)

    def reader(self, region: str | None = None) -> XRayReader:
        self.regions.append(region)
        return XRayReader(self.client, self.clock.now, self.clock.sleep)

    def expect_read(self, window: Window, v1: Traffic, v2: Traffic) -> None:
        for service, traffic in ((SERVICES["V1"], v1), (SERVICES["V2"], v2)):
            self.stubber.add_response(OPERATION, answer(window, traffic), {
                "StartTime": window.start, "EndTime": window.end,
                "EntitySelectorExpression": selector(service), "Period": 60})

    def expect_settled(self, window: Window, v1: Traffic, v2: Traffic) -> None:
        """The same read as often as the reader needs to count the window complete."""
        for _ in range(AGREEING_READS):
            self.expect_read(window, v1, v2)

    def expect_probe(self) -> None:
        """promote's check before anything is applied: the minute before "now"."""
        end = self.clock.now().replace(second=0, microsecond=0)
        self.expect_read(Window(end - timedelta(minutes=1), end), quiet(), quiet())

    @contextmanager
    def active(self) -> Iterator[XRayStub]:
        with self.stubber:
            yield self
        self.stubber.assert_no_pending_responses()
