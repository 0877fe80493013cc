"""End-to-end tests of ``python -m canaryctl promote``, offline.

The real command runs as a subprocess. Pulumi is the stand-in CLI in tests/fake_pulumi/ (found
on PATH by the Automation API), the app is tests/loopback_app.py, and both share one state
file: the stand-in's `up` writes `trafficSplit`, the app serves V2 by it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from canaryctl.stackfiles import project_defaults
from components.canary import plan_split
from tests.loopback_app import Behaviour, LoopbackApp
from tests.util import REPO_ROOT, fake_pulumi_path, write_fake_pulumi_state

FAST = ["--bake", "0", "--requests", "40", "--concurrency", "8", "--timeout", "2"]
STEP_KEYS = {"weight", "effectiveWeight", "passed", "failed", "verify", "upSeconds"}
VERIFY_KEYS = {"requests", "counts", "errors", "observedWeight", "ci95", "expectedWeight",
               "ok", "errorRate", "latencyMs"}


@dataclass
class World:
    """The state file, the app, and how to run the command against them."""

    state_file: Path
    app: LoopbackApp
    path: str  # PATH for the command: the stand-in first, then this interpreter's folder

    def state(self) -> dict[str, Any]:
        return json.loads(self.state_file.read_text())

    def edit(self, **top: Any) -> None:
        state = self.state()
        state.update(top)
        self.state_file.write_text(json.dumps(state))

    @property
    def stack(self) -> dict[str, Any]:
        return self.state()["stacks"]["dev"]

    def weight(self) -> str:
        return self.stack["config"]["eks-canary:canaryWeight"]["value"]

    def calls(self, *prefix: str) -> list[list[str]]:
        return [c for c in self.state().get("calls", []) if c[:len(prefix)] == list(prefix)]

    def up_weights(self) -> list[int]:
        """canaryWeight of every `up`, in order (from the stand-in's history)."""
        history = reversed(self.stack["history"])
        return [int(h["config"]["eks-canary:canaryWeight"]["value"]) for h in history]

    def env(self, path: str | None = None) -> dict[str, str]:
        return {**os.environ, "PATH": self.path if path is None else path,
                "FAKE_PULUMI_STATE": str(self.state_file)}

    def promote(self, *args: str, path: str | None = None,
                timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "canaryctl", "promote", *args],
                              cwd=REPO_ROOT, env=self.env(path), capture_output=True, text=True,
                              timeout=timeout, check=False)

    def promote_json(self, *args: str) -> tuple[int, dict[str, Any], str]:
        proc = self.promote(*args, "--json", *FAST)
        assert proc.stdout.count("\n") == 1, proc.stdout + proc.stderr
        return proc.returncode, json.loads(proc.stdout), proc.stderr


def _seed(path: Path, weight: int, url: str) -> None:
    defaults = project_defaults(REPO_ROOT)
    split = plan_split(defaults["canaryStrategy"], weight, int(defaults["notificationReplicas"]))
    write_fake_pulumi_state(path, current="dev", stacks={"dev": {
        "config": {"eks-canary:canaryWeight": {"value": str(weight), "secret": False}},
        "outputs": {"url": url, "trafficSplit": split.as_output(), "kubeconfig": "{}"},
        "secretOutputs": ["kubeconfig"], "history": []}})


WorldFactory = Callable[..., World]


@pytest.fixture
def make_world(tmp_path: Path) -> Iterator[WorldFactory]:
    """`make_world(weight=0, behaviour=None)`: a stack `dev` and an app serving its split."""
    apps: list[LoopbackApp] = []

    def make(weight: int = 0, behaviour: Behaviour | None = None) -> World:
        state_file = tmp_path / "pulumi-state.json"
        app = LoopbackApp(state_file, behaviour=behaviour)
        apps.append(app)
        _seed(state_file, weight, app.base_url)
        app.start()
        return World(state_file, app, fake_pulumi_path())

    yield make
    for app in apps:
        app.stop()


@pytest.fixture
def world(make_world: WorldFactory) -> World:
    return make_world()


