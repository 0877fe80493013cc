"""Tests for ``canaryctl verify`` against a local, deterministic HTTP server."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from canaryctl import report, stats
from canaryctl.__main__ import main
from canaryctl.progress import Status, progress_bar
from canaryctl.sampling import Outcome, run_requests

REPO_ROOT = Path(__file__).resolve().parent.parent

# A plan maps the server-side request index (0, 1, 2, ...) to (status, body, delay seconds).
Plan = Callable[[int], tuple[int, bytes, float]]


def answer(version: str) -> bytes:
    return json.dumps({"applicationname": "Notification Microservice", "appversion": version,
                       "message": "Enabled AWS XRay"}).encode()


def thirty_percent_v2(i: int) -> tuple[int, bytes, float]:
    """Exactly 3 of every 10 consecutive requests answer V2."""
    return 200, answer("V2" if i % 10 < 3 else "V1"), 0.0


def thirty_percent_v2_ten_percent_500(i: int) -> tuple[int, bytes, float]:
    """Per 10 requests: 3 x V2, 6 x V1, 1 x HTTP 500."""
    if i % 10 == 9:
        return 500, b"boom", 0.0
    return thirty_percent_v2(i)


def ten_percent_unreadable(i: int) -> tuple[int, bytes, float]:
    """Per 10 requests: one garbage body, one JSON without appversion, eight V1/V2."""
    if i % 10 == 8:
        return 200, b"<html>not json</html>", 0.0
    if i % 10 == 9:
        return 200, b'{"message": "no version here"}', 0.0
    return thirty_percent_v2(i)


class FakeApp(ThreadingHTTPServer):
    """Loopback server answering by request index, counting every hit."""

    daemon_threads = True
    request_queue_size = 64  # the default backlog of 5 drops SYNs under 16 parallel clients

    def __init__(self, plan: Plan) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.plan = plan
        self.hits = 0
        self._lock = threading.Lock()

    def next_index(self) -> int:
        with self._lock:
            index = self.hits
            self.hits += 1
            return index

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/usermgmt/notification-xray"


class _Handler(BaseHTTPRequestHandler):
    server: FakeApp

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        status, body, delay = self.server.plan(self.server.next_index())
        if delay:
            time.sleep(delay)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except OSError:  # the client gave up (timeout test)
            pass

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - keep quiet
        pass


@pytest.fixture
def serve() -> Iterator[Callable[[Plan], FakeApp]]:
    """Start FakeApp servers in threads; shut them all down after the test."""
    servers: list[tuple[FakeApp, threading.Thread]] = []

    def start(plan: Plan) -> FakeApp:
        server = FakeApp(plan)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                  daemon=True)
        thread.start()
        servers.append((server, thread))
        return server

    yield start
    for server, thread in servers:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def closed_port_url() -> str:
    """A loopback URL whose port was bound then released, so connections are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/usermgmt/notification-xray"


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["verify", *args])
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict, str]:
    code, out, err = run_cli(capsys, *args, "--json", "--concurrency", "16", "--timeout", "2")
    return code, json.loads(out), err


def fake_pulumi(directory: Path, script: str) -> Path:
    """Write an executable ``pulumi`` shell script into ``directory``."""
    path = directory / "pulumi"
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


# --------------------------------------------------------------------------- statistics


@pytest.mark.parametrize(
    ("successes", "trials", "low", "high"),
    [(50, 100, 40.38, 59.62), (0, 10, 0.0, 27.75), (10, 10, 72.25, 100.0),
     (120, 400, 25.72, 34.66), (1, 1, 20.65, 100.0)],
)
def test_wilson_interval_known_values(successes: int, trials: int, low: float,
                                      high: float) -> None:
    lo, hi = stats.wilson_interval(successes, trials)
    assert 100 * lo == pytest.approx(low, abs=0.05)
    assert 100 * hi == pytest.approx(high, abs=0.05)


