"""The gates a ``promote`` step must pass, evaluated on one measurement. Pure.

- split: the deployed effective weight lies inside the Wilson interval of the observed V2
  share at the chosen confidence (99% by default: a healthy four-step promotion then fails
  by chance about 1 - 0.99**4 = 4% of the time; at 95% it would be 1 - 0.95**4 = 19%);
- errors: the share of failed calls is at most ``max_error_rate``;
- latency (only when ``max_latency_ratio`` is given): V2's p95 is at most that many times
  V1's p95 of the same step or, when V1 got no calls (100%), the latest one measured.

Each failed gate gives one reason, ``"<gate>: <what was measured> ..."``.
"""

from __future__ import annotations

from dataclasses import dataclass

from canaryctl.stats import BASELINE_VERSION, CANARY_VERSION, VerifyResult, z_for

SPLIT, ERRORS, LATENCY = "split", "errors", "latency"


@dataclass(frozen=True)
class Gates:
    confidence: float = 0.99
    max_error_rate: float = 0.01
    max_latency_ratio: float | None = None

    @property
    def z(self) -> float:
        return z_for(self.confidence)

    @property
    def percent(self) -> str:
        """The confidence as a label, e.g. ``99%`` or ``99.9%``."""
        return f"{100 * self.confidence:g}%"


def v1_p95(result: VerifyResult) -> float | None:
    """V1's p95 latency in seconds, or None when V1 answered no call."""
    latency = result.latency.get(BASELINE_VERSION)
    return None if latency is None else latency.p95


def evaluate(result: VerifyResult, gates: Gates, v1_baseline: float | None = None) -> list[str]:
    """Reasons the step fails (empty when it passes). ``v1_baseline``: an earlier V1 p95."""
    failed: list[str] = []
    interval = result.interval(gates.z)
    observed = result.observed_weight
    if interval is None or observed is None:
        failed.append(f"{SPLIT}: no valid answer among {result.requests} calls to measure "
                      f"the V2 share (expected {result.expected_weight:g}%)")
    elif not result.split_ok_at(gates.z):
        failed.append(f"{SPLIT}: V2 answered {observed:.1f}% of {result.valid} valid calls; "
                      f"the {gates.percent} interval [{interval[0]:.1f}, {interval[1]:.1f}] "
                      f"excludes the expected {result.expected_weight:g}%")
    if not result.errors_ok:
        kinds = ", ".join(f"{kind}: {n}" for kind, n in result.errors.items())
        failed.append(f"{ERRORS}: {100 * result.error_rate:.1f}% of {result.requests} calls "
                      f"failed ({kinds}), max {100 * result.max_error_rate:g}%")
    if gates.max_latency_ratio is not None:
        reason = _latency(result, gates.max_latency_ratio, v1_baseline)
        if reason is not None:
            failed.append(reason)
    return failed


def _latency(result: VerifyResult, max_ratio: float, v1_baseline: float | None) -> str | None:
    v2 = result.latency.get(CANARY_VERSION)
    if v2 is None:
        return None  # V2 served nothing to time; the split gate judges that
    v1 = v1_p95(result)
    source = "V1's"
    if v1 is None:
        v1, source = v1_baseline, "V1's earlier"
    if v1 is None:
        return f"{LATENCY}: no V1 answer to compare V2's p95 ({1000 * v2.p95:.1f} ms) with"
    ratio = v2.p95 / v1 if v1 > 0 else float("inf")
    if ratio <= max_ratio:
        return None
    return (f"{LATENCY}: V2 p95 {1000 * v2.p95:.1f} ms is {ratio:.2f}x {source} "
            f"{1000 * v1:.1f} ms, max {max_ratio:g}x")
