"""The live life-cycle driver in the ordinary suite: the same steps as tests/live/test_live.py,
against the stand-in pulumi (tests/fake_pulumi/pulumi), the loopback app
(tests/loopback_app.py) and a stand-in kubectl whose port-forward relays to that app
(tests/live/fake_kubectl/kubectl). Seconds, not minutes: no bake, 40 calls a measurement.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pulumi import automation as auto

from tests.live import test_live
from tests.live.leftovers import LocalLeftovers
from tests.live.lifecycle import (
    ROOT,
    Leftovers,
    LifeCycleError,
    Plan,
    Record,
    Runners,
    run_canaryctl,
    run_life_cycle,
    unique_stack_name,
)
from tests.live.reach import port_forward
from tests.loopback_app import Behaviour, LoopbackApp
from tests.util import fake_pulumi_path, write_fake_pulumi_state

FAKE_KUBECTL_DIR = Path(__file__).resolve().parent / "fake_kubectl"
PORT_FORWARD = ("kubectl --context kind-canary -n canary port-forward "
                "service/usermgmt-restapp-nodeport-service 8095:8095")
LOCAL_OUTPUTS = {"url": "http://localhost:8095", "portForward": PORT_FORWARD,
                 "traceUi": "http://localhost:16686"}


class StateLeftovers:
    """Stand-in leftover check: the stand-in pulumi's state must no longer know the stack."""

    def __init__(self, state_file: Path, extra: list[str] | None = None) -> None:
        self.state_file, self.extra = state_file, extra or []

    def stacks(self) -> dict[str, Any]:
        return json.loads(self.state_file.read_text())["stacks"]

    def before(self, stack: str) -> None:
        if stack in self.stacks():
            raise LifeCycleError(f"stack {stack} exists already")

    def after(self, stack: str, record: Record) -> Leftovers:
        left = [f"stack {stack}"] if stack in self.stacks() else []
        return Leftovers(objects=left + self.extra, kept=["final snapshot (none here)"])


@dataclass
class Life:
    plan: Plan
    runners: Runners
    state_file: Path
    kubectl_log: Path
    app: LoopbackApp
    lines: list[str]

    def run(self) -> Record:
        return run_life_cycle(self.plan, self.runners)

    def calls(self) -> list[list[str]]:
        """The stand-in pulumi's commands that change something (`config set KEY`, `up`,
        `destroy`, `stack init|rm`), without their other arguments."""
        calls = json.loads(self.state_file.read_text())["calls"]
        return [c[:3] if c[:2] == ["config", "set"] else c[:2] if c[0] == "stack" else c[:1]
                for c in calls if c[:2] in (["config", "set"], ["stack", "init"],
                                            ["stack", "rm"]) or c[0] in ("up", "destroy")]

    def forwards(self) -> list[list[str]]:
        return [json.loads(line) for line in self.kubectl_log.read_text().splitlines()]


LifeFactory = Callable[..., Life]
# a cluster with another project's Pulumi-made ClusterRole (there before: not a leftover)
CLUSTER = Path(__file__).resolve().parent / "data" / "fake-cluster.json"


@pytest.fixture
def make_life(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LifeFactory]:
    apps: list[LoopbackApp] = []

    def make(behaviour: Behaviour | None = None, extra_leftovers: list[str] | None = None,
             outputs: dict[str, Any] | None = None) -> Life:
        name = unique_stack_name("local")
        state_file, kubectl_log = tmp_path / "pulumi-state.json", tmp_path / "kubectl.log"
        kubectl_log.write_text("")
        write_fake_pulumi_state(state_file, stacks={},
                                upOutputs=LOCAL_OUTPUTS if outputs is None else outputs)
        app = LoopbackApp(state_file, stack=name, behaviour=behaviour).start()
        apps.append(app)
        monkeypatch.setenv("PATH", fake_pulumi_path(FAKE_KUBECTL_DIR))
        monkeypatch.setenv("FAKE_PULUMI_STATE", str(state_file))
        monkeypatch.setenv("FAKE_KUBECTL_LOG", str(kubectl_log))
        monkeypatch.setenv("FAKE_KUBECTL_FORWARD_TO", app.base_url.removeprefix("http://"))
        monkeypatch.setenv("FAKE_KUBECTL_CLUSTER", str(CLUSTER))
        lines: list[str] = []
        runners = Runners(
            workspace=lambda: auto.LocalWorkspace(work_dir=str(ROOT)),
            reach=lambda out: port_forward(out, ready_s=20),
            canaryctl=lambda args: run_canaryctl(args, log=lines.append),
            leftovers=StateLeftovers(state_file, extra_leftovers), log=lines.append)
        plan = Plan(stack=name, target="local", config={"target": "local", "canaryWeight": "50"},
                    requests=40, concurrency=8, timeout=2.0, steps="25,50,100", bake=0.0)
        return Life(plan, runners, state_file, kubectl_log, app, lines)

    yield make
    for app in apps:
        app.stop()


