"""Unit tests of promote's pure parts: step parsing and planning, gates, report, arguments."""

from __future__ import annotations

import argparse
import io

import pytest

from canaryctl.__main__ import main
from canaryctl.gates import Gates, evaluate
from canaryctl.plan import Plan, Step, parse_steps, plan_steps, predicted_weight
from canaryctl.progress import Status, clock
from canaryctl.promote_report import EXIT_CODES, PromoteReport, StepRecord, format_step
from canaryctl.pulumi_stack import last_error_line
from canaryctl.sampling import Outcome
from canaryctl.stats import VerifyResult

REPLICAS_4 = predicted_weight("replicas", 4)


def measured(v1: int, v2: int, expected: float, errors: int = 0, v1_s: float = 0.010,
             v2_s: float = 0.010, max_error_rate: float = 0.01) -> VerifyResult:
    outcomes = ([Outcome(version="V1", seconds=v1_s)] * v1 + [Outcome(version="V2", seconds=v2_s)]
                * v2 + [Outcome(error="http_500", detail="HTTP 500")] * errors)
    return VerifyResult.from_outcomes("http://x/", outcomes, expected, max_error_rate)


# --------------------------------------------------------------------------- steps


def test_parse_steps_accepts_strictly_increasing_weights() -> None:
    assert parse_steps("10,25,50,100") == (10, 25, 50, 100)
    assert parse_steps(" 5, 100 ") == (5, 100) and parse_steps("100") == (100,)


@pytest.mark.parametrize(("text", "message"), [
    ("50,20", "strictly increasing (20 after 50)"), ("20,20", "strictly increasing"),
    ("20,150", "step 150 is not in 1..100"), ("0,50", "step 0 is not in 1..100"),
    ("abc", "'abc' is not an integer"), ("", "'' is not an integer"),
    ("10,,20", "'' is not an integer"), ("12.5", "'12.5' is not an integer"),
])
def test_parse_steps_names_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError) as info:
        parse_steps(text)
    assert message in str(info.value)


def test_predicted_weight_follows_the_program_split() -> None:
    assert [REPLICAS_4(w) for w in (10, 20, 25, 50, 60, 100)] == [25, 25, 25, 50, 50, 100]
    assert predicted_weight("istio", 4)(10) == 10
    assert predicted_weight("lattice", 4)(10) == 10  # exact weights, like istio


def test_plan_applies_every_step_above_the_current_weight() -> None:
    plan = plan_steps((20, 50, 100), 0, REPLICAS_4)
    assert plan == Plan(0, (), (Step(20, 25), Step(50, 50), Step(100, 100)))
    assert plan.requested == 3


def test_plan_resumes_after_the_current_weight() -> None:
    plan = plan_steps((20, 50, 100), 50, REPLICAS_4)
    assert plan.done == (20, 50) and plan.steps == (Step(100, 100),)
    assert plan_steps((20, 50, 100), 30, REPLICAS_4).steps[0].weight == 50
    assert plan_steps((20, 50, 100), 100, REPLICAS_4).steps == ()


def test_plan_merges_runs_of_equal_effective_weight_into_their_last() -> None:
    plan = plan_steps((10, 25, 50, 60, 100), 0, REPLICAS_4)
    assert plan.steps == (Step(25, 25, (10,)), Step(60, 50, (50,)), Step(100, 100))
    assert plan.requested == 5
    assert plan_steps((10, 25), 0, predicted_weight("istio", 4)).steps == (Step(10, 10),
                                                                          Step(25, 25))
    # one pod: 10 and 25 serve 0% (no V2 pod), 50 and 100 serve 100%
    one = plan_steps((10, 25, 50, 100), 0, predicted_weight("replicas", 1))
    assert one.steps == (Step(25, 0, (10,)), Step(100, 100, (50,)))


# --------------------------------------------------------------------------- gates


def test_a_healthy_step_passes_every_gate() -> None:
    result = measured(30, 10, 25)
    assert evaluate(result, Gates(max_latency_ratio=1.5)) == []


def test_split_gate_uses_the_chosen_confidence() -> None:
    result = measured(36, 4, 25)  # 10%: 95% interval [4.0, 23.1], 99% interval [3.0, 28.4]
    assert evaluate(result, Gates(confidence=0.99)) == []
    (reason,) = evaluate(result, Gates(confidence=0.95))
    assert reason == ("split: V2 answered 10.0% of 40 valid calls; the 95% interval "
                      "[4.0, 23.1] excludes the expected 25%")


def test_split_gate_fails_without_valid_answers() -> None:
    result = measured(0, 0, 25, errors=10)
    reasons = evaluate(result, Gates())
    assert [r.split(":")[0] for r in reasons] == ["split", "errors"]
    assert reasons[0] == "split: no valid answer among 10 calls to measure the V2 share " \
                         "(expected 25%)"


