"""What X-Ray says about each notification version over one window, and the X-Ray gates. Pure.

The numbers come from ``GetTimeSeriesServiceStatistics`` (canaryctl/xray.py reads them): per
period, a service's ``ServiceSummaryStatistics`` and ``ResponseTimeHistogram``. In botocore's
service model (botocore/data/xray/2016-04-12/service-2.json, botocore 1.44.18):

- ``ServiceStatistics.TotalCount`` is "the total number of completed requests", ``OkCount``
  those with a 2xx status, ``ErrorStatistics.TotalCount`` those that "failed with a 4xx Client
  Error status code" and ``FaultStatistics.TotalCount`` those that "failed with a 5xx Server
  Error status code";
- a ``HistogramEntry`` is ``{"Value": double, "Count": integer}``: ``Count`` requests took
  ``Value`` seconds (X-Ray times are in seconds, like a segment's ``start_time``/``end_time``).

These are counts of *traced* requests: the apps' X-Ray SDK samples (the default rule traces
the first request each second and 5% of the others, see README), so each rate is a sample
proportion and is reported with its Wilson interval, and p95 is the p95 of the traced
requests. The fault gate fails only when the interval's lower end exceeds the limit, i.e.
when the sample shows V2 faulting more than allowed at ``--confidence``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from canaryctl.stats import BASELINE_VERSION, CANARY_VERSION, wilson_interval

XRAY = "xray"  # the gate's name in a step's failed reasons
PASSED, FAILED, NOT_ENOUGH, INCOMPLETE = "passed", "failed", "not enough traffic", "incomplete"


def histogram_percentile(histogram: Mapping[float, int], p: float) -> float | None:
    """Nearest-rank percentile of a histogram ``{seconds: count}``: the smallest value with at
    least p% of the counted requests at or below it; None for an empty histogram."""
    if not 0 < p <= 100:
        raise ValueError(f"p must be in (0, 100], got {p}")
    total = sum(count for count in histogram.values() if count > 0)
    if total == 0:
        return None
    rank = max(1, math.ceil(p / 100 * total))
    seen = 0
    for value in sorted(histogram):
        seen += max(0, histogram[value])
        if seen >= rank:
            return value
    return max(histogram)  # unreachable: seen reaches total


@dataclass(frozen=True)
class VersionStats:
    """One version's traced requests in the window, summed over the periods read."""

    requests: int = 0  # completed requests (TotalCount)
    ok: int = 0
    errors: int = 0  # 4xx
    faults: int = 0  # 5xx
    histogram: dict[float, int] = field(default_factory=dict)  # response seconds -> count

    @classmethod
    def of(cls, periods: Iterable[Mapping[str, Any]]) -> VersionStats:
        """Sum the ``TimeSeriesServiceStatistics`` entries of one service."""
        requests = ok = errors = faults = 0
        histogram: dict[float, int] = {}
        for period in periods:
            # an edge selector answers with the edge's statistics, a service one with the node's
            summary = (period.get("EdgeSummaryStatistics")
                       or period.get("ServiceSummaryStatistics") or {})
            requests += int(summary.get("TotalCount") or 0)
            ok += int(summary.get("OkCount") or 0)
            errors += int((summary.get("ErrorStatistics") or {}).get("TotalCount") or 0)
            faults += int((summary.get("FaultStatistics") or {}).get("TotalCount") or 0)
            for entry in period.get("ResponseTimeHistogram") or []:
                value = float(entry["Value"])
                histogram[value] = histogram.get(value, 0) + int(entry["Count"])
        return cls(requests, ok, errors, faults, dict(sorted(histogram.items())))

    def rate(self, count: int) -> float | None:
        return count / self.requests if self.requests else None

    def interval(self, count: int, z: float) -> tuple[float, float] | None:
        return wilson_interval(count, self.requests, z) if self.requests else None

    @property
    def p95(self) -> float | None:
        """Seconds; from the response-time histogram."""
        return histogram_percentile(self.histogram, 95)

    def to_json(self, z: float) -> dict[str, Any]:
        def pct(value: float | None) -> float | None:
            return None if value is None else round(100 * value, 3)

        interval = self.interval(self.faults, z)
        p95 = self.p95
        return {"requests": self.requests, "ok": self.ok, "errors": self.errors,
                "faults": self.faults, "faultRate": pct(self.rate(self.faults)),
                "faultInterval": None if interval is None else [pct(v) for v in interval],
                "errorRate": pct(self.rate(self.errors)),
                "p95Ms": None if p95 is None else round(1000 * p95, 1)}


