"""The X-Ray analysis: statistics and gates (pure), the reader against botocore's Stubber, and
the client's endpoint, region and credentials on the wire (a loopback X-Ray)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from canaryctl import xray_cli
from canaryctl.xray import SERVICES, Timing, XRayError, make_client, step_window
from canaryctl.xray_stats import (
    FAILED,
    INCOMPLETE,
    NOT_ENOUGH,
    PASSED,
    VersionStats,
    Window,
    XRayRead,
    histogram_percentile,
    judge,
)
from tests.xray_fakes import T0, Traffic, XRayStub, answer, at, healthy, quiet

REPO_ROOT = Path(__file__).resolve().parent.parent
W = Window(at(1, 1), at(1, 6))


def stats(traffic: Traffic) -> VersionStats:
    return VersionStats.of(answer(W, traffic)["TimeSeriesServiceStatistics"])


def read(v1: Traffic, v2: Traffic, complete: bool = True) -> XRayRead:
    return XRayRead(W, {"V1": stats(v1), "V2": stats(v2)}, complete=complete)


# ------------------------------------------------------------------ statistics (pure)

def test_p95_is_the_nearest_rank_of_the_histogram() -> None:
    assert histogram_percentile({0.01: 94, 0.5: 6}, 95) == 0.5
    assert histogram_percentile({0.01: 95, 0.5: 5}, 95) == 0.01
    assert histogram_percentile({0.2: 1, 0.1: 1}, 50) == 0.1  # values sorted, not as given
    assert histogram_percentile({}, 95) is None
    with pytest.raises(ValueError):
        histogram_percentile({0.1: 1}, 0)


def test_version_stats_sum_the_periods_and_their_histograms() -> None:
    one = answer(W, Traffic(ok=8, errors=1, faults=1, histogram=((0.04, 9), (0.3, 1))))
    periods = one["TimeSeriesServiceStatistics"] * 2
    s = VersionStats.of(periods)
    assert (s.requests, s.ok, s.errors, s.faults) == (20, 16, 2, 2)
    assert s.histogram == {0.04: 18, 0.3: 2} and s.p95 == 0.3
    assert s.to_json(1.96)["faultRate"] == 10.0 and s.to_json(1.96)["p95Ms"] == 300.0


def test_a_faulting_v2_fails_the_xray_gate_by_name() -> None:
    r = judge(read(healthy(400), Traffic(ok=90, faults=10, histogram=((0.04, 100),))),
              max_fault_rate=0.01, min_requests=30)
    assert r.status == FAILED
    (reason,) = r.failed
    assert reason.startswith("xray: V2 faulted (5xx) on 10 of 100 traced requests (10.0%")
    assert "max 1%" in reason and "01:01-01:06 UTC" in reason


def test_a_few_faults_within_the_sample_interval_do_not_fail() -> None:
    # 1 of 100 at a 1% limit: the interval's lower end is far below 1%
    r = judge(read(healthy(400), Traffic(ok=99, faults=1, histogram=((0.04, 100),))),
              max_fault_rate=0.01, min_requests=30)
    assert r.status == PASSED and r.failed == []


def test_too_few_v2_requests_neither_pass_nor_fail() -> None:
    r = judge(read(healthy(400), healthy(5)), max_fault_rate=0.01, min_requests=30)
    assert r.status == NOT_ENOUGH and r.failed == []
    assert "not enough traffic: 5 traced V2 requests" in r.notes[0]


def test_few_v2_requests_that_all_fault_fail_without_waiting_for_more() -> None:
    # 8 of 8: the 99% interval's lower end (about 55%) is proof enough below the minimum
    r = judge(read(healthy(400), Traffic(faults=8)), max_fault_rate=0.01, min_requests=30)
    assert r.status == FAILED and r.failed[0].startswith("xray: V2 faulted (5xx) on 8 of 8")


def test_a_slower_v2_at_p95_fails_only_with_a_ratio() -> None:
    slow = Traffic(ok=100, histogram=((0.04, 90), (0.4, 10)))
    assert judge(read(healthy(400), slow), 0.01, 30).status == PASSED
    r = judge(read(healthy(400), slow), 0.01, 30, max_latency_ratio=2)
    assert r.failed == ["xray: V2 p95 400.0 ms on traced requests is 10.00x V1's 40.0 ms, "
                        "max 2x"]


def test_at_100_percent_the_latency_gate_uses_v1_of_an_earlier_window() -> None:
    slow = Traffic(ok=100, histogram=((0.4, 100),))
    r = judge(read(quiet(), slow), 0.01, 30, max_latency_ratio=2, v1_baseline=0.05)
    assert r.failed and "V1's earlier 50.0 ms" in r.failed[0]
    assert judge(read(quiet(), slow), 0.01, 30, max_latency_ratio=2).failed == []


def test_an_incomplete_window_is_not_judged_unless_it_already_shows_faults() -> None:
    r = judge(read(healthy(400), healthy(100), complete=False), 0.01, 30)
    assert r.status == INCOMPLETE and r.failed == []
    bad = Traffic(ok=50, faults=50, histogram=((0.04, 100),))
    assert judge(read(healthy(400), bad, complete=False), 0.01, 30).status == FAILED


def test_a_step_window_is_whole_minutes_after_the_up() -> None:
    assert step_window(T0, 300) == Window(at(1, 1), at(1, 6))
    assert step_window(at(1, 1), 61) == Window(at(1, 1), at(1, 3))


@pytest.mark.parametrize("text", ["15", "0m", "2026-12-07T01:00", "2026-12-07T01:00:30/"
                                  "2026-12-07T01:05", "2026-12-07T01:05/2026-12-07T01:00"])
def test_bad_verify_windows_are_refused(text: str) -> None:
    with pytest.raises(Exception, match="want|whole minute|after START|ISO"):
        xray_cli.window_arg(text)


def test_verify_windows() -> None:
    assert xray_cli.window_arg("15m")(T0) == Window(at(0, 45), at(1, 0))
    named = xray_cli.window_arg("2026-12-07T02:00+01:00/2026-12-07T01:15Z")(T0)
    assert named == Window(at(1, 0), at(1, 15))


# ------------------------------------------------------------------ the reader (Stubber)

def test_a_read_names_both_services_and_the_window_and_follows_pages() -> None:
    stub = XRayStub()
    params = {"StartTime": W.start, "EndTime": W.end, "Period": 60}
    # the edge from user management: its calls alone, not the kubelet's probes of the pods
    v1, v2 = (f'edge("User-Management-Microservice", "{SERVICES[v]}")' for v in ("V1", "V2"))
    page = answer(W, healthy(10))
    stub.stubber.add_response("get_time_series_service_statistics", {**page, "NextToken": "p2"},
                              {**params, "EntitySelectorExpression": v1})
    stub.stubber.add_response("get_time_series_service_statistics", page,
                              {**params, "EntitySelectorExpression": v1, "NextToken": "p2"})
    stub.stubber.add_response("get_time_series_service_statistics", answer(W, healthy(7)),
                              {**params, "EntitySelectorExpression": v2})
    with stub.active():
        got = stub.reader().read(W)
    assert got["V1"].requests == 20 and got["V2"].requests == 7


def test_a_delayed_window_is_read_until_three_reads_agree() -> None:
    """Two equal reads 15 s apart can mean only that no batch was processed meanwhile: the
    numbers must hold for 30 s (three reads) before the window counts as complete."""
    stub = XRayStub()
    stub.expect_read(W, healthy(100), healthy(40))  # still arriving
    stub.expect_read(W, healthy(300), Traffic(ok=60, faults=40))
    stub.expect_read(W, healthy(300), Traffic(ok=60, faults=40))  # the same, once
    stub.expect_read(W, healthy(300), Traffic(ok=60, faults=40))  # and again: complete
    with stub.active():
        r = stub.reader().analyse(W, Timing(settle_s=60, wait_s=300), 30, lambda _: None)
    assert r.complete and r.reads == 4 and r.stats("V2").faults == 40
    assert stub.clock.now() == at(1, 7) + timedelta(seconds=45)  # end + settle, three polls


def test_numbers_still_changing_at_the_deadline_make_an_incomplete_read() -> None:
    stub = XRayStub()
    for n in (10, 20, 30):
        stub.expect_read(W, healthy(n), healthy(n))
    with stub.active():
        r = stub.reader().analyse(W, Timing(settle_s=60, wait_s=40), 5, lambda _: None)
    assert not r.complete and r.reads == 3
    assert judge(r, 0.01, 5).status == INCOMPLETE


def test_an_api_error_becomes_one_line() -> None:
    stub = XRayStub()
    stub.stubber.add_client_error("get_time_series_service_statistics", "AccessDeniedException",
                                  "not authorized to perform: xray:GetTimeSeriesServiceStatistics",
                                  http_status_code=403)
    with stub.stubber, pytest.raises(XRayError, match="AccessDenied.*not authorized"):
        stub.reader().read(W)


# ------------------------------------------------------------------ the client on the wire

class FakeXRay(ThreadingHTTPServer):
    """Answers every X-Ray call with one period (10 requests, 1 fault) at the asked start, as
    X-Ray's JSON does (timestamps in epoch seconds), and records what came."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[dict[str, Any]] = []