def test_errors_gate_names_rate_kinds_and_limit() -> None:
    (reason,) = evaluate(measured(27, 10, 25, errors=3), Gates())
    assert reason == "errors: 7.5% of 40 calls failed (http_500: 3), max 1%"
    assert evaluate(measured(27, 10, 25, errors=3, max_error_rate=0.1), Gates()) == []


def test_latency_gate_compares_p95_of_the_same_step() -> None:
    slow = measured(30, 10, 25, v1_s=0.020, v2_s=0.100)
    (reason,) = evaluate(slow, Gates(max_latency_ratio=2))
    assert reason == "latency: V2 p95 100.0 ms is 5.00x V1's 20.0 ms, max 2x"
    assert evaluate(slow, Gates(max_latency_ratio=5)) == []
    assert evaluate(slow, Gates()) == []  # off unless given


def test_latency_gate_at_100_uses_the_earlier_v1_p95() -> None:
    all_v2 = measured(0, 40, 100, v2_s=0.030)
    assert evaluate(all_v2, Gates(max_latency_ratio=2), v1_baseline=0.020) == []
    (reason,) = evaluate(all_v2, Gates(max_latency_ratio=1.2), v1_baseline=0.020)
    assert reason == "latency: V2 p95 30.0 ms is 1.50x V1's earlier 20.0 ms, max 1.2x"
    (reason,) = evaluate(all_v2, Gates(max_latency_ratio=2))
    assert reason == "latency: no V1 answer to compare V2's p95 (30.0 ms) with"


def test_latency_gate_ignores_a_step_where_v2_answered_nothing() -> None:
    assert evaluate(measured(40, 0, 0), Gates(max_latency_ratio=1.1)) == []


# --------------------------------------------------------------------------- report


def test_report_json_has_exactly_the_issue_keys() -> None:
    report = PromoteReport("dev", 0, (20,), "99%", final_weight=20,
                           steps=[StepRecord(20, 25, passed=True, verify=measured(30, 10, 25),
                                             up_seconds=1.23456)])
    data = report.to_json()
    assert data == {"stack": "dev", "result": "promoted", "finalWeight": 20,
                    "steps": [{"weight": 20, "effectiveWeight": 25, "passed": True, "failed": [],
                               "verify": measured(30, 10, 25).to_json(), "upSeconds": 1.235}]}
    assert EXIT_CODES == {"promoted": 0, "rolled-back": 1, "rollback-failed": 3,
                          "interrupted": 130, "locked": 2}


def test_step_lines() -> None:
    record = StepRecord(20, 25, failed=["errors: 7.5% ...", "split: ..."],
                        verify=measured(27, 10, 25, errors=3), up_seconds=61,
                        interval=(12.0, 45.0))
    line = format_step(record, "1/3")
    assert line.split() == ["1/3", "20", "25%", "1:01", "27.0%", "[12.0,", "45.0]", "7.5%",
                            "10.0", "/", "10.0", "ms", "FAILED", "errors,split"]
    merged = format_step(StepRecord(10, 25, merged_into=25), "1/4")
    assert merged.split()[:4] == ["1/4", "10", "25%", "-"]
    assert merged.endswith("merged into canaryWeight 25 (same effective weight)")


def test_last_error_line_prefers_pulumi_error_lines() -> None:
    exc = Exception("\n code: 255\n stdout: Updating\n stderr: warning: x\nerror: update failed\n")
    assert last_error_line(exc) == "error: update failed"
    assert last_error_line(exc, ["plain text"]) == "plain text"
    assert last_error_line(Exception("")) == "Exception"


def test_status_off_a_terminal_prints_lines_and_rare_heartbeats() -> None:
    stream = io.StringIO()
    status = Status(stream, tty=False, heartbeat=60)
    status.line("step 1/3: pulumi up")
    status.update("step 1/3: pulumi up 0:01")  # within the heartbeat: not printed
    status.update("step 1/3: calls 40/40", force=True)
    assert stream.getvalue() == "step 1/3: pulumi up\nstep 1/3: calls 40/40\n"
    Status(None, tty=True).update("x")  # nowhere to draw: a no-op
    assert clock(61.9) == "1:01" and clock(0) == "0:00"


# --------------------------------------------------------------------------- arguments


@pytest.mark.parametrize("bad", [
    ["--confidence", "1"], ["--confidence", "0"], ["--rollback-weight", "101"],
    ["--rollback-weight", "1.5"], ["--max-latency-ratio", "0"], ["--bake", "-1"],
    ["--requests", "0"], ["--max-error-rate", "2"], ["--url", "ftp://x/"],
])
def test_bad_arguments_exit_2(capsys: pytest.CaptureFixture[str], bad: list[str]) -> None:
    assert main(["promote", *bad]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "error: argument" in err and "Traceback" not in err


def test_help_lists_the_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["promote", "--help"]) == 0
    out = capsys.readouterr().out
    for code in ("0 ", "1 ", "2 ", "3 ", "130"):
        assert f"\n  {code}" in out