@pytest.mark.parametrize(("successes", "trials"), [(0, 0), (5, 4), (-1, 3)])
def test_wilson_interval_rejects_impossible_counts(successes: int, trials: int) -> None:
    with pytest.raises(ValueError):
        stats.wilson_interval(successes, trials)


def test_z_for_confidence_matches_the_normal_quantiles() -> None:
    assert stats.z_for(0.95) == pytest.approx(stats.Z95, abs=1e-12)
    assert stats.z_for(0.99) == pytest.approx(2.5758293, abs=1e-6)
    for bad in (0.0, 1.0, 1.5):
        with pytest.raises(ValueError):
            stats.z_for(bad)


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(100, 0, -1)]  # 100..1, unsorted on purpose
    assert stats.percentile(values, 50) == 50 and stats.percentile(values, 95) == 95
    assert stats.percentile([7.0], 95) == 7.0
    assert stats.percentile([1.0, 2.0, 3.0], 50) == 2.0
    with pytest.raises(ValueError):
        stats.percentile([], 50)


def test_latency_is_per_version_over_answers_with_a_version() -> None:
    outcomes = ([Outcome(version="V1", seconds=0.010)] * 19 + [Outcome(version="V1", seconds=0.5)]
                + [Outcome(version="V2", seconds=0.030)] * 5
                + [Outcome(error="http_500", detail="HTTP 500")] * 3)
    result = stats.VerifyResult.from_outcomes("http://x/", outcomes, 20.0, 0.2)
    assert result.latency["V1"] == stats.Latency(answers=20, p50=0.010, p95=0.010)
    assert result.latency["V2"].p95 == 0.030
    assert result.to_json()["latencyMs"] == {"V1": {"answers": 20, "p50": 10.0, "p95": 10.0},
                                             "V2": {"answers": 5, "p50": 30.0, "p95": 30.0}}


def test_result_without_valid_answers_has_no_weight() -> None:
    outcomes = [Outcome(error="http_503", detail="HTTP 503")] * 4
    data = stats.VerifyResult.from_outcomes("http://x/", outcomes, 10.0, 0.01).to_json()
    assert data["observedWeight"] is None and data["ci95"] is None and data["ok"] is False
    assert data["errors"] == {"http_503": 4} and data["errorRate"] == 1.0


def test_expected_weight_at_the_edges_is_inside() -> None:
    all_v1 = [Outcome(version="V1")] * 50
    assert stats.VerifyResult.from_outcomes("http://x/", all_v1, 0.0, 0.0).ok
    all_v2 = [Outcome(version="V2")] * 50
    assert stats.VerifyResult.from_outcomes("http://x/", all_v2, 100.0, 0.0).ok


# --------------------------------------------------------------------------- rendering


def test_chart_and_progress_rendering() -> None:
    chart = report.format_chart({"V1": 140, "V2": 60})
    assert chart == ["V1 ██████████████░░░░░░  70.0%  (140)",
                     "V2 ██████░░░░░░░░░░░░░░  30.0%  (60)"]
    assert progress_bar(120, 200, width=10) == "[######....] 120/200"


def test_progress_bar_is_drawn_on_a_terminal_stream(serve: Callable[[Plan], FakeApp]) -> None:
    class Tty:
        def __init__(self) -> None:
            self.text = ""

        def write(self, s: str) -> None:
            self.text += s

        def flush(self) -> None:
            pass

    app, tty = serve(thirty_percent_v2), Tty()
    status = Status(tty, tty=True)  # type: ignore[arg-type]
    run_requests(app.url, 20, 4, 2.0,
                 on_progress=lambda done, total: status.update(progress_bar(done, total),
                                                               force=done == total))
    status.clear()
    assert "\r[" in tty.text and "] 20/20" in tty.text and tty.text.endswith("\r")


# --------------------------------------------------------------------------- CLI, split


