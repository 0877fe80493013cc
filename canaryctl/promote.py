"""``canaryctl promote``: walk ``canaryWeight`` up step by step through Pulumi, gate every step
on the measured split, errors and (optionally) latency, and roll back by itself.

Each step is an ordinary ``pulumi up`` (with a message naming the step), so the stack's history
audits the release and the stack config always says which weight is deployed. That config is
the only state: a second run continues after the current ``canaryWeight``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from canaryctl import cli_args, xray_cli
from canaryctl.gates import Gates, evaluate, v1_p95
from canaryctl.outputs import OutputError, effective_weight, notification_url, requested_weight
from canaryctl.plan import DEFAULT_STEPS, Plan, Step, parse_steps, plan_steps, predicted_weight
from canaryctl.progress import Status, clock, progress_bar
from canaryctl.promote_report import (
    INTERRUPTED,
    LOCKED,
    ROLLBACK_FAILED,
    ROLLED_BACK,
    PromoteReport,
    StepRecord,
)
from canaryctl.pulumi_stack import WEIGHT_KEY, CanaryStack, StackError, UpRun
from canaryctl.sampling import fetch_version, hint, run_requests, unreachable_hint
from canaryctl.stackfiles import ROOT
from canaryctl.stats import VerifyResult
from canaryctl.xray import XRayError

DESCRIPTION = """\
For each step above the stack's canaryWeight: set it, run `pulumi up` (Automation API),
wait --bake seconds, then measure like `verify`. A step passes when the deployed effective
weight lies in the Wilson interval of the observed V2 share at --confidence, the error rate
is within R and, with --max-latency-ratio, V2's p95 latency is within X times V1's. When a
gate fails, canaryWeight returns to --rollback-weight with one more `pulumi up`.
"""

EPILOG = """\
exit status:
  0    every step passed: the last step's weight is deployed (or nothing was left to do)
  1    a gate failed and the rollback to --rollback-weight succeeded
  2    bad arguments, no Pulumi CLI, no such stack, or the URL does not answer
       (nothing applied); or a step's `pulumi up` met another update's lock (that step
       applied nothing; the passed weight before it stays, result "locked")
  3    the rollback itself failed; the report says which weight is deployed
  130  interrupted (Ctrl-C): the running `pulumi up` finished or was cancelled by Pulumi,
       and the report says which weight is deployed