LIFE = [["stack", "init"], ["config", "set", "target"], ["config", "set", "canaryWeight"],
        ["up"],  # verify at 50 reads the outputs only
        ["config", "set", "canaryWeight"], ["up"],  # 100
        ["config", "set", "canaryWeight"], ["up"],  # 0
        ["config", "set", "canaryWeight"], ["up"], ["config", "set", "canaryWeight"], ["up"],
        ["config", "set", "canaryWeight"], ["up"],  # promote 25, 50, 100
        ["destroy"], ["up"], ["destroy"], ["stack", "rm"]]


def test_the_whole_life_of_a_local_stack(make_life: LifeFactory) -> None:
    life = make_life()
    record = life.run()
    assert life.calls() == LIFE
    (_, at_50), (_, at_100), (_, promotion) = record.reports
    assert at_50["counts"] == {"V1": 20, "V2": 20} and at_50["expectedWeight"] == 50
    assert at_50["ci95"][0] <= 50 <= at_50["ci95"][1] and at_50["ok"] is True
    assert at_100["counts"] == {"V2": 40} and at_100["errors"] == {}
    assert promotion["result"] == "promoted" and promotion["finalWeight"] == 100
    assert [(s["weight"], s["passed"]) for s in promotion["steps"]] == [
        (25, True), (50, True), (100, True)]
    # the calls went through the port-forward to the app the stand-in deployed
    served = life.app.served
    assert served[(100.0, "V1")] == 0 and served[(0.0, "V2")] == 0
    assert served[(50.0, "V2")] >= 40 and served[(100.0, "V2")] >= 80
    # each up's outputs, for the leftover check (final snapshots on AWS)
    weights = [o["trafficSplit"]["effectiveWeight"] for o in record.outputs]
    assert weights == [50, 100, 0, 100]  # promote's ups are its own; then up after destroy
    # three port-forwards of the exported command, each on a free port, on 127.0.0.1
    forwards = life.forwards()
    assert len(forwards) == 3
    for argv in forwards:
        assert argv[:5] == ["--context", "kind-canary", "-n", "canary", "port-forward"]
        assert argv[5:7] == ["--address", "127.0.0.1"]
        assert argv[7] == "service/usermgmt-restapp-nodeport-service"
        assert re.fullmatch(r"\d+:8095", argv[8]) and argv[8] != "8095:8095"
    # every step logged with its duration, the stack gone
    done = [line for line in life.lines if re.search(r": done in [\d.ms]+$", line)]
    assert [d.split(":")[0] for d in done] == [
        "check that nothing of an earlier stack is in the way", f"new stack {life.plan.stack}",
        "up (canaryWeight 50)", "verify at 50", "canaryWeight 100, up, every call V2",
        "canaryWeight 0, up", "promote 25,50,100", "destroy", "up again under the same name",
        "destroy again", "stack rm", "check that nothing is left"]
    assert record.durations and all(seconds >= 0 for _, seconds in record.durations)
    assert any("left on purpose" in line for line in life.lines)
    assert life.plan.stack not in json.loads(life.state_file.read_text())["stacks"]


def test_a_failing_step_destroys_and_removes_the_stack(make_life: LifeFactory) -> None:
    life = make_life(behaviour=Behaviour(v2_error_rate=0.5))
    with pytest.raises(LifeCycleError, match=r"verify at 50.0% failed \(exit 1\).*http_500"):
        life.run()
    assert life.calls()[-2:] == [["destroy"], ["stack", "rm"]]
    assert life.plan.stack not in json.loads(life.state_file.read_text())["stacks"]
    assert any("cleaning up stack" in line for line in life.lines)