def test_matching_split_exits_0(capsys: pytest.CaptureFixture[str],
                                serve: Callable[[Plan], FakeApp]) -> None:
    app = serve(thirty_percent_v2)
    code, data, _ = run_json(capsys, "--url", app.url, "--requests", "400", "--expect", "30")
    assert code == 0 and data["ok"] is True
    assert data["requests"] == 400 and data["counts"] == {"V1": 280, "V2": 120}
    assert data["errors"] == {} and data["errorRate"] == 0
    assert data["observedWeight"] == pytest.approx(30, abs=3)
    assert data["ci95"][0] < 30 < data["ci95"][1]
    assert data["expectedWeight"] == 30
    assert set(data) == {"requests", "counts", "errors", "observedWeight", "ci95",
                         "expectedWeight", "ok", "errorRate", "latencyMs"}
    assert data["latencyMs"]["V1"]["answers"] == 280 and data["latencyMs"]["V2"]["answers"] == 120


def test_latency_shows_a_slower_version(capsys: pytest.CaptureFixture[str],
                                        serve: Callable[[Plan], FakeApp]) -> None:
    def v2_slow(i: int) -> tuple[int, bytes, float]:
        status, body, _ = thirty_percent_v2(i)
        return status, body, 0.08 if b'"V2"' in body else 0.0

    app = serve(v2_slow)
    code, out, _ = run_cli(capsys, "--url", app.url, "--requests", "40", "--expect", "30",
                           "--concurrency", "8")
    data_code, data, _ = run_json(capsys, "--url", app.url, "--requests", "40", "--expect", "30")
    assert code == 0 and data_code == 0
    # V2 waits 80 ms more than V1 on the server; the rest is the same (loaded machine) overhead
    assert data["latencyMs"]["V2"]["p50"] >= 80
    assert data["latencyMs"]["V2"]["p50"] > data["latencyMs"]["V1"]["p50"]
    lines = [line for line in out.splitlines() if "p50" in line]
    assert lines[0].startswith("Latency   V1  p50") and "(28 answers)" in lines[0]
    assert lines[1].lstrip().startswith("V2  p50") and "(12 answers)" in lines[1]


def test_mismatching_split_exits_1(capsys: pytest.CaptureFixture[str],
                                   serve: Callable[[Plan], FakeApp]) -> None:
    app = serve(thirty_percent_v2)
    code, data, _ = run_json(capsys, "--url", app.url, "--requests", "400", "--expect", "70")
    assert code == 1 and data["ok"] is False


def test_exactly_n_requests_are_made(capsys: pytest.CaptureFixture[str],
                                     serve: Callable[[Plan], FakeApp]) -> None:
    app = serve(thirty_percent_v2)
    code, data, _ = run_json(capsys, "--url", app.url, "--requests", "37", "--expect", "30")
    assert app.hits == 37 and data["requests"] == 37 and sum(data["counts"].values()) == 37
    assert code == 0


def test_text_report_has_chart_and_verdict(capsys: pytest.CaptureFixture[str],
                                           serve: Callable[[Plan], FakeApp]) -> None:
    app = serve(thirty_percent_v2)
    code, out, err = run_cli(capsys, "--url", app.url, "--requests", "100", "--expect", "30",
                             "--concurrency", "8")
    assert code == 0
    assert "V1 ██████████████░░░░░░  70.0%  (70)" in out
    assert "V2 ██████░░░░░░░░░░░░░░  30.0%  (30)" in out
    assert "inside the interval" in out and "Result    OK" in out
    assert "\r" not in err  # no progress bar redrawn: stderr is not a terminal under capsys


def test_other_versions_are_counted_by_name(capsys: pytest.CaptureFixture[str],
                                            serve: Callable[[Plan], FakeApp]) -> None:
    app = serve(lambda i: (200, answer(["V1", "V2", "V3", "V1"][i % 4]), 0.0))
    code, data, _ = run_json(capsys, "--url", app.url, "--requests", "40", "--expect", "25")
    assert data["counts"] == {"V1": 20, "V2": 10, "V3": 10}
    assert data["observedWeight"] == 25 and code == 0


# --------------------------------------------------------------------------- CLI, errors