@dataclass(frozen=True)
class Window:
    """[start, end), both on whole minutes (UTC)."""

    start: datetime
    end: datetime

    @property
    def label(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M} UTC"

    def to_json(self) -> list[str]:
        return [self.start.isoformat(), self.end.isoformat()]


@dataclass
class XRayRead:
    """One step's (or one ``verify``'s) X-Ray analysis: what was read and what it means."""

    window: Window
    versions: dict[str, VersionStats]
    complete: bool = True  # two reads in a row agreed (the window's data had all arrived)
    reads: int = 1
    status: str = PASSED
    failed: list[str] = field(default_factory=list)  # "xray: ..." reasons
    notes: list[str] = field(default_factory=list)
    confidence: str = "99%"
    z: float = 2.5758293035489004

    def stats(self, version: str) -> VersionStats:
        return self.versions.get(version, VersionStats())

    def to_json(self) -> dict[str, Any]:
        return {"window": self.window.to_json(), "complete": self.complete, "reads": self.reads,
                "status": self.status, "confidence": self.confidence,
                "versions": {v: self.stats(v).to_json(self.z)
                             for v in (BASELINE_VERSION, CANARY_VERSION)},
                "notes": list(self.notes)}

    def format(self) -> list[str]:
        """``X-Ray 01:02-01:07 UTC (sampled traces)  V1 1520 req, faults 0.1% [0.0, 0.4],
        4xx 0.0%, p95 41.0 ms | V2 ...  passed``, then the notes."""
        parts = []
        for version in (BASELINE_VERSION, CANARY_VERSION):
            s = self.stats(version)
            interval = s.interval(s.faults, self.z)
            faults = "-" if interval is None else (
                f"{100 * s.faults / s.requests:.1f}% [{100 * interval[0]:.1f}, "
                f"{100 * interval[1]:.1f}]")
            errors = "-" if not s.requests else f"{100 * s.errors / s.requests:.1f}%"
            p95 = "-" if s.p95 is None else f"{1000 * s.p95:.1f} ms"
            parts.append(f"{version} {s.requests} req, faults {faults}, 4xx {errors}, p95 {p95}")
        head = f"X-Ray {self.window.label} (traced requests, {self.confidence} intervals): "
        return [head + " | ".join(parts) + f"  {self.status}", *self.notes]


