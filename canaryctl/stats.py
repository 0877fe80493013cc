"""What a sample of calls says: the V2 share with its Wilson interval, errors, latency.

Pure functions and one result type shared by ``verify`` and ``promote``; no I/O here.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Any

from canaryctl.sampling import Outcome

Z95 = 1.959963984540054  # two-sided 95% normal quantile
CANARY_VERSION = "V2"
BASELINE_VERSION = "V1"


def z_for(confidence: float) -> float:
    """Two-sided normal quantile for a confidence level in (0, 1), e.g. 0.99 -> 2.5758."""
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    return NormalDist().inv_cdf((1 + confidence) / 2)


def wilson_interval(successes: int, trials: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion, as fractions in [0, 1].

    Wilson rather than the normal approximation because it stays sensible near 0% and
    100% (a canary at 0 or full weight) and for small samples.
    """
    if trials <= 0 or not 0 <= successes <= trials:
        raise ValueError(f"need 0 <= successes <= trials and trials > 0, got {successes}/{trials}")
    p = successes / trials
    z2 = z * z
    denom = 1 + z2 / trials
    centre = (p + z2 / (2 * trials)) / denom
    half = z * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile: the smallest value with at least p% of values at or below it.

    Nearest rank always returns an observed value, which reads plainly in a report
    ("95% of answers took at most 41 ms") and needs no interpolation rule.
    """
    if not values:
        raise ValueError("percentile of no values")
    if not 0 < p <= 100:
        raise ValueError(f"p must be in (0, 100], got {p}")
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


@dataclass(frozen=True)
class Latency:
    """Latency of the answered calls of one version, in seconds."""

    answers: int
    p50: float
    p95: float

    @classmethod
    def of(cls, seconds: Sequence[float]) -> Latency:
        return cls(len(seconds), percentile(seconds, 50), percentile(seconds, 95))

    def to_json(self) -> dict[str, float | int]:
        return {"answers": self.answers, "p50": round(1000 * self.p50, 1),
                "p95": round(1000 * self.p95, 1)}


@dataclass(frozen=True)
class VerifyResult:
    """Counts from one run and the verdict derived from them."""

    url: str
    requests: int
    counts: dict[str, int]
    errors: dict[str, int]
    expected_weight: float
    max_error_rate: float
    answered: int = 0
    error_samples: dict[str, str] = field(default_factory=dict)
    expected_source: str = "--expect"
    latency: dict[str, Latency] = field(default_factory=dict)

    @classmethod
    def from_outcomes(
        cls,
        url: str,
        outcomes: Sequence[Outcome],
        expected_weight: float,
        max_error_rate: float,
        expected_source: str = "--expect",
    ) -> VerifyResult:
        """Aggregate per-request outcomes."""
        counts = Counter(o.version for o in outcomes if o.version is not None)
        errors = Counter(o.error for o in outcomes if o.error is not None)
        samples: dict[str, str] = {}
        seconds: dict[str, list[float]] = {}
        for o in outcomes:
            if o.error is not None:
                samples.setdefault(o.error, o.detail)
            if o.version is not None and o.seconds is not None:
                seconds.setdefault(o.version, []).append(o.seconds)
        return cls(
            url=url,
            requests=len(outcomes),
            counts=dict(sorted(counts.items())),
            errors=dict(sorted(errors.items())),
            expected_weight=expected_weight,
            max_error_rate=max_error_rate,
            answered=sum(o.answered for o in outcomes),
            error_samples=samples,
            expected_source=expected_source,
            latency={v: Latency.of(s) for v, s in sorted(seconds.items())},
        )

    @property
    def valid(self) -> int:
        return sum(self.counts.values())

    @property
    def error_rate(self) -> float:
        return sum(self.errors.values()) / self.requests if self.requests else 1.0

    @property
    def observed_weight(self) -> float | None:
        """V2 share of valid answers, in percent; None without valid answers."""
        if not self.valid:
            return None
        return 100.0 * self.counts.get(CANARY_VERSION, 0) / self.valid

    def interval(self, z: float = Z95) -> tuple[float, float] | None:
        """Wilson interval of the V2 share at the confidence of ``z``, in percent."""
        if not self.valid:
            return None
        low, high = wilson_interval(self.counts.get(CANARY_VERSION, 0), self.valid, z)
        return 100.0 * low, 100.0 * high

    @property
    def ci95(self) -> tuple[float, float] | None:
        """95% Wilson interval of the V2 share, in percent."""
        return self.interval(Z95)

    def split_ok_at(self, z: float) -> bool:
        """Whether the expected weight lies inside the interval at the confidence of ``z``."""
        ci = self.interval(z)
        return ci is not None and ci[0] - 1e-9 <= self.expected_weight <= ci[1] + 1e-9

    @property
    def split_ok(self) -> bool:
        return self.split_ok_at(Z95)

    @property
    def errors_ok(self) -> bool:
        return self.error_rate <= self.max_error_rate

    @property
    def ok(self) -> bool:
        return self.split_ok and self.errors_ok

    @property
    def reachable(self) -> bool:
        """False when not a single request got an HTTP answer."""
        return self.answered > 0

    def exit_code(self) -> int:
        if not self.reachable:
            return 2
        return 0 if self.ok else 1

    def to_json(self) -> dict[str, Any]:
        ci = self.ci95
        observed = self.observed_weight
        return {
            "requests": self.requests,
            "counts": self.counts,
            "errors": self.errors,
            "observedWeight": None if observed is None else round(observed, 3),
            "ci95": None if ci is None else [round(ci[0], 3), round(ci[1], 3)],
            "expectedWeight": self.expected_weight,
            "ok": self.ok,
            "errorRate": round(self.error_rate, 6),
            "latencyMs": {version: lat.to_json() for version, lat in self.latency.items()},
        }