def test_http_errors_are_counted_and_fail(capsys: pytest.CaptureFixture[str],
                                          serve: Callable[[Plan], FakeApp]) -> None:
    app = serve(thirty_percent_v2_ten_percent_500)
    code, data, _ = run_json(capsys, "--url", app.url, "--requests", "200", "--expect", "33")
    assert code == 1 and data["ok"] is False
    assert data["errors"] == {"http_500": 20} and data["errorRate"] == pytest.approx(0.1)
    assert data["counts"] == {"V1": 120, "V2": 60}


def test_error_threshold_can_be_raised(capsys: pytest.CaptureFixture[str],
                                       serve: Callable[[Plan], FakeApp]) -> None:
    app = serve(thirty_percent_v2_ten_percent_500)
    code, data, _ = run_json(capsys, "--url", app.url, "--requests", "200", "--expect", "33",
                             "--max-error-rate", "0.1")
    assert code == 0 and data["ok"] is True


def test_unreadable_bodies_are_errors(capsys: pytest.CaptureFixture[str],
                                      serve: Callable[[Plan], FakeApp]) -> None:
    app = serve(ten_percent_unreadable)
    code, data, _ = run_json(capsys, "--url", app.url, "--requests", "100", "--expect", "37.5")
    assert code == 1 and data["errors"] == {"bad_body": 20}
    assert data["counts"] == {"V1": 50, "V2": 30}


def test_slow_answers_are_timeouts(capsys: pytest.CaptureFixture[str],
                                   serve: Callable[[Plan], FakeApp]) -> None:
    app = serve(lambda i: (200, answer("V1"), 0.6 if i % 5 == 0 else 0.0))
    code, out, _ = run_cli(capsys, "--url", app.url, "--requests", "10", "--expect", "0",
                           "--timeout", "0.2", "--concurrency", "10", "--json")
    data = json.loads(out)
    assert code == 1 and data["errors"] == {"timeout": 2} and data["counts"] == {"V1": 8}


def test_unreachable_url_exits_2_at_once_without_an_interval_verdict(
    capsys: pytest.CaptureFixture[str], closed_port_url: str
) -> None:
    started = time.monotonic()
    code, out, err = run_cli(capsys, "--url", closed_port_url, "--requests", "200",
                             "--expect", "30", "--timeout", "1", "--concurrency", "1")
    assert code == 2 and time.monotonic() - started < 5
    assert f"cannot reach {closed_port_url}" in err and "refused" in err.lower()
    assert "Traceback" not in err
    assert "OUTSIDE" not in out + err and "interval" not in out + err and "Result" not in out


def test_unreachable_url_with_json_still_prints_one_object(
    capsys: pytest.CaptureFixture[str], closed_port_url: str
) -> None:
    code, data, err = run_json(capsys, "--url", closed_port_url, "--requests", "3",
                               "--expect", "30")
    assert code == 2 and data["ok"] is False and data["errors"] == {"connection": 1}
    assert "cannot reach" in err


def test_an_html_page_gets_a_hint_naming_the_expected_path(
    capsys: pytest.CaptureFixture[str], serve: Callable[[Plan], FakeApp]
) -> None:
    app = serve(lambda i: (200, b"<html><body>It works</body></html>", 0.0))
    root = app.url.removesuffix("/usermgmt/notification-xray") + "/"
    code, out, err = run_cli(capsys, "--url", root, "--requests", "10", "--expect", "30")
    assert code == 1
    assert "/usermgmt/notification-xray" in err and "hint" in err
    assert "OUTSIDE" not in out  # no answer to count is no verdict on the split


def test_progress_shows_as_plain_lines_when_stderr_is_not_a_terminal(
    capsys: pytest.CaptureFixture[str], serve: Callable[[Plan], FakeApp]
) -> None:
    app = serve(thirty_percent_v2)
    code, _, err = run_cli(capsys, "--url", app.url, "--requests", "50", "--expect", "30")
    assert code == 0
    lines = err.splitlines()
    assert lines and "\r" not in err  # no redraws in a CI log
    assert lines[-1].endswith("50/50") and len(lines) <= 5  # a modest rate


