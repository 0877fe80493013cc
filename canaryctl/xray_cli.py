"""The X-Ray analysis as ``promote`` and ``verify`` use it: options, preparation, one read.

``promote --xray`` judges every step also on X-Ray's statistics of the real traffic to
``V1-Notification-Microservice`` and ``V2-Notification-Microservice`` over the step's window
(canaryctl/xray.py reads them, canaryctl/xray_stats.py judges them); ``verify --xray WINDOW``
reads the same for a window the user names. Both refuse a stack whose ``target`` is
``local``: X-Ray is an AWS service, and such a stack sends its traces to a local UI instead.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import textwrap
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from canaryctl import cli_args
from canaryctl.stats import BASELINE_VERSION, z_for
from canaryctl.xray import (
    MINUTE,
    SERVICES,
    Timing,
    XRayError,
    XRayReader,
    floor_minute,
    make_client,
    step_window,
)
from canaryctl.xray_stats import FAILED, Window, XRayRead, judge

# the project folder, where `pulumi` finds the stack (not canaryctl.stackfiles', which loads
# PyYAML: `verify` runs with nothing but Python)
ROOT = Path(__file__).resolve().parent.parent

if TYPE_CHECKING:  # promote's; imported at run time only there (it loads the Pulumi SDK)
    from canaryctl.pulumi_stack import CanaryStack

TARGET_KEY = "target"  # eks-canary:target, "aws" (default) or "local"
REGION_KEY = "aws:region"
WIDTH = 78  # the option groups' descriptions (the parsers keep raw text)
SAMPLE_NOTE = ("X-Ray counts only traced requests: the apps' SDK samples (by default the first "
               "request each second and 5% of the rest), so rates carry intervals and p95 is "
               "that of the traced requests; each window is read once its numbers stop "
               "changing.")


def reader_factory(region: str | None) -> XRayReader:
    """The reader of the real client (tests replace it: a Stubber-wrapped client, a fake clock)."""
    return XRayReader(make_client(region))


def add_promote_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "X-Ray analysis (real traffic)", textwrap.fill(
        "With --xray each step is also judged on AWS X-Ray's statistics of "
        f"{SERVICES['V1']} and {SERVICES['V2']} over the step's window (whole minutes from "
        "the end of its `up`): V2's fault (5xx) rate within --max-error-rate, V2's p95 within "
        "--max-latency-ratio times V1's, from at least --xray-min-requests traced V2 requests. "
        "A failed X-Ray gate (`xray: ...`) rolls back like any other. Needs AWS credentials "
        "with xray:GetTimeSeriesServiceStatistics. When X-Ray cannot be read before the "
        "first step, or the stack has `target: local` (no X-Ray there), promote stops with "
        "exit status 2, nothing applied; an X-Ray error during a step fails that step.", WIDTH))
    group.add_argument("--xray", action="store_true",
                       help="judge each step on X-Ray's statistics too (off unless given)")
    group.add_argument("--xray-window", type=cli_args.seconds, default=300.0, metavar="S",
                       help="length of a step's X-Ray window, rounded up to whole minutes "
                       "(default: %(default)g)")
    _common(group)


def add_verify_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "X-Ray analysis (real traffic)", textwrap.fill(
        f"--xray WINDOW also reads AWS X-Ray's statistics of {SERVICES['V1']} and "
        f"{SERVICES['V2']} over WINDOW and fails when V2's fault (5xx) rate exceeds "
        "--max-error-rate.", WIDTH))
    group.add_argument("--xray", type=window_arg, metavar="WINDOW", dest="xray",
                       help="`15m` (the last 15 whole minutes) or START/END in ISO 8601 on "
                       "whole minutes, UTC unless a zone is given, e.g. "
                       "2026-12-07T01:00/2026-12-07T01:15")
    _common(group)


def _common(group: argparse._ArgumentGroup) -> None:
    group.add_argument("--xray-min-requests", type=cli_args.positive_int, default=30,
                       metavar="N", help="traced V2 requests needed for an X-Ray verdict "
                       "(default: %(default)s); fewer: `not enough traffic`, X-Ray neither "
                       "passes nor fails (promote first grows a step's window minute by "
                       "minute, up to --xray-wait)")
    group.add_argument("--xray-settle", type=cli_args.non_negative_seconds, default=60.0,
                       metavar="S", help="seconds after a window's end before its first read "
                       "(X-Ray data arrives late; default: %(default)g)")
    group.add_argument("--xray-wait", type=cli_args.non_negative_seconds, default=300.0,
                       metavar="S", help="most seconds to wait beyond that for the numbers to "
                       "stop changing or for V2 traffic (default: %(default)g)")


_RELATIVE = re.compile(r"^(\d+)m$")


def window_arg(text: str) -> Callable[[datetime], Window]:
    """``15m`` or ``START/END``; returns a function of "now" (relative windows end at the
    minute now is in)."""
    if match := _RELATIVE.match(text.strip()):
        minutes = int(match.group(1))
        if minutes < 1:
            raise argparse.ArgumentTypeError(f"want at least 1 minute, got {text!r}")
        return lambda now: Window(floor_minute(now) - minutes * MINUTE, floor_minute(now))
    start_text, slash, end_text = text.partition("/")
    if not slash:
        raise argparse.ArgumentTypeError(f"want `15m` or START/END, got {text!r}")
    start, end = _moment(start_text), _moment(end_text)
    if end <= start:
        raise argparse.ArgumentTypeError(f"END must be after START: {text!r}")
    return lambda now: Window(start, end)


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {text!r}") from None
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    if moment.second or moment.microsecond:
        raise argparse.ArgumentTypeError(f"X-Ray aggregates per minute: {text!r} is not on a "
                                         "whole minute")
    return moment


def timing(args: argparse.Namespace) -> Timing:
    return Timing(window_s=getattr(args, "xray_window", 300.0), settle_s=args.xray_settle,
                  wait_s=args.xray_wait)


def check_target(target: str | None, stack: str) -> None:
    """X-Ray exists on ``target: aws`` only (missing means aws)."""
    if target in (None, "", "aws"):
        return
    if target == "local":
        raise XRayError(f"stack {stack} has target: local: no AWS X-Ray there (its traces go "
                        "to the local trace UI); drop --xray")
    raise XRayError(f"stack {stack} has target: {target!r}; --xray needs target: aws")


class StepXRay:
    """``promote``'s X-Ray analysis of each step, with V1's latest p95 as a baseline."""

    def __init__(self, reader: XRayReader, args: argparse.Namespace, confidence: float,
                 max_latency_ratio: float | None) -> None:
        self.reader = reader
        self.timing = timing(args)
        self.min_requests = args.xray_min_requests
        self.max_fault_rate = args.max_error_rate
        self.max_latency_ratio = max_latency_ratio
        self.confidence, self.z = f"{100 * confidence:g}%", z_for(confidence)
        self.v1_baseline: float | None = None

    def now(self) -> datetime:
        return self.reader.now()

    def judge_step(self, started: datetime, on_wait: Callable[[str], None],
                   expected_share: float | None = None) -> XRayRead:
        """The step's window, read and judged; ``expected_share``: V2's served share (0..1)."""
        window = step_window(started, self.timing.window_s)
        try:
            read = self.reader.analyse(window, self.timing, self.min_requests, on_wait)
        except XRayError as exc:
            read = XRayRead(window, {}, complete=False, status=FAILED,
                            failed=[f"xray: cannot read X-Ray: {exc}"])
            read.confidence, read.z = self.confidence, self.z
            return read
        read.confidence, read.z = self.confidence, self.z
        judge(read, self.max_fault_rate, self.min_requests, self.max_latency_ratio,
              self.v1_baseline, expected_share)
        if (v1 := read.stats(BASELINE_VERSION).p95) is not None:
            self.v1_baseline = v1
        return read


def prepare_promote(args: argparse.Namespace, stack: CanaryStack) -> StepXRay:
    """Check the target, make the client and read the last minute once (credentials, region
    and endpoint fail here, before anything is applied). XRayError on any problem."""
    from canaryctl.pulumi_stack import StackError

    try:
        target, region = stack.optional(TARGET_KEY), stack.optional(REGION_KEY)
        check_target(target, stack.name)
        reader = reader_factory(region)
        now = reader.now()
        reader.read(Window(floor_minute(now) - MINUTE, floor_minute(now)))
    except (XRayError, StackError) as exc:
        raise XRayError(f"--xray: {exc}; nothing applied") from exc
    return StepXRay(reader, args, args.confidence, args.max_latency_ratio)


def pulumi_config(key: str, stack: str | None, timeout: float = 60.0) -> str | None:
    """``pulumi config get KEY`` of the stack, or None (no CLI, key not set, any failure)."""
    pulumi = shutil.which("pulumi")
    if pulumi is None:
        return None
    cmd = [pulumi, "config", "get", key, "--json", "--non-interactive"]
    if stack:
        cmd += ["--stack", stack]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False,
                              cwd=ROOT)
        value = json.loads(proc.stdout).get("value") if proc.returncode == 0 else None
    except (OSError, subprocess.TimeoutExpired, ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


def verify_read(args: argparse.Namespace, on_wait: Callable[[str], None]) -> XRayRead:
    """``verify --xray WINDOW``: one judged read (faults and traffic; latency has no ratio in
    verify). XRayError when X-Ray cannot be asked."""
    check_target(pulumi_config(TARGET_KEY, args.stack), args.stack or "(current)")
    reader = reader_factory(pulumi_config(REGION_KEY, args.stack))
    window = args.xray(reader.now())
    read = reader.analyse(window, timing(args), args.xray_min_requests, on_wait, extend=False)
    read.confidence, read.z = "95%", z_for(0.95)
    return judge(read, args.max_error_rate, args.xray_min_requests)



def json_extra(read: XRayRead | None) -> dict[str, Any]:
    """``{"xray": ...}`` for a JSON report, or nothing without --xray."""
    return {} if read is None else {"xray": read.to_json()}


def text_extra(read: XRayRead | None) -> list[str]:
    """The lines a human report adds: the read, its reasons, the note on sampling."""
    return [] if read is None else [*read.format(), *read.failed, SAMPLE_NOTE]