def test_a_failing_step_keeps_the_stack_when_asked(make_life: LifeFactory) -> None:
    life = make_life(behaviour=Behaviour(v2_error_rate=0.5))
    life.plan = Plan(**{**life.plan.__dict__, "keep_on_failure": True})
    with pytest.raises(LifeCycleError):
        life.run()
    assert ["destroy"] not in life.calls()
    assert any(f"kept stack {life.plan.stack}" in line for line in life.lines)


def test_leftovers_fail_the_life_cycle(make_life: LifeFactory) -> None:
    life = make_life(extra_leftovers=["Namespace mysql (Terminating)"])
    with pytest.raises(LifeCycleError, match=r"left 1 object\(s\): Namespace mysql"):
        life.run()


def test_a_local_stack_without_port_forward_output_is_refused(make_life: LifeFactory) -> None:
    life = make_life(outputs={"url": "http://localhost:8095"})
    with pytest.raises(LifeCycleError, match="exports portForward and url"):
        life.run()
    assert life.calls()[-2:] == [["destroy"], ["stack", "rm"]]


def test_the_live_test_wiring_for_local_runs_on_stand_ins(make_life: LifeFactory,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """tests/live/test_live.py's own set-up (the current kubeconfig context, set as
    kubeContext; the port-forward; the kubectl leftover check) with small samples."""
    life = make_life()  # the stand-ins on PATH
    monkeypatch.setattr(test_live, "log_to_stdout", life.lines.append)
    plan, runners = test_live.live_setup({"EKS_CANARY_LIVE": "local"}, requests=40,
                                         concurrency=8, timeout=2.0, bake=0.0)
    assert plan.config == {"target": "local", "canaryWeight": "50",
                           "canaryStrategy": "replicas", "kubeContext": "kind-canary"}
    assert isinstance(runners.leftovers, LocalLeftovers)
    runners.log = runners.leftovers.log = life.lines.append
    life.app.stack = plan.stack
    run_life_cycle(plan, runners)
    configs = [c[2:] for c in life.calls() if c[:2] == ["config", "set"]]
    assert configs[:4] == [["target"], ["canaryWeight"], ["canaryStrategy"], ["kubeContext"]]
    gets = [argv for argv in life.forwards() if "get" in argv]
    assert ["--context", "kind-canary", "get", "namespaces", "-o", "json"] in gets
    assert ["--context", "kind-canary", "get", "persistentvolumeclaims", "--all-namespaces",
            "-o", "json"] in gets
    assert ["--context", "kind-canary", "get", "clusterroles", "-o", "json"] in gets


def verify_with(answers: list[tuple[int, dict[str, Any]]]) -> tuple[list[str], Any]:
    """Run the driver's verify step on canned `canaryctl verify --json` answers."""
    from contextlib import nullcontext

    from tests.live.lifecycle import Ran, verify

    lines: list[str] = []
    replies = iter(answers)

    def canaryctl(args: list[str]) -> Ran:
        code, report = next(replies)
        return Ran(code, json.dumps(report), "")

    runners = Runners(workspace=lambda: None,  # type: ignore[arg-type, return-value]
                      reach=lambda out: nullcontext("http://app"), canaryctl=canaryctl,
                      leftovers=StateLeftovers(Path("/nonexistent")), log=lines.append)
    plan = Plan(stack="s", target="local", config={})

    def run() -> dict[str, Any]:
        return verify(plan, runners, Record("s"), {}, 50.0)

    return lines, run


OFF = {"counts": {"V1": 130, "V2": 70}, "errors": {}, "ci95": [28.7, 41.9], "ok": False,
       "expectedWeight": 50.0, "observedWeight": 35.0}
ON = {**OFF, "counts": {"V1": 99, "V2": 101}, "ci95": [43.6, 57.4], "ok": True,
      "observedWeight": 50.5}


def test_a_split_that_is_only_off_is_measured_once_more() -> None:
    lines, run = verify_with([(1, OFF), (0, ON)])
    assert run() == ON
    assert "split off" in lines[0] and "measuring again" in lines[0]


def test_a_split_off_twice_or_with_errors_fails() -> None:
    _, run = verify_with([(1, OFF), (1, OFF)])
    with pytest.raises(LifeCycleError, match=r"verify at 50.0% failed \(exit 1\)"):
        run()
    _, run = verify_with([(1, {**OFF, "errors": {"http_500": 3}}), (0, ON)])
    with pytest.raises(LifeCycleError, match="http_500"):
        run()