def test_healthy_promotion_reaches_100_in_three_ups(world: World) -> None:
    code, report, err = world.promote_json("--steps", "20,50,100")
    assert code == 0, err
    assert set(report) == {"stack", "result", "finalWeight", "steps"}
    assert report["stack"] == "dev" and report["result"] == "promoted"
    assert report["finalWeight"] == 100 and world.weight() == "100"
    assert world.up_weights() == [20, 50, 100] and len(world.calls("up")) == 3
    steps = report["steps"]
    assert [s["weight"] for s in steps] == [20, 50, 100]
    assert [s["effectiveWeight"] for s in steps] == [25, 50, 100]  # 4 pods: 20 serves 25
    for step in steps:
        assert set(step) == STEP_KEYS and set(step["verify"]) == VERIFY_KEYS
        assert step["passed"] is True and step["failed"] == [] and step["upSeconds"] > 0
        assert step["verify"]["requests"] == 40
    assert steps[0]["verify"]["counts"] == {"V1": 30, "V2": 10}
    assert steps[2]["verify"]["counts"] == {"V2": 40}
    # every step is an auditable update whose message names it
    messages = [h["message"] for h in reversed(world.stack["history"])]
    assert messages[0] == "canaryctl promote: canaryWeight 20 (step 1/3)"
    # progress went to stderr: which step, the up, the calls
    assert "step 2/3: canaryWeight 50 (serves 50%): pulumi up" in err
    assert "step 3/3: sampling 40 calls" in err and "step 3/3: passed" in err


def test_failing_v2_is_rolled_back_after_the_first_step(make_world: WorldFactory) -> None:
    world = make_world(behaviour=Behaviour(v2_error_rate=0.3))
    code, report, err = world.promote_json("--steps", "20,50,100")
    assert code == 1, err
    assert report["result"] == "rolled-back" and report["finalWeight"] == 0
    assert world.weight() == "0" and world.up_weights() == [20, 0]
    assert world.stack["outputs"]["trafficSplit"]["effectiveWeight"] == 0  # deployed, too
    (step,) = report["steps"]
    assert step["weight"] == 20 and step["passed"] is False
    assert step["verify"]["errors"] == {"http_500": 3} and step["verify"]["errorRate"] == 0.075
    assert [r.split(":")[0] for r in step["failed"]] == ["errors"]
    assert "7.5% of 40 calls failed (http_500: 3), max 1%" in step["failed"][0]
    history = world.stack["history"][0]
    assert history["message"].startswith("canaryctl promote: rollback to canaryWeight 0")


# V2 answers 0.4 s late; with a ratio limit of 2, V1's p95 would have to exceed 0.4 s (a very
# loaded machine) for the gate to pass by mistake.
SLOW_V2 = Behaviour(v2_extra_seconds=0.4)
ALL_AT_ONCE = ["--requests", "20", "--concurrency", "20"]  # the 0.4 s overlap, not add up


def test_slower_v2_fails_the_latency_gate(make_world: WorldFactory) -> None:
    world = make_world(behaviour=SLOW_V2)
    proc = world.promote("--steps", "50,100", "--max-latency-ratio", "2", "--json", *FAST,
                         *ALL_AT_ONCE)
    code, report = proc.returncode, json.loads(proc.stdout)
    assert code == 1 and report["result"] == "rolled-back" and world.weight() == "0"
    (step,) = report["steps"]
    assert [r.split(":")[0] for r in step["failed"]] == ["latency"]
    assert "max 2x" in step["failed"][0]
    latency = step["verify"]["latencyMs"]
    assert latency["V2"]["p50"] >= 400 and latency["V2"]["p50"] > latency["V1"]["p50"]


def test_latency_gate_at_100_compares_with_v1_measured_before(make_world: WorldFactory) -> None:
    world = make_world(weight=50, behaviour=SLOW_V2)
    proc = world.promote("--steps", "100", "--max-latency-ratio", "2", *FAST, *ALL_AT_ONCE)
    assert proc.returncode == 1 and world.up_weights() == [100, 0]
    assert "Latency baseline before the first step: V1 p95" in proc.stdout
    assert "failed: latency: V2 p95" in proc.stdout and "V1's earlier" in proc.stdout


