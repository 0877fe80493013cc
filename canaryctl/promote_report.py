"""The report of one ``promote`` run: one line per step, then what failed and what is deployed.

``--json`` prints ``{"stack", "result", "finalWeight", "steps": [{"weight",
"effectiveWeight", "passed", "failed", "verify", "upSeconds"}]}``; ``verify`` holds the keys
of ``canaryctl verify --json`` for the step's calls (its 95% interval and verdict), while
``passed``/``failed`` are the promotion's gates (the split at ``--confidence``). With
``--xray`` each step also has ``"xray"``: its window, whether the read was complete, the
status (passed, failed, not enough traffic, incomplete) and per version requests, faults,
fault rate with its interval, 4xx rate and p95 (canaryctl/xray_stats.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from canaryctl.progress import clock
from canaryctl.stats import BASELINE_VERSION, CANARY_VERSION, VerifyResult
from canaryctl.xray_stats import XRayRead

PROMOTED, ROLLED_BACK, ROLLBACK_FAILED, INTERRUPTED, LOCKED = (
    "promoted", "rolled-back", "rollback-failed", "interrupted", "locked")
# locked: another update held the stack's lock, so a step's `up` never ran (nothing applied)
EXIT_CODES = {PROMOTED: 0, ROLLED_BACK: 1, ROLLBACK_FAILED: 3, INTERRUPTED: 130, LOCKED: 2}


@dataclass
class StepRecord:
    """One requested step: applied and measured, or merged into the next applied one."""

    weight: int
    effective_weight: float | None
    passed: bool = False
    failed: list[str] = field(default_factory=list)
    verify: VerifyResult | None = None
    up_seconds: float | None = None
    merged_into: int | None = None
    interval: tuple[float, float] | None = None  # V2 share's interval at --confidence
    xray: XRayRead | None = None  # with --xray, once the synthetic gates passed

    def to_json(self) -> dict[str, Any]:
        return {
            "weight": self.weight,
            "effectiveWeight": self.effective_weight,
            "passed": self.passed,
            "failed": list(self.failed),
            "verify": None if self.verify is None else self.verify.to_json(),
            "upSeconds": None if self.up_seconds is None else round(self.up_seconds, 3),
            **({} if self.xray is None else {"xray": self.xray.to_json()}),
        }


@dataclass
class PromoteReport:
    stack: str
    start_weight: int
    steps_arg: tuple[int, ...]
    confidence: str  # e.g. "99%"
    requested: int = 0  # steps to walk (merged ones included), for the "i/n" labels
    result: str = PROMOTED
    final_weight: int | None = None
    steps: list[StepRecord] = field(default_factory=list)
    preamble: list[str] = field(default_factory=list)  # before the steps: skipped, baseline
    notes: list[str] = field(default_factory=list)  # after the steps: the outcome

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.result]

    def to_json(self) -> dict[str, Any]:
        return {"stack": self.stack, "result": self.result, "finalWeight": self.final_weight,
                "steps": [step.to_json() for step in self.steps]}

    def format(self) -> str:
        """Header, one line per step, the failed gates, and the outcome."""
        steps = ",".join(str(s) for s in self.steps_arg)
        lines = [f"Promotion of stack {self.stack}: canaryWeight {self.start_weight}, "
                 f"steps {steps}, split checked at {self.confidence}", *self.preamble]
        if self.steps:
            lines.append(f"{'step':<6}{'weight':>6}{'serves':>8}{'up':>7}  {'V2 share':>8}  "
                         f"{self.confidence + ' interval':<16}{'errors':>7}  "
                         f"{'p95 V1 / V2':<20}result")
        total = max(self.requested, len(self.steps))
        for index, step in enumerate(self.steps, start=1):
            lines.append(format_step(step, f"{index}/{total}"))
            lines += [f"{'':<6}{line}" for line in (step.xray.format() if step.xray else [])]
        for step in self.steps:
            lines += [f"Step canaryWeight {step.weight} failed: {reason}"
                      for reason in step.failed]
        lines += self.notes
        return "\n".join(lines)


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:g}%"


def _p95_ms(result: VerifyResult, version: str) -> str:
    latency = result.latency.get(version)
    return "-" if latency is None else f"{1000 * latency.p95:.1f}"


def format_step(step: StepRecord, label: str) -> str:
    """``1/3       20     25%   0:41     24.5%  [16.8, 34.3]      0.0%  41.0 / 44.2 ms  passed``."""
    head = f"{label:<6}{step.weight:>6}{_percent(step.effective_weight):>8}"
    if step.merged_into is not None:
        return (f"{head}{'-':>7}  merged into canaryWeight {step.merged_into} "
                "(same effective weight)")
    up = "-" if step.up_seconds is None else clock(step.up_seconds)
    verdict = "passed" if step.passed else "FAILED " + ",".join(
        sorted({reason.partition(":")[0] for reason in step.failed}))
    result = step.verify
    if result is None:
        return f"{head}{up:>7}  {'-':>8}  {'-':<16}{'-':>7}  {'-':<20}{verdict}"
    observed = result.observed_weight
    share = "-" if observed is None else f"{observed:.1f}%"
    ci = "-" if step.interval is None else f"[{step.interval[0]:.1f}, {step.interval[1]:.1f}]"
    errors = f"{100 * result.error_rate:.1f}%"
    p95 = f"{_p95_ms(result, BASELINE_VERSION)} / {_p95_ms(result, CANARY_VERSION)} ms"
    return f"{head}{up:>7}  {share:>8}  {ci:<16}{errors:>7}  {p95:<20}{verdict}"
