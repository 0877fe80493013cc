"""The life a user gives a stack, as steps: the driver of the live life-cycle test.

A uniquely named new stack; `up`; `canaryctl verify` at canaryWeight 50 (the deployed weight
inside the measured interval); canaryWeight 100 and `up` (every call answered by V2);
canaryWeight 0 and `up`, then `canaryctl promote` through steps to 100; `destroy`; `up` again
under the same name; `destroy`; `stack rm`; then nothing of the stack may be left.

Each step is a function over injected runners, so the same driver runs for real
(tests/live/test_live.py: the Pulumi CLI, a `kubectl port-forward`, kubectl or the AWS
tagging API) and in the ordinary suite (tests/live/test_driver.py: the stand-in pulumi, the
loopback app, a stand-in kubectl and leftover check).

Pulumi is driven through its Automation API (pulumi 3.272.0, pulumi/automation/_stack.py and
_local_workspace.py): ``Stack.create`` runs `stack init NAME`, ``set_config`` `config set`,
``up`` `up --yes --skip-preview`, ``destroy`` `destroy --skip-preview --yes` and
``LocalWorkspace.remove_stack`` `stack rm --yes NAME`, which Pulumi rejects while the stack
still has resources. canaryctl runs as the user runs it: ``python -m canaryctl ...`` in the
project folder.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from pulumi import automation as auto

from canaryctl.outputs import NOTIFICATION_PATH

ROOT = Path(__file__).resolve().parent.parent.parent  # the project folder (Pulumi.yaml)


class LifeCycleError(AssertionError):
    """A step did not do what a user relies on; the message says which and what was seen."""


@dataclass(frozen=True)
class Plan:
    """What to run: the stack's name and config, and how hard to sample."""

    stack: str
    target: str  # "local" or "aws"
    config: dict[str, str]  # set on the new stack (project keys plain, others "ns:key")
    requests: int = 200  # calls of each verify and of each promote step
    concurrency: int = 10
    timeout: float = 5.0  # seconds per call
    steps: str = "25,50,100"  # promote's --steps
    bake: float = 30.0  # promote's --bake
    keep_on_failure: bool = False  # leave a failed stack for inspection (no clean-up)


def unique_stack_name(target: str, now: float | None = None) -> str:
    """`live-<target>-<UTC MMDD-HHMMSS>-<4 hex>`: new for every run, short enough for every
    AWS name derived from it (components/naming.py shortens longer ones anyway)."""
    stamp = time.strftime("%m%d-%H%M%S", time.gmtime(time.time() if now is None else now))
    return f"live-{target}-{stamp}-{secrets.token_hex(2)}"


@dataclass(frozen=True)
class Ran:
    """How one canaryctl command ended."""

    code: int
    stdout: str
    stderr: str


@dataclass(frozen=True)
class Leftovers:
    """What the stack left: ``objects`` fail the test; ``kept`` are left on purpose (final DB
    snapshots) and printed for the user to delete; ``notes`` are hints to print."""

    objects: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class LeftoverCheck(Protocol):
    def before(self, stack: str) -> None:
        """Raise LifeCycleError when the cluster or account is not fit for a new stack."""

    def after(self, stack: str, record: Record) -> Leftovers:
        """What of the stack is still there, after its destroy and removal."""


@dataclass
class Runners:
    """The real systems, or their stand-ins."""

    workspace: Callable[[], auto.Workspace]  # a workspace on the project folder
    reach: Callable[[Mapping[str, Any]], AbstractContextManager[str]]  # outputs -> base URL
    canaryctl: Callable[[list[str]], Ran]
    leftovers: LeftoverCheck
    log: Callable[[str], None]


@dataclass
class Record:
    """What the life cycle saw: each up's outputs and each step's duration."""

    stack: str
    outputs: list[dict[str, Any]] = field(default_factory=list)
    reports: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # canaryctl's JSON
    durations: list[tuple[str, float]] = field(default_factory=list)

    @property
    def final_snapshots(self) -> list[str]:
        """`databaseFinalSnapshot` of every deployment (AWS; one per destroy)."""
        return [o["databaseFinalSnapshot"] for o in self.outputs
                if o.get("databaseFinalSnapshot")]


def log_to_stdout(line: str) -> None:
    print(f"[live {time.strftime('%H:%M:%S')}] {line}", flush=True)


def clock(seconds: float) -> str:
    minutes, rest = divmod(int(round(seconds)), 60)
    return f"{minutes}m{rest:02d}s" if minutes else f"{seconds:.1f}s"