def test_resumed_promotion_applies_only_the_steps_above_the_current_weight(
        make_world: WorldFactory) -> None:
    world = make_world(weight=50)
    proc = world.promote("--steps", "20,50,100", *FAST)
    assert proc.returncode == 0, proc.stderr
    assert world.up_weights() == [100] and world.weight() == "100"
    assert proc.stdout.splitlines() == [
        "Promotion of stack dev: canaryWeight 50, steps 20,50,100, split checked at 99%",
        "Already done (at or below canaryWeight 50): 20, 50.",
        proc.stdout.splitlines()[2],  # the column titles
        proc.stdout.splitlines()[3],  # the one step
        "Result: promoted; canaryWeight 100 is deployed (serves 100%)."]
    titles, step = proc.stdout.splitlines()[2:4]
    assert titles.split()[:3] == ["step", "weight", "serves"] and titles.endswith("result")
    assert step.split()[:3] == ["1/1", "100", "100%"] and step.endswith("passed")


def test_steps_with_the_same_effective_weight_are_merged(world: World) -> None:
    code, report, err = world.promote_json("--steps", "10,25,50")
    assert code == 0, err
    assert world.up_weights() == [25, 50]  # with 4 pods, 10 and 25 both serve 25%
    merged, first, second = report["steps"]
    assert merged == {"weight": 10, "effectiveWeight": 25.0, "passed": True, "failed": [],
                      "verify": None, "upSeconds": None}
    assert first["weight"] == 25 and second["weight"] == 50
    assert "canaryWeight 10 serves 25% like 25: merged into it" in err


def test_a_failing_up_is_a_failed_step_and_rolled_back(world: World) -> None:
    world.edit(failUpAt=[20])
    code, report, _ = world.promote_json("--steps", "20,50")
    assert code == 1 and report["result"] == "rolled-back" and world.weight() == "0"
    (step,) = report["steps"]
    assert step["failed"] == ["up: pulumi up failed: error: update failed: the stand-in was "
                              "told to fail at canaryWeight 20"]
    assert step["verify"] is None and step["effectiveWeight"] is None
    assert world.up_weights() == [20, 0] and world.app.served == {(0.0, "V1"): 1}  # the probe


def test_a_stack_locked_by_another_update_stops_without_rolling_back(
        make_world: WorldFactory) -> None:
    """ConcurrentUpdateError: the `up` never ran, so the deployed weight (which passed) stays;
    rolling back would only meet the same lock. The config goes back to the deployed weight."""
    world = make_world()
    world.edit(lockedAt=[50])
    code, report, _ = world.promote_json("--steps", "20,50,100")
    assert code == 2 and report["result"] == "locked"
    assert world.up_weights() == [20] and world.weight() == "20"  # the locked up never ran
    assert report["finalWeight"] == 20
    assert report["steps"][-1]["weight"] == 50
    assert report["steps"][-1]["failed"] == [
        "up: another update holds the stack's lock; nothing was applied"]


def test_failed_rollback_exits_3_and_says_what_is_deployed(make_world: WorldFactory) -> None:
    world = make_world(behaviour=Behaviour(v2_error_rate=0.3))
    world.edit(failUpAt=[0])
    proc = world.promote("--steps", "20,50,100", *FAST)
    assert proc.returncode == 3, proc.stderr
    assert world.up_weights() == [20, 0] and world.weight() == "0"
    assert world.stack["outputs"]["trafficSplit"]["requestedWeight"] == 20
    assert "Step canaryWeight 20 failed: errors: 7.5% of 40 calls failed" in proc.stdout
    assert "Result: ROLLBACK FAILED: pulumi up failed: error: update failed" in proc.stdout
    assert ("Deployed: canaryWeight 20 (serves 25%) per the last completed update; the stack "
            "config says 0. Run `pulumi up` to finish the rollback.") in proc.stdout


