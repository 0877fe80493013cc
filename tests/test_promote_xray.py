"""``promote --xray`` and ``verify --xray`` end to end, in this process: the stand-in pulumi
(tests/fake_pulumi) and the loopback app as in tests/test_promote.py, and X-Ray as a botocore
Stubber on a real client (every request and answer checked against the service model) with a
fake clock, so a step's whole-minute window costs no real minutes."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from canaryctl import xray_cli
from canaryctl.__main__ import main
from canaryctl.xray_stats import Window
from tests.loopback_app import LoopbackApp
from tests.test_promote import FAST, World, _seed
from tests.util import FAKE_PULUMI_DIR
from tests.xray_fakes import Traffic, XRayStub, at, healthy, quiet

STEP_WINDOW = Window(at(1, 1), at(1, 6))  # the fake clock reads 01:00:20 when the up ends
FAULTING_V2 = Traffic(ok=150, faults=50, histogram=((0.04, 200),))
XRAY_FAST = ["--xray", "--xray-settle", "60", "--xray-wait", "300"]


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    """Stack `dev` at canaryWeight 0 and an app serving its split, V2 never failing."""
    state_file = tmp_path / "pulumi-state.json"
    app = LoopbackApp(state_file)
    _seed(state_file, 0, app.base_url)
    app.start()
    path = os.pathsep.join([str(FAKE_PULUMI_DIR), str(Path(sys.executable).parent),
                            os.environ.get("PATH", "")])
    monkeypatch.setenv("PATH", path)
    monkeypatch.setenv("FAKE_PULUMI_STATE", str(state_file))
    yield World(state_file, app, path)
    app.stop()


@pytest.fixture
def stub(monkeypatch: pytest.MonkeyPatch) -> XRayStub:
    stub = XRayStub()
    monkeypatch.setattr(xray_cli, "reader_factory", stub.reader)
    return stub


def set_config(world: World, key: str, value: str) -> None:
    state = world.state()
    state["stacks"]["dev"]["config"][key] = {"value": value, "secret": False}
    world.state_file.write_text(json.dumps(state))


def promote(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any], str]:
    code = main(["promote", "--json", *FAST, *args])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out.strip() else {}), err


def test_help_documents_the_xray_option(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["promote", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--xray " in out and "V2-Notification-Microservice" in out
    assert "rolls back like any other" in out


def test_v2_faulting_on_real_traffic_rolls_back_though_the_apps_own_calls_succeed(
        world: World, stub: XRayStub, capsys: pytest.CaptureFixture[str]) -> None:
    stub.expect_probe()
    stub.expect_settled(STEP_WINDOW, healthy(600), FAULTING_V2)
    with stub.active():
        code, report, err = promote(capsys, "--steps", "50,100", *XRAY_FAST)
    assert code == 1, err
    assert report["result"] == "rolled-back" and world.up_weights() == [50, 0]
    (step,) = report["steps"]
    assert step["verify"]["errors"] == {} and step["verify"]["ok"]  # own calls all fine
    (reason,) = step["failed"]
    assert reason.startswith("xray: V2 faulted (5xx) on 50 of 200 traced requests (25.0%")
    xray = step["xray"]
    assert xray["window"] == ["2026-12-07T01:01:00+00:00", "2026-12-07T01:06:00+00:00"]
    assert xray["status"] == "failed" and xray["complete"] and xray["reads"] == 3
    assert xray["versions"]["V1"] == {
        "requests": 600, "ok": 600, "errors": 0, "faults": 0, "faultRate": 0.0,
        "faultInterval": [0.0, 1.094], "errorRate": 0.0, "p95Ms": 40.0}
    assert xray["versions"]["V2"]["faultRate"] == 25.0
    assert world.stack["history"][0]["message"].endswith("(canaryWeight 50 failed: xray)")
    # the stack sets no aws:region of its own: Pulumi.yaml's project value reaches it
    assert stub.regions == ["us-east-1"]


def test_the_human_report_shows_requests_fault_rate_and_p95_per_version(
        world: World, stub: XRayStub, capsys: pytest.CaptureFixture[str]) -> None:
    stub.expect_probe()
    stub.expect_settled(STEP_WINDOW, healthy(600), FAULTING_V2)
    with stub.active():
        code = main(["promote", *FAST, "--steps", "50", *XRAY_FAST])
    out = capsys.readouterr().out
    assert code == 1
    assert ("X-Ray 01:01-01:06 UTC (traced requests, 99% intervals): V1 600 req, faults 0.0% "
            "[0.0, 1.1], 4xx 0.0%, p95 40.0 ms | V2 200 req, faults 25.0% [18.0, 33.6], "
            "4xx 0.0%, p95 40.0 ms  failed") in out
    assert "X-Ray counts only traced requests" in out
    assert "Step canaryWeight 50 failed: xray: V2 faulted" in out


def test_a_healthy_v2_on_x_ray_is_promoted(
        world: World, stub: XRayStub, capsys: pytest.CaptureFixture[str]) -> None:
    stub.expect_probe()
    stub.expect_settled(STEP_WINDOW, healthy(600), healthy(200))
    with stub.active():
        code, report, err = promote(capsys, "--steps", "50", *XRAY_FAST)
    assert code == 0, err
    assert report["steps"][0]["xray"]["status"] == "passed"


def test_too_few_v2_requests_grow_the_window_then_neither_pass_nor_fail(
        world: World, stub: XRayStub, capsys: pytest.CaptureFixture[str]) -> None:
    grown = Window(STEP_WINDOW.start, at(1, 7))
    stub.expect_probe()
    # little real traffic to both versions (at 50 %, 6 and 5 are a fair split)
    for window, v1, v2 in ((STEP_WINDOW, healthy(6), healthy(5)),
                           (grown, healthy(9), healthy(8))):
        stub.expect_settled(window, v1, v2)
    # deadline 01:07 + 100 s; one more minute needs its end + settle + a poll = 01:08:15, a
    # second one 01:09:15: room for one, not two
    with stub.active():
        code, report, err = promote(capsys, "--steps", "50", "--xray", "--xray-wait", "100")
    assert code == 0, err  # the step stands on its synthetic gates
    xray = report["steps"][0]["xray"]
    assert xray["status"] == "not enough traffic" and xray["versions"]["V2"]["requests"] == 8
    assert xray["window"][1] == "2026-12-07T01:07:00+00:00"
    assert "need 30" in xray["notes"][0] and report["steps"][0]["failed"] == []
    assert "8 traced V2 requests in 01:01-01:07 UTC" in xray["notes"][0]  # the grown window


def test_a_delayed_window_is_judged_on_its_complete_numbers(
        world: World, stub: XRayStub, capsys: pytest.CaptureFixture[str]) -> None:
    stub.expect_probe()
    stub.expect_read(STEP_WINDOW, healthy(300), healthy(100))  # the faults have not arrived
    stub.expect_settled(STEP_WINDOW, healthy(600), FAULTING_V2)
    with stub.active():
        code, report, _ = promote(capsys, "--steps", "50", *XRAY_FAST)
    assert code == 1 and report["steps"][0]["xray"]["reads"] == 4
    assert stub.clock.now() >= at(1, 7)  # nothing read before end + settle


def test_a_slower_v2_at_p95_fails_with_a_latency_ratio(
        world: World, stub: XRayStub, capsys: pytest.CaptureFixture[str]) -> None:
    slow = Traffic(ok=200, histogram=((0.04, 150), (0.9, 50)))
    stub.expect_probe()
    stub.expect_settled(STEP_WINDOW, healthy(600), slow)
    with stub.active():
        code, report, _ = promote(capsys, "--steps", "50", "--max-latency-ratio", "3",
                                  *XRAY_FAST)
    assert code == 1 and world.up_weights() == [50, 0]
    assert report["steps"][0]["failed"] == [
        "xray: V2 p95 900.0 ms on traced requests is 22.50x V1's 40.0 ms, max 3x"]


def test_an_x_ray_that_cannot_be_read_stops_before_anything_is_applied(
        world: World, stub: XRayStub, capsys: pytest.CaptureFixture[str]) -> None:
    stub.stubber.add_client_error("get_time_series_service_statistics",
                                  "AccessDeniedException", "not authorized", 403)
    with stub.stubber:
        code, _, err = promote(capsys, "--steps", "50", "--xray")
    assert code == 2 and world.up_weights() == []
    assert "--xray: GetTimeSeriesServiceStatistics for V1-Notification-Microservice failed" in err
    assert "nothing applied" in err


def test_a_local_target_has_no_x_ray(
        world: World, stub: XRayStub, capsys: pytest.CaptureFixture[str]) -> None:
    set_config(world, "eks-canary:target", "local")
    code, _, err = promote(capsys, "--steps", "50", "--xray")
    assert code == 2 and world.up_weights() == [] and stub.regions == []
    assert "stack dev has target: local: no AWS X-Ray there" in err


def test_the_stacks_region_is_handed_to_the_client(
        world: World, stub: XRayStub, capsys: pytest.CaptureFixture[str]) -> None:
    set_config(world, "aws:region", "eu-central-1")
    set_config(world, "eks-canary:target", "aws")
    stub.expect_probe()
    stub.expect_settled(STEP_WINDOW, healthy(600), healthy(200))
    with stub.active():
        code, _, err = promote(capsys, "--steps", "50", *XRAY_FAST)
    assert code == 0, err
    assert stub.regions == ["eu-central-1"]


# ------------------------------------------------------------------ verify --xray

def verify(world: World, capsys: pytest.CaptureFixture[str], *args: str
           ) -> tuple[int, dict[str, Any], str]:
    code = main(["verify", "--url", world.app.base_url + "/usermgmt/notification-xray",
                 "--expect", "0", "--requests", "20", "--json", *args])
    out, err = capsys.readouterr()
    return code, json.loads(out) if out.strip() else {}, err


def test_verify_reads_the_window_a_user_names(
        world: World, stub: XRayStub, capsys: pytest.CaptureFixture[str]) -> None:
    window = Window(at(0, 40), at(0, 55))
    stub.expect_settled(window, healthy(600), FAULTING_V2)
    with stub.active():
        code, report, _ = verify(world, capsys, "--xray",
                                 "2026-12-07T00:40/2026-12-07T00:55", "--xray-settle", "0")
    assert code == 1 and report["ok"]  # the synthetic calls are fine, X-Ray is not
    assert report["xray"]["status"] == "failed" and report["xray"]["confidence"] == "95%"
    assert report["xray"]["versions"]["V2"]["requests"] == 200


def test_verify_of_the_last_minutes_waits_for_them_to_settle(
        world: World, stub: XRayStub, capsys: pytest.CaptureFixture[str]) -> None:
    window = Window(at(0, 45), at(1, 0))  # "15m" at 01:00:20
    stub.expect_settled(window, quiet(), healthy(100))
    with stub.active():
        code, report, _ = verify(world, capsys, "--xray", "15m")
    assert code == 0 and report["xray"]["status"] == "passed"
    assert stub.clock.now() >= at(1, 1)  # 60 s settle after 01:00


def test_verify_on_a_local_target_is_a_clear_error(
        world: World, stub: XRayStub, capsys: pytest.CaptureFixture[str]) -> None:
    set_config(world, "eks-canary:target", "local")
    code, _, err = verify(world, capsys, "--xray", "15m")
    assert code == 2 and "target: local: no AWS X-Ray there" in err


def test_an_x_ray_error_during_a_step_fails_it_and_rolls_back(
        world: World, stub: XRayStub, capsys: pytest.CaptureFixture[str]) -> None:
    stub.expect_probe()
    stub.stubber.add_client_error("get_time_series_service_statistics", "ThrottledException",
                                  "Rate exceeded", 429)
    with stub.active():
        code, report, _ = promote(capsys, "--steps", "50", *XRAY_FAST)
    assert code == 1 and world.up_weights() == [50, 0]
    (reason,) = report["steps"][0]["failed"]
    assert reason.startswith("xray: cannot read X-Ray: GetTimeSeriesServiceStatistics for "
                             "V1-Notification-Microservice failed") and "Rate exceeded" in reason


def test_verify_s_human_report_adds_the_x_ray_lines(
        world: World, stub: XRayStub, capsys: pytest.CaptureFixture[str]) -> None:
    window = Window(at(0, 45), at(1, 0))
    stub.expect_settled(window, healthy(600), FAULTING_V2)
    with stub.active():
        code = main(["verify", "--url", world.app.base_url + "/usermgmt/notification-xray",
                     "--expect", "0", "--requests", "20", "--xray", "15m"])
    out = capsys.readouterr().out
    assert code == 1
    assert "Result    OK" in out  # the synthetic calls
    assert ("X-Ray 00:45-01:00 UTC (traced requests, 95% intervals): V1 600 req, faults 0.0% "
            "[0.0, 0.6], 4xx 0.0%, p95 40.0 ms | V2 200 req, faults 25.0%") in out
    assert "xray: V2 faulted (5xx) on 50 of 200 traced requests" in out
    assert "X-Ray counts only traced requests" in out


def test_a_v2_that_real_calls_never_reach_is_rolled_back(
        world: World, stub: XRayStub, capsys: pytest.CaptureFixture[str]) -> None:
    """At 50 % user management's traced calls went 600 to V1 and 8 to V2: V2 refuses or times
    out (no V2 segment, so no fault on V2's own books), and X-Ray fails the step."""
    stub.expect_probe()
    stub.expect_settled(STEP_WINDOW, healthy(600), healthy(8))
    with stub.active():  # (a minimum of 5 V2 requests: the window is not grown)
        code, report, err = promote(capsys, "--steps", "50", *XRAY_FAST,
                                    "--xray-min-requests", "5")
    assert code == 1, err
    assert report["result"] == "rolled-back"
    (reason,) = report["steps"][0]["failed"]
    assert reason.startswith("xray: V2 got 8 of 608 traced calls from user management")