Steps whose effective weight equals the previous step's (replica strategy, too few pods)
are merged: only the last of them is applied.
"""


class PromoteError(Exception):
    """Stops the command before anything is applied (exit status 2)."""


def add_parser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    """Register ``promote`` on the top-level sub-parsers."""
    parser = subparsers.add_parser(
        "promote",
        help="raise canaryWeight step by step through `pulumi up`, gated, with rollback",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--url", type=cli_args.http_url,
                        help="endpoint answering {\"appversion\": \"V1\"|\"V2\"} (default: the "
                        "stack's `url` output + /usermgmt/notification-xray)")
    parser.add_argument("--stack", metavar="NAME", help="Pulumi stack (default: the current one)")
    parser.add_argument("--steps", type=parse_steps, default=DEFAULT_STEPS, metavar="W,W,...",
                        help="strictly increasing integers in 1..100 (default: 10,25,50,100)")
    parser.add_argument("--bake", type=cli_args.non_negative_seconds, default=30.0,
                        metavar="S", help="seconds to wait after each `up` before measuring "
                        "(default: 30)")
    cli_args.add_sampling_arguments(parser, per=" per step")
    parser.add_argument("--max-latency-ratio", type=cli_args.ratio, metavar="X",
                        help="fail a step when V2's p95 latency exceeds X times V1's "
                        "(off unless given)")
    parser.add_argument("--confidence", type=cli_args.confidence, default=0.99, metavar="P",
                        help="confidence of the split check's interval (default: 0.99)")
    parser.add_argument("--rollback-weight", type=cli_args.percent_int, default=0, metavar="W",
                        help="canaryWeight to return to when a gate fails (default: 0)")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON report on stdout instead of the human report")
    xray_cli.add_promote_arguments(parser)
    parser.set_defaults(func=run)
    return parser


class _Locked(Exception):
    """A step's `up` met another update's lock: stop without rolling back."""


class Promotion:
    """One run: the plan, the gates, the stack, and the records of the steps walked."""

    def __init__(self, args: argparse.Namespace, stack: CanaryStack, plan: Plan, url: str,
                 status: Status, xray: xray_cli.StepXRay | None = None) -> None:
        self.args = args
        self.stack = stack
        self.plan = plan
        self.url = url
        self.status = status
        self.xray = xray  # --xray: the X-Ray analysis of each step
        self.gates = Gates(args.confidence, args.max_error_rate, args.max_latency_ratio)
        self.report = PromoteReport(stack.name, plan.current, args.steps, self.gates.percent,
                                    requested=plan.requested, final_weight=plan.current)
        self.report.preamble += [xray_cli.SAMPLE_NOTE] if xray else []
        self.v1_baseline: float | None = None
        self.index = 0  # requested steps walked so far (merged ones included)
        self.phase = ""  # what a Ctrl-C interrupts, for the report

    # ------------------------------------------------------------------ the walk

    def execute(self) -> PromoteReport:
        """Walk the plan; stop at the first failed gate (rollback) or a Ctrl-C."""
        report = self.report
        if not self.plan.steps:
            report.notes.append(f"Nothing to do: canaryWeight {self.plan.current} is at or "
                                "above every step.")
            return report
        if self.plan.done:
            report.preamble.append("Already done (at or below canaryWeight "
                                f"{self.plan.current}): {', '.join(map(str, self.plan.done))}.")
        failed: StepRecord | None = None
        try:
            if self.gates.max_latency_ratio is not None and self.plan.steps[0].effective >= 100:
                self.phase = "while measuring the latency baseline"
                self._baseline()
            for step in self.plan.steps:
                record = self._walk(step)
                if not record.passed:
                    failed = record
                    break
                report.final_weight = step.weight
        except KeyboardInterrupt:
            return self._interrupted()
        except _Locked:
            return self._locked()
        if failed is not None:
            return self._rollback(failed)
        report.notes.append(f"Result: promoted; canaryWeight {report.final_weight} is deployed "
                            f"(serves {_pct(report.steps[-1].effective_weight)}).")
        return report

    def _label(self) -> str:
        return f"step {self.index}/{self.plan.requested}"

    def _walk(self, step: Step) -> StepRecord:
        merged = [StepRecord(w, step.effective, merged_into=step.weight) for w in step.merged]
        for record in merged:
            self.index += 1
            self.status.line(f"{self._label()}: canaryWeight {record.weight} serves "
                             f"{step.effective:g}% like {step.weight}: merged into it")
        self.report.steps += merged
        self.index += 1
        record = StepRecord(step.weight, None)
        self.report.steps.append(record)
        label = self._label()
        self.phase = f"during the `pulumi up` for canaryWeight {step.weight}"
        self.status.line(f"{label}: canaryWeight {step.weight} (serves {step.effective:g}%): "
                         "pulumi up")
        up = self._up(step.weight, f"canaryctl promote: canaryWeight {step.weight} ({label})",
                      label)
        record.up_seconds = up.seconds
        if up.interrupted:
            raise KeyboardInterrupt
        if up.locked:
            record.failed.append("up: another update holds the stack's lock; nothing was applied")
            raise _Locked
        if not up.ok:
            record.failed.append(f"up: {up.error}")
            return self._settle(merged, record)
        try:
            record.effective_weight = effective_weight(up.outputs)
        except OutputError as exc:
            record.failed.append(f"outputs: {exc}")
            return self._settle(merged, record)
        started = self.xray.now() if self.xray else None  # the step's X-Ray window opens
        self.status.line(f"{label}: up done in {clock(up.seconds)}; serves "
                         f"{record.effective_weight:g}%")
        self.phase = f"while baking/measuring canaryWeight {step.weight}"
        self._bake(label)
        result = self._measure(label, record.effective_weight)
        record.verify = result
        record.interval = result.interval(self.gates.z)
        record.failed += evaluate(result, self.gates, self.v1_baseline)
        if (step_v1 := v1_p95(result)) is not None:
            self.v1_baseline = step_v1
        if self.xray is not None and started is not None and not record.failed:
            self.status.line(f"{label}: X-Ray: reading the traffic of this step")
            record.xray = self.xray.judge_step(
                started, lambda text: self.status.update(f"{label}: {text}"),
                record.effective_weight / 100)
            record.failed += record.xray.failed
        record.passed = not record.failed
        self.status.line(f"{label}: {'passed' if record.passed else 'FAILED'}")
        return self._settle(merged, record)

    @staticmethod
    def _settle(merged: list[StepRecord], record: StepRecord) -> StepRecord:
        for other in merged:  # a merged step shares the outcome of the step it merged into
            other.passed, other.failed = record.passed, list(record.failed)
        return record

    def _up(self, weight: int, message: str, label: str) -> UpRun:
        try:
            self.stack.set_weight(weight)
        except StackError as exc:
            return UpRun(False, 0.0, {}, error=str(exc))

        def tick(elapsed: float, last: str) -> None:
            self.status.update(f"{label}: pulumi up {clock(elapsed)}  {last}")

        def interrupted() -> None:
            self.status.line("interrupted: waiting for the running `pulumi up` to end; it "
                             "finishes, or cancels gracefully when the Ctrl-C reached it too "
                             "(as from a terminal)")
        return self.stack.up(message, tick, interrupted)

    def _bake(self, label: str) -> None:
        end = time.monotonic() + self.args.bake
        while (left := end - time.monotonic()) > 0:
            self.status.update(f"{label}: baking, {clock(left)} left")
            time.sleep(min(0.2, left))

    def _measure(self, label: str, expected: float) -> VerifyResult:
        args = self.args
        self.status.line(f"{label}: sampling {args.requests} calls to {self.url}")
        started = time.monotonic()

        def progress(done: int, total: int) -> None:
            self.status.update(f"{label}: {progress_bar(done, total)} calls "
                               f"{clock(time.monotonic() - started)}", force=done == total)
        outcomes = run_requests(self.url, args.requests, args.concurrency, args.timeout,
                                on_progress=progress)
        self.status.clear()
        return VerifyResult.from_outcomes(self.url, outcomes, expected, args.max_error_rate,
                                          expected_source="trafficSplit.effectiveWeight")

    def _baseline(self) -> None:
        """V1's latency before the first step, when that step leaves V1 no calls (100%)."""
        result = self._measure("baseline", float(self.plan.current))
        self.v1_baseline = v1_p95(result)
        found = "none" if self.v1_baseline is None else f"{1000 * self.v1_baseline:.1f} ms"
        self.report.preamble.append(f"Latency baseline before the first step: V1 p95 {found}.")

    # ------------------------------------------------------------------ the endings

    def _locked(self) -> PromoteReport:
        """A step's `up` met another update's lock (ConcurrentUpdateError): nothing of it ran,
        so what is deployed passed its gates; rolling back would only meet the same lock. The
        stack config goes back to the deployed weight, so it says what is deployed."""
        report = self.report
        report.result = LOCKED
        weight, serves = self._deployed()
        report.final_weight = weight
        note = (f"Stopped: another update holds the stack's lock, so the `pulumi up` for "
                f"canaryWeight {report.steps[-1].weight} did not run. canaryWeight {weight} is "
                f"deployed (serves {_pct(serves)})")
        try:
            if weight is not None and self.stack.settings().weight != weight:
                self.stack.set_weight(weight)
                note += f"; the stack config is set back to canaryWeight {weight}"
        except StackError as exc:
            note += f"; the stack config could not be set back ({exc})"
        report.notes.append(note + ". Run promote again once that update has ended.")
        return report

    def _deployed(self) -> tuple[int | None, float | None]:
        """canaryWeight and effective weight of the last completed update, from its outputs."""
        try:
            outputs = self.stack.outputs()
            return requested_weight(outputs), effective_weight(outputs)
        except (StackError, OutputError):
            return None, None

    def _rollback(self, failed: StepRecord) -> PromoteReport:
        report, target = self.report, self.args.rollback_weight
        gates = ", ".join(sorted({reason.partition(":")[0] for reason in failed.failed}))
        self.status.line(f"step canaryWeight {failed.weight} failed ({gates}): rolling back "
                         f"to canaryWeight {target}")
        try:
            up = self._up(target, f"canaryctl promote: rollback to canaryWeight {target} "
                          f"(canaryWeight {failed.weight} failed: {gates})", "rollback")
        except KeyboardInterrupt:  # in its `config set` (the `up` itself waits for its end)
            up = UpRun(False, 0.0, {}, error="interrupted (Ctrl-C) before its `pulumi up` "
                       "started", interrupted=True)
        if up.ok:
            report.result, report.final_weight = ROLLED_BACK, target
            report.notes.append(f"Result: rolled back; canaryWeight {target} is deployed "
                                f"(serves {_pct(_serves(up.outputs))}), the rollback's up took "
                                f"{clock(up.seconds)}.")
            return report
        weight, serves = self._deployed()
        try:
            configured: int | None = self.stack.settings().weight
        except StackError:
            configured = None
        report.result, report.final_weight = ROLLBACK_FAILED, weight
        report.notes.append(f"Result: ROLLBACK FAILED: {up.error}")
        finish = ("`pulumi up`" if configured == target else
                  f"`pulumi config set {WEIGHT_KEY} {target} && pulumi up`")
        report.notes.append(f"Deployed: canaryWeight {weight} (serves {_pct(serves)}) per the "
                            f"last completed update; the stack config says "
                            f"{'?' if configured is None else configured}. Run {finish} to "
                            "finish the rollback.")
        return report

    def _interrupted(self) -> PromoteReport:
        """After a Ctrl-C: make the config say what the last completed update deployed."""
        report = self.report
        report.result = INTERRUPTED
        if report.steps and not report.steps[-1].passed and not report.steps[-1].failed:
            report.steps[-1].failed.append("interrupted")
        weight, serves = self._deployed()
        report.final_weight = weight
        note = (f"Interrupted {self.phase}: canaryWeight {weight} is deployed "
                f"(serves {_pct(serves)})")
        try:
            configured = self.stack.settings().weight
            if weight is not None and configured != weight:
                self.stack.set_weight(weight)
                note += (f"; the up for {configured} did not complete, so the stack config is "
                         f"set back to canaryWeight {weight}")
        except StackError as exc:
            note += f"; the stack config could not be checked ({exc})"
        report.notes.append(note + ". Run promote again to continue after it.")
        return report