def test_a_rollback_whose_config_set_fails_says_what_the_config_holds(
        make_world: WorldFactory) -> None:
    world = make_world(behaviour=Behaviour(v2_error_rate=0.3))
    world.edit(failConfigSet=["0"])
    proc = world.promote("--steps", "20,50,100", *FAST)
    assert proc.returncode == 3, proc.stderr
    assert world.up_weights() == [20] and world.weight() == "20"
    assert "Result: ROLLBACK FAILED: pulumi config set canaryWeight 0 failed" in proc.stdout
    assert ("Deployed: canaryWeight 20 (serves 25%) per the last completed update; the stack "
            "config says 20. Run `pulumi config set canaryWeight 0 && pulumi up` to finish "
            "the rollback.") in proc.stdout


def test_without_pulumi_on_path_exits_2(world: World, tmp_path: Path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    proc = world.promote("--steps", "20", *FAST, path=f"{empty}")
    assert proc.returncode == 2 and proc.stdout == ""
    assert "Pulumi CLI (`pulumi`) is not on PATH" in proc.stderr
    assert world.calls() == [] and world.app.served == {}


def test_unknown_stack_exits_2(world: World) -> None:
    proc = world.promote("--stack", "prod", "--steps", "20", *FAST)
    assert proc.returncode == 2 and "no stack named 'prod'" in proc.stderr
    assert world.calls("up") == [] and world.calls("config", "set") == []


@pytest.mark.parametrize("steps", ["50,20", "20,150", "abc"])  # more in test_promote_units
def test_bad_steps_exit_2_before_anything_runs(world: World, steps: str) -> None:
    proc = world.promote("--steps", steps, *FAST)
    assert proc.returncode == 2 and "--steps" in proc.stderr and "Traceback" not in proc.stderr
    assert world.calls() == [] and world.weight() == "0"


def test_unreachable_url_exits_2_with_nothing_applied(world: World) -> None:
    proc = world.promote("--url", "http://127.0.0.1:9/x", "--steps", "20", *FAST)
    assert proc.returncode == 2 and "cannot reach http://127.0.0.1:9/x" in proc.stderr
    assert world.calls("up") == [] and world.calls("config", "set") == []


def test_a_url_answering_html_exits_2_with_a_hint_and_nothing_applied(
        world: World, tmp_path: Path) -> None:
    html = tmp_path / "site"
    html.mkdir()
    (html / "index.html").write_text("<html><body>It works</body></html>")
    server = subprocess.Popen([sys.executable, "-m", "http.server", "0", "--bind", "127.0.0.1",
                               "--directory", str(html)], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True)
    try:
        assert server.stdout is not None
        port = server.stdout.readline().split("port ")[1].split()[0]
        proc = world.promote("--url", f"http://127.0.0.1:{port}/", "--steps", "20", *FAST)
    finally:
        server.terminate()
        server.wait(10)
    assert proc.returncode == 2 and "/usermgmt/notification-xray" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert world.calls("up") == [] and world.calls("config", "set") == []


def test_rollback_weight_must_be_below_the_first_step_applied(make_world: WorldFactory) -> None:
    world = make_world(weight=20)
    proc = world.promote("--steps", "20,50,100", "--rollback-weight", "50", *FAST)
    assert proc.returncode == 2
    assert "--rollback-weight 50 must be below the first step to apply (50)" in proc.stderr
    assert world.calls("up") == [] and world.calls("config", "set") == []


@pytest.fixture
def sigint_reaches_children() -> Iterator[None]:
    """Ctrl-C as in a terminal, even when the tests run in a background job: a shell without
    job control starts those with SIGINT ignored, children inherit an ignored signal across
    exec, and Python then installs no KeyboardInterrupt handler (signal module docs). A
    handled signal is reset to its default in a child at exec, so the child handles it."""
    before = signal.getsignal(signal.SIGINT)
    if before == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, before)