def judge(read: XRayRead, max_fault_rate: float, min_requests: int,
          max_latency_ratio: float | None = None, v1_baseline: float | None = None,
          expected_share: float | None = None) -> XRayRead:
    """Set ``status``, ``failed`` and ``notes`` of a read; return it.

    - faults: fails when the lower end of V2's fault-rate interval exceeds ``max_fault_rate``,
      however few the requests (the interval allows for that);
    - missing calls (with ``expected_share``, V2's served share): fails when V2 got so few of
      user management's traced calls that even half its share would give so few with
      probability below 1 - confidence (binomial lower tail). A V2 that refuses connections
      or times out records no segment, so its faults appear only as calls it never got;
    - otherwise, fewer than ``min_requests`` traced V2 requests: ``not enough traffic``, no
      verdict;
    - latency (with ``max_latency_ratio``): V2's p95 at most that many times V1's p95 of the
      same window or, when V1 served nothing there (100%), ``v1_baseline``.
    An incomplete window (its numbers still changing at the deadline) is judged on what had
    arrived for faults only when that already fails; otherwise it is ``incomplete``.
    """
    v1, v2 = read.stats(BASELINE_VERSION), read.stats(CANARY_VERSION)
    read.failed = []
    interval = v2.interval(v2.faults, read.z)
    if interval is not None and interval[0] > max_fault_rate:
        # the interval allows for the sample's size: few requests can already be proof enough
        read.failed.append(
            f"{XRAY}: V2 faulted (5xx) on {v2.faults} of {v2.requests} traced requests "
            f"({100 * v2.faults / v2.requests:.1f}%, {read.confidence} interval "
            f"[{100 * interval[0]:.1f}, {100 * interval[1]:.1f}]) in {read.window.label}, "
            f"max {100 * max_fault_rate:g}%")
    elif (missing := _missing_calls(v1, v2, expected_share, read.z)) is not None:
        read.failed.append(f"{XRAY}: {missing} in {read.window.label}")
    elif v2.requests < min_requests:
        read.status = NOT_ENOUGH
        read.notes.append(f"X-Ray: not enough traffic: {v2.requests} traced V2 requests in "
                          f"{read.window.label}, need {min_requests}; X-Ray neither passes nor "
                          "fails this step")
        return read
    if not read.complete and not read.failed:
        read.status = INCOMPLETE
        read.notes.append(f"X-Ray: the numbers for {read.window.label} were still changing "
                          f"after {read.reads} reads; X-Ray neither passes nor fails this step")
        return read
    if max_latency_ratio is not None:
        reason = _latency(v1, v2, max_latency_ratio, v1_baseline)
        if reason is not None:
            read.failed.append(reason)
    read.status = FAILED if read.failed else PASSED
    return read


def _latency(v1: VersionStats, v2: VersionStats, max_ratio: float,
             v1_baseline: float | None) -> str | None:
    v2_p95 = v2.p95
    if v2_p95 is None:
        return None  # no histogram: nothing to time
    base, source = v1.p95, "V1's"
    if base is None:
        base, source = v1_baseline, "V1's earlier"
    if base is None:
        return None  # nothing to compare with; the synthetic latency gate still runs
    ratio = v2_p95 / base if base > 0 else math.inf
    if ratio <= max_ratio:
        return None
    return (f"{XRAY}: V2 p95 {1000 * v2_p95:.1f} ms on traced requests is {ratio:.2f}x "
            f"{source} {1000 * base:.1f} ms, max {max_ratio:g}x")


def _missing_calls(v1: VersionStats, v2: VersionStats, share: float | None,
                   z: float) -> str | None:
    """Why V2's share of the traced calls is too small to be chance, or None."""
    total = v1.requests + v2.requests
    if share is None or share <= 0 or total == 0:
        return None
    # P(X <= observed) for X ~ Binomial(total, share / 2), summed exactly: so few calls that
    # even half the served share would rarely give them (a split a little off is no failure)
    tail = _binomial_cdf(v2.requests, total, share / 2)
    alpha = math.erfc(z / math.sqrt(2))  # two-sided, as the intervals: 1 - confidence
    if tail >= alpha:
        return None
    return (f"V2 got {v2.requests} of {total} traced calls from user management while it "
            f"serves {100 * share:g}% (chance of so few even at half that share: {tail:.1e}); "
            f"it may refuse or time out calls, which leave no V2 segment")


def _binomial_cdf(k: int, n: int, p: float) -> float:
    """P(X <= k) for X ~ Binomial(n, p), 0 < p < 1, each term in log space: math.comb of
    thousands of traced calls is past a float's range."""
    log_p, log_q = math.log(p), math.log1p(-p)
    log_n = math.lgamma(n + 1)
    return min(1.0, sum(math.exp(log_n - math.lgamma(i + 1) - math.lgamma(n - i + 1)
                                 + i * log_p + (n - i) * log_q) for i in range(k + 1)))