def _pct(value: float | None) -> str:
    return "?" if value is None else f"{value:g}%"


def _serves(outputs: dict[str, Any]) -> float | None:
    try:
        return effective_weight(outputs)
    except OutputError:
        return None


def prepare(args: argparse.Namespace, status: Status) -> Promotion:
    """Open the stack, read its weight, plan the steps, find and probe the URL."""
    try:
        stack = CanaryStack.open(args.stack, ROOT)
        settings = stack.settings()
        url = args.url or notification_url(stack.outputs())
    except StackError as exc:
        raise PromoteError(str(exc)) from exc
    except OutputError as exc:
        raise PromoteError(f"{exc}; pass --url") from exc
    plan = plan_steps(args.steps, settings.weight,
                      predicted_weight(settings.strategy, settings.replicas))
    if plan.steps and args.rollback_weight >= plan.steps[0].weight:
        raise PromoteError(f"--rollback-weight {args.rollback_weight} must be below the first "
                           f"step to apply ({plan.steps[0].weight})")
    if plan.steps:
        probe = fetch_version(url, args.timeout)
        if not probe.answered:
            raise PromoteError(f"cannot reach {url}: {probe.error} ({probe.detail}); "
                               f"nothing applied.{unreachable_hint(url)}")
        if probe.error is not None and (advice := hint(url, probe.error)) is not None:
            raise PromoteError(f"{url} answers, but not as the notification endpoint "
                               f"({probe.detail}); nothing applied. {advice}")
    xray = xray_cli.prepare_promote(args, stack) if args.xray and plan.steps else None
    status.line(f"stack {stack.name}: canaryWeight {settings.weight} "
                f"({settings.strategy}, {settings.replicas} pods); steps to apply: "
                f"{', '.join(str(s.weight) for s in plan.steps) or 'none'}")
    return Promotion(args, stack, plan, url, status, xray)


def run(args: argparse.Namespace) -> int:
    """Execute ``promote``: prepare (exit 2 on any problem), walk, report."""
    status = Status.stderr(sys.stderr)
    try:
        promotion = prepare(args, status)
    except (PromoteError, XRayError) as exc:
        print(f"canaryctl promote: error: {exc}", file=sys.stderr)
        return 2
    report = promotion.execute()
    status.clear()
    print(json.dumps(report.to_json()) if args.json else report.format())
    return report.exit_code