def _interrupt_during_up(world: World, whole_group: bool) -> subprocess.CompletedProcess[str]:
    """Start a promotion whose `up` is held until released, and send SIGINT while it runs."""
    hold = _hold(world, "up")
    proc = subprocess.Popen(
        [sys.executable, "-m", "canaryctl", "promote", "--steps", "20,50", "--json", *FAST],
        cwd=REPO_ROOT, env=world.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, start_new_session=True)
    _wait_for(lambda: "upRunning" in world.state())
    if whole_group:  # a Ctrl-C in a terminal: the whole foreground group gets it
        os.killpg(proc.pid, signal.SIGINT)
    else:
        proc.send_signal(signal.SIGINT)
    time.sleep(0.3)  # promote has the signal while the `up` still runs
    hold.unlink()
    out, err = proc.communicate(timeout=30)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def _hold(world: World, what: str) -> Path:
    """Hold the stand-in's `what` (`up`, `config-set-<value>`) until the file is removed."""
    hold = Path(f"{world.state_file}.hold-{what}")
    hold.touch()
    return hold


def _wait_for(condition: Callable[[], bool], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the stand-in never got there"
        time.sleep(0.02)


@pytest.mark.usefixtures("sigint_reaches_children")
def test_ctrl_c_cancels_the_running_up_and_reports_the_deployed_weight(world: World) -> None:
    proc = _interrupt_during_up(world, whole_group=True)
    assert proc.returncode == 130, proc.stderr
    report = json.loads(proc.stdout)
    assert report["result"] == "interrupted" and report["finalWeight"] == 0
    assert report["steps"][0]["failed"] == ["interrupted"]
    assert world.stack["history"][0]["result"] == "cancelled"
    assert world.weight() == "0"  # config set back: it says what is deployed
    assert "waiting for the running `pulumi up` to end" in proc.stderr


@pytest.mark.usefixtures("sigint_reaches_children")
def test_ctrl_c_to_promote_alone_lets_the_up_finish(world: World) -> None:
    proc = _interrupt_during_up(world, whole_group=False)
    assert proc.returncode == 130, proc.stderr
    report = json.loads(proc.stdout)
    assert report["result"] == "interrupted" and report["finalWeight"] == 20
    assert world.up_weights() == [20] and world.weight() == "20"
    assert world.stack["history"][0]["result"] == "succeeded"


def _interrupt_config_set(world: World, value: str) -> subprocess.CompletedProcess[str]:
    """Start a promotion whose `config set canaryWeight <value>` is held until released, and
    send SIGINT to promote alone while it runs (the stand-in goes on and writes the value)."""
    hold = _hold(world, f"config-set-{value}")
    proc = subprocess.Popen(
        [sys.executable, "-m", "canaryctl", "promote", "--steps", "20,50", "--json", *FAST],
        cwd=REPO_ROOT, env=world.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, start_new_session=True)
    _wait_for(lambda: world.state().get("configSetRunning") == value)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.3)  # promote has the signal while the `config set` still runs
    hold.unlink()
    out, err = proc.communicate(timeout=30)
    # a stand-in left running must not write after the assertions
    _wait_for(lambda: "configSetRunning" not in world.state())
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


@pytest.mark.usefixtures("sigint_reaches_children")
def test_ctrl_c_during_a_steps_config_set_leaves_the_config_at_the_deployed_weight(
        world: World) -> None:
    proc = _interrupt_config_set(world, "20")
    assert proc.returncode == 130, proc.stderr
    report = json.loads(proc.stdout)
    assert report["result"] == "interrupted" and report["finalWeight"] == 0
    assert world.calls("up") == [] and world.weight() == "0"  # resumable: 20 is not done


@pytest.mark.usefixtures("sigint_reaches_children")
def test_ctrl_c_during_the_rollbacks_config_set_still_reports(make_world: WorldFactory) -> None:
    world = make_world(behaviour=Behaviour(v2_error_rate=0.3))
    proc = _interrupt_config_set(world, "0")
    assert proc.returncode == 3, proc.stderr
    report = json.loads(proc.stdout)
    assert report["result"] == "rollback-failed" and report["finalWeight"] == 20
    assert world.up_weights() == [20] and world.weight() == "0"