@contextmanager
def step(record: Record, runners: Runners, name: str) -> Iterator[None]:
    """Log a step's start and its duration at the end (a real run takes many minutes)."""
    runners.log(f"{name} ...")
    started = time.monotonic()
    try:
        yield
    except BaseException:
        runners.log(f"{name}: FAILED after {clock(time.monotonic() - started)}")
        raise
    seconds = time.monotonic() - started
    record.durations.append((name, seconds))
    runners.log(f"{name}: done in {clock(seconds)}")


# ----------------------------------------------------------------------------- the steps


def create(runners: Runners, plan: Plan) -> auto.Stack:
    """A new stack of the project (it fails if the name exists) with the plan's config."""
    stack = auto.Stack.create(plan.stack, runners.workspace())
    for key, value in plan.config.items():
        stack.set_config(key, auto.ConfigValue(value=value))
    return stack


def deploy(stack: auto.Stack, record: Record, runners: Runners, message: str) -> dict[str, Any]:
    """`pulumi up`; the outputs as plain values."""
    result = stack.up(message=message, color="never",
                      on_output=lambda line: _tail(runners, line))
    outputs = {key: out.value for key, out in result.outputs.items()}
    record.outputs.append(outputs)
    return outputs


def _tail(runners: Runners, line: str) -> None:
    """Pulumi's resource lines, so a long `up` or `destroy` shows it is alive."""
    text = line.rstrip()
    if text.strip().startswith(("+", "-", "~", "pulumi:pulumi:Stack", "Resources:",
                                "Duration:")):
        runners.log("  pulumi: " + text.strip())


def set_weight(stack: auto.Stack, weight: int) -> None:
    stack.set_config("canaryWeight", auto.ConfigValue(value=str(weight)))


def served_weight(outputs: Mapping[str, Any]) -> float:
    split = outputs.get("trafficSplit")
    if not isinstance(split, Mapping) or "effectiveWeight" not in split:
        raise LifeCycleError(f"stack output trafficSplit.effectiveWeight missing: {outputs!r}")
    return float(split["effectiveWeight"])


def _json(ran: Ran, command: str) -> dict[str, Any]:
    try:
        value = json.loads(ran.stdout)
    except ValueError:
        raise LifeCycleError(f"canaryctl {command} printed no JSON (exit {ran.code}): "
                             f"{ran.stdout[-500:]!r} {ran.stderr[-1500:]}") from None
    if not isinstance(value, dict):
        raise LifeCycleError(f"canaryctl {command} printed {value!r}")
    return value


def verify(plan: Plan, runners: Runners, record: Record, outputs: Mapping[str, Any],
           expect: float) -> dict[str, Any]:
    """`canaryctl verify --stack S --json` (the expected weight from the stack's outputs, as a
    user runs it) through the app's address; the deployed weight must lie in its interval."""
    with runners.reach(outputs) as base:
        for attempt in (1, 2):
            ran = runners.canaryctl([
                "verify", "--url", base.rstrip("/") + NOTIFICATION_PATH, "--stack", plan.stack,
                "--json", "--requests", str(plan.requests), "--concurrency",
                str(plan.concurrency), "--timeout", str(plan.timeout)])
            report = _json(ran, "verify")
            record.reports.append(("verify", report))
            ci95 = report.get("ci95") or [-1.0, -1.0]
            seen = (f"{report.get('counts')} errors {report.get('errors')}, observed "
                    f"{report.get('observedWeight')}%, 95% interval {ci95}")
            if report.get("expectedWeight") != expect:
                raise LifeCycleError(f"verify expected {report.get('expectedWeight')}% from "
                                     f"the stack outputs, the stack serves {expect}%")
            if ran.code == 0 and report.get("ok") and ci95[0] <= expect <= ci95[1]:
                runners.log(f"verify at {expect:g}%: {seen}")
                return report
            # a 95% interval misses the true weight in 1 run of 20 by chance alone: a split
            # that is only off (no errors) is measured once more (both miss: 1 in 400)
            if attempt == 1 and ran.code == 1 and not report.get("errors"):
                runners.log(f"verify at {expect:g}%: split off ({seen}); measuring again")
                continue
            break
    raise LifeCycleError(f"verify at {expect}% failed (exit {ran.code}): {seen}")


def promote(plan: Plan, runners: Runners, record: Record,
            outputs: Mapping[str, Any]) -> dict[str, Any]:
    """`canaryctl promote --stack S --steps ... --json` from canaryWeight 0 to 100."""
    with runners.reach(outputs) as base:
        ran = runners.canaryctl([
            "promote", "--stack", plan.stack, "--url", base.rstrip("/") + NOTIFICATION_PATH,
            "--steps", plan.steps, "--bake", f"{plan.bake:g}", "--requests", str(plan.requests),
            "--concurrency", str(plan.concurrency), "--timeout", str(plan.timeout), "--json"])
    report = _json(ran, "promote")
    record.reports.append(("promote", report))
    walked = [(s.get("weight"), s.get("passed")) for s in report.get("steps", [])]
    if ran.code != 0 or report.get("result") != "promoted" or report.get("finalWeight") != 100:
        raise LifeCycleError(f"promote did not reach 100 (exit {ran.code}, result "
                             f"{report.get('result')}, steps {walked}): {ran.stderr[-1500:]}")
    runners.log(f"promote: {walked}")
    return report