@pytest.mark.parametrize(
    "bad",
    [["--requests", "0"], ["--requests", "x"], ["--concurrency", "0"], ["--expect", "150"],
     ["--expect", "-1"], ["--timeout", "0"], ["--max-error-rate", "1.5"],
     ["--url", "ftp://host/x"], ["--url", "http:///no-host"], ["--url", "http://h:99999/"]],
)
def test_bad_arguments_exit_2(capsys: pytest.CaptureFixture[str], bad: list[str]) -> None:
    args = ["--url", "http://127.0.0.1:9/", "--expect", "30", *bad]
    code, out, err = run_cli(capsys, *args)
    assert code == 2 and out == "" and "error:" in err and "Traceback" not in err


def test_missing_subcommand_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "required" in capsys.readouterr().err


# --------------------------------------------------------------------------- expected weight


def test_without_expect_and_without_pulumi_exits_2(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
    serve: Callable[[Plan], FakeApp],
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: no pulumi anywhere
    app = serve(thirty_percent_v2)
    code, out, err = run_cli(capsys, "--url", app.url, "--requests", "5")
    assert code == 2 and out == "" and app.hits == 0
    assert "no expected weight: pass --expect W (Pulumi CLI not found)" in err


def test_expected_weight_comes_from_pulumi(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
    serve: Callable[[Plan], FakeApp],
) -> None:
    args_file = tmp_path / "args"
    fake_pulumi(tmp_path, f'echo "$@" > "{args_file}"\n'
                'echo \'{"trafficSplit": {"effectiveWeight": 25.0, "v2Replicas": 1}}\'\n')
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    app = serve(lambda i: (200, answer("V2" if i % 4 == 0 else "V1"), 0.0))
    code, data, _ = run_json(capsys, "--url", app.url, "--requests", "200", "--stack", "dev")
    assert code == 0 and data["expectedWeight"] == 25.0 and data["observedWeight"] == 25.0
    assert args_file.read_text().split() == ["stack", "output", "--json", "--non-interactive",
                                             "--stack", "dev"]


@pytest.mark.parametrize(
    ("script", "message"),
    [("echo 'error: no stack selected' >&2; exit 255\n", "no stack selected"),
     ("echo '{\"other\": 1}'\n", "effectiveWeight missing"),
     ("echo 'not json'\n", "did not print JSON")],
)
def test_pulumi_failures_exit_2(capsys: pytest.CaptureFixture[str],
                                monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                script: str, message: str) -> None:
    fake_pulumi(tmp_path, script)
    monkeypatch.setenv("PATH", str(tmp_path))
    code, out, err = run_cli(capsys, "--url", "http://127.0.0.1:9/", "--requests", "1")
    assert code == 2 and out == "" and message in err and "pass --expect" in err


# --------------------------------------------------------------------------- module entry


def test_python_dash_m_entry_point(serve: Callable[[Plan], FakeApp]) -> None:
    app = serve(thirty_percent_v2)
    proc = subprocess.run(
        [sys.executable, "-m", "canaryctl", "verify", "--url", app.url, "--requests", "50",
         "--concurrency", "8", "--expect", "30", "--json"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=30, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["counts"] == {"V1": 35, "V2": 15}


def test_an_unreachable_localhost_names_the_port_forward(
    capsys: pytest.CaptureFixture[str], closed_port_url: str
) -> None:
    """target: local is reached through `kubectl port-forward`; a refused localhost is most
    likely a port-forward that is not running."""
    assert "127.0.0.1" in closed_port_url or "localhost" in closed_port_url
    code, _, err = run_cli(capsys, "--url", closed_port_url, "--requests", "5", "--expect", "30")
    assert code == 2 and "$(pulumi stack output portForward)" in err


def test_an_unreachable_remote_host_gets_no_port_forward_hint() -> None:
    from canaryctl.sampling import unreachable_hint
    assert unreachable_hint("http://k8s-canary-1234.us-east-1.elb.amazonaws.com/x") == ""