class _Handler(BaseHTTPRequestHandler):
    server: FakeXRay

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.requests.append({"path": self.path, "body": json.loads(body),
                                     "authorization": self.headers.get("Authorization", "")})
        start = self.server.requests[-1]["body"]["StartTime"]  # one period, epoch seconds
        data = json.dumps({"TimeSeriesServiceStatistics": [{
            "Timestamp": start, "EdgeSummaryStatistics": {
                "TotalCount": 10, "OkCount": 9, "FaultStatistics": {"TotalCount": 1}},
            "ResponseTimeHistogram": [{"Value": 0.05, "Count": 10}]}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def fake_xray(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[FakeXRay]:
    server = FakeXRay()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_ENDPOINT_URL",
                 "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDFROMENV")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret-from-env")
    monkeypatch.setenv("AWS_ENDPOINT_URL_XRAY", f"http://127.0.0.1:{server.server_address[1]}")
    yield server
    server.shutdown()
    server.server_close()


def test_the_client_honours_the_endpoint_variable_env_credentials_and_stack_region(
        fake_xray: FakeXRay) -> None:
    got = xray_cli.XRayReader(make_client("eu-west-1")).read(W)
    # botocore parsed the answer: its period lies in the window and is counted
    assert (got["V2"].requests, got["V2"].faults, got["V2"].p95) == (10, 1, 0.05)
    assert [r["path"] for r in fake_xray.requests] == ["/TimeSeriesServiceStatistics"] * 2
    bodies = [r["body"] for r in fake_xray.requests]
    assert [b["EntitySelectorExpression"] for b in bodies] == [
        f'edge("User-Management-Microservice", "{SERVICES[v]}")' for v in ("V1", "V2")]
    assert {(b["StartTime"], b["EndTime"], b["Period"]) for b in bodies} == {
        (W.start.timestamp(), W.end.timestamp(), 60)}
    auth = fake_xray.requests[0]["authorization"]
    assert "Credential=AKIDFROMENV/" in auth and "/eu-west-1/xray/aws4_request" in auth


def test_the_stacks_region_wins_over_the_environments(
        fake_xray: FakeXRay, monkeypatch: pytest.MonkeyPatch) -> None:
    """The traces are where the stack runs: its tracing backend sends to its own region. A
    profile or AWS_DEFAULT_REGION elsewhere would read an empty X-Ray and never judge."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-south-1")
    xray_cli.XRayReader(make_client("eu-west-1")).read(W)
    assert "/eu-west-1/xray/aws4_request" in fake_xray.requests[0]["authorization"]
    # boto3's own region (AWS_DEFAULT_REGION; botocore reads no AWS_REGION) when the stack
    # has none
    xray_cli.XRayReader(make_client(None)).read(W)
    assert "/ap-south-1/xray/aws4_request" in fake_xray.requests[2]["authorization"]


def test_a_profile_gives_credentials_and_region(
        fake_xray: FakeXRay, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    (tmp_path / "config").write_text("[profile canary]\nregion = sa-east-1\n")
    (tmp_path / "credentials").write_text(
        "[canary]\naws_access_key_id = AKIDPROFILE\naws_secret_access_key = s\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_PROFILE", "canary")
    xray_cli.XRayReader(make_client(None)).read(W)
    auth = fake_xray.requests[0]["authorization"]
    assert "Credential=AKIDPROFILE/" in auth and "/sa-east-1/xray/aws4_request" in auth


def test_no_region_anywhere_is_a_clear_error(fake_xray: FakeXRay) -> None:
    with pytest.raises(XRayError, match="no AWS region.*aws:region"):
        make_client(None)


def test_help_and_verify_without_xray_never_load_boto3() -> None:
    code = ("import sys\nfrom canaryctl.__main__ import main\n"
            "for argv in (['--help'], ['promote', '--help'], ['verify', '--help']):\n"
            "    main(argv)\n"
            "print('LOADED', sorted(m for m in ('boto3', 'botocore') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True,
                         text=True, check=True).stdout
    assert "--xray " in out and "LOADED []" in out


def test_a_period_stamped_at_the_windows_end_belongs_to_the_next_window() -> None:
    """Window is [start, end): a period stamped at `end` starts the next minute (another
    step's weight)."""
    stub = XRayStub()
    late = answer(W, healthy(50))
    late["TimeSeriesServiceStatistics"][0]["Timestamp"] = W.end
    for service, page in ((SERVICES["V1"], answer(W, healthy(10))), (SERVICES["V2"], late)):
        stub.stubber.add_response("get_time_series_service_statistics", page, {
            "StartTime": W.start, "EndTime": W.end, "Period": 60,
            "EntitySelectorExpression": f'edge("User-Management-Microservice", "{service}")'})
    with stub.active():
        got = stub.reader().read(W)
    assert got["V1"].requests == 10 and got["V2"].requests == 0


def test_a_v2_that_gets_no_traced_calls_while_it_should_fails() -> None:
    """A V2 that refuses or times out records no segment of its own: at a served 25 %, 0 of
    200 traced calls is no chance (0.75^200), so X-Ray fails the step."""
    r = judge(read(healthy(200), quiet()), 0.01, 30, expected_share=0.25)
    assert r.status == FAILED
    assert r.failed[0].startswith("xray: V2 got 0 of 200 traced calls from user management")


def test_few_calls_to_v2_at_a_small_weight_are_chance_not_failure() -> None:
    # 0 of 20 at 10 %: 0.9^20 = 12 %, likely enough by chance
    r = judge(read(healthy(20), quiet()), 0.01, 30, expected_share=0.10)
    assert r.status == NOT_ENOUGH and r.failed == []


def test_the_missing_calls_check_copes_with_heavy_traffic() -> None:
    """Thousands of traced calls (tracing everything at 20 a second): the binomial tail must
    not overflow a float, and a fair split passes while a starved V2 still fails."""
    assert judge(read(healthy(3000), healthy(2900)), 0.01, 30, expected_share=0.5).status == PASSED
    starved = judge(read(healthy(5900), healthy(100)), 0.01, 30, expected_share=0.5)
    assert starved.status == FAILED and "V2 got 100 of 6000" in starved.failed[0]