def run_life_cycle(plan: Plan, runners: Runners) -> Record:
    """Walk the whole life; on a failure destroy and remove the stack (unless
    ``keep_on_failure``) and re-raise. Returns the record; raises LifeCycleError on leftovers."""
    record = Record(plan.stack)
    runners.log(f"stack {plan.stack} ({plan.target}), config {plan.config}")
    with step(record, runners, "check that nothing of an earlier stack is in the way"):
        runners.leftovers.before(plan.stack)
    stack: auto.Stack | None = None
    try:
        with step(record, runners, f"new stack {plan.stack}"):
            stack = create(runners, plan)
        with step(record, runners, "up (canaryWeight 50)"):
            outputs = deploy(stack, record, runners, "live test: first up at canaryWeight 50")
        with step(record, runners, "verify at 50"):
            verify(plan, runners, record, outputs, served_weight(outputs))
        with step(record, runners, "canaryWeight 100, up, every call V2"):
            set_weight(stack, 100)
            outputs = deploy(stack, record, runners, "live test: canaryWeight 100")
            report = verify(plan, runners, record, outputs, 100.0)
            if report.get("counts") != {"V2": plan.requests} or report.get("errors"):
                raise LifeCycleError(f"at canaryWeight 100 not every call was V2: "
                                     f"{report.get('counts')}, errors {report.get('errors')}")
        with step(record, runners, "canaryWeight 0, up"):
            set_weight(stack, 0)
            outputs = deploy(stack, record, runners, "live test: canaryWeight 0")
            if served_weight(outputs) != 0:
                raise LifeCycleError(f"canaryWeight 0 serves {served_weight(outputs)}%")
        with step(record, runners, f"promote {plan.steps}"):
            promote(plan, runners, record, outputs)
        with step(record, runners, "destroy"):
            stack.destroy(color="never", on_output=lambda line: _tail(runners, line))
        with step(record, runners, "up again under the same name"):
            deploy(stack, record, runners, "live test: up after destroy")
        with step(record, runners, "destroy again"):
            stack.destroy(color="never", on_output=lambda line: _tail(runners, line))
        with step(record, runners, "stack rm"):
            stack.workspace.remove_stack(plan.stack)
            stack = None
    except BaseException:
        if stack is not None and not plan.keep_on_failure:
            clean_up(stack, runners)
        elif stack is not None:
            runners.log(f"kept stack {plan.stack} for inspection: pulumi destroy --stack "
                        f"{plan.stack} && pulumi stack rm {plan.stack}")
        raise
    with step(record, runners, "check that nothing is left"):
        left = runners.leftovers.after(plan.stack, record)
    for kept in left.kept:
        runners.log(f"left on purpose, delete when no longer needed: {kept}")
    for note in left.notes:
        runners.log(note)
    total = sum(seconds for _, seconds in record.durations)
    runners.log(f"life cycle of {plan.stack}: {clock(total)} in all")
    if left.objects:
        raise LifeCycleError(f"stack {plan.stack} left {len(left.objects)} object(s): "
                             + "; ".join(left.objects))
    return record


def clean_up(stack: auto.Stack, runners: Runners) -> None:
    """After a failure: destroy and remove the stack, so nothing keeps running (and costing)."""
    runners.log(f"cleaning up stack {stack.name} after the failure: destroy, stack rm")
    try:
        stack.destroy(color="never", on_output=lambda line: _tail(runners, line))
        stack.workspace.remove_stack(stack.name)
    except Exception as exc:  # report, keep the original failure
        runners.log(f"CLEAN-UP FAILED ({exc}); run: pulumi destroy --stack {stack.name} && "
                    f"pulumi stack rm {stack.name}")


# ----------------------------------------------------------------------------- canaryctl


def run_canaryctl(args: list[str], log: Callable[[str], None] = log_to_stdout) -> Ran:
    """``python -m canaryctl ARGS`` in the project folder, as a user runs it; its stderr
    (promote's progress) is logged line by line while it runs."""
    proc = subprocess.Popen([sys.executable, "-m", "canaryctl", *args], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    err: list[str] = []

    def pump() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            err.append(line)
            if line.strip():
                log(f"  canaryctl: {line.rstrip()}")

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    assert proc.stdout is not None
    out = proc.stdout.read()
    code = proc.wait()
    reader.join(timeout=5)
    return Ran(code, out, "".join(err))
