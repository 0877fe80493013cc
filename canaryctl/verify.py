"""``canaryctl verify``: measure the live V1/V2 split and compare it with the expected weight.

The command calls the notification endpoint N times (canaryctl/sampling.py), counts the
``appversion`` of each JSON answer and checks that the expected V2 weight lies inside the 95%
Wilson score interval of the observed V2 share, and that the error rate stays within a
threshold (canaryctl/stats.py). The report (canaryctl/report.py) also shows each version's
p50/p95 latency.

Exit status: 0 split and error rate fine, 1 split or error rate off, 2 bad arguments, no
expected weight, or no HTTP answer at all (a URL that refuses or does not resolve ends after
the first call, with no verdict on the split).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys

from canaryctl import cli_args, xray_cli
from canaryctl.outputs import OutputError, effective_weight
from canaryctl.progress import Status, progress_bar
from canaryctl.report import format_report
from canaryctl.sampling import fetch_version, hint, run_requests, unreachable_hint
from canaryctl.stats import VerifyResult
from canaryctl.xray import XRayError

PULUMI_TIMEOUT_S = 60.0

EPILOG = """\
exit status:
  0  the expected weight lies inside the 95% interval and the error rate is within R
  1  the split is outside the interval, or too many calls failed (or, with --xray,
     X-Ray shows V2 faulting beyond R)
  2  bad arguments, no expected weight (no --expect and no Pulumi CLI), or no HTTP answer
     (a refused or unreachable URL: after the first call, with no verdict on the split;
     or, with --xray, X-Ray cannot be read or the stack has target: local)
"""


class VerifyError(Exception):
    """A condition that stops the command with exit status 2 and a one-line message."""


def weight_from_stack_outputs(outputs: object) -> float:
    """Extract ``trafficSplit.effectiveWeight`` (percent) from ``pulumi stack output --json``."""
    try:
        return effective_weight(outputs)
    except OutputError as exc:
        raise VerifyError(f"{exc}; pass --expect W") from exc


def expected_from_pulumi(stack: str | None, timeout: float = PULUMI_TIMEOUT_S) -> float:
    """Ask the Pulumi CLI (in the current directory) for the deployed effective weight."""
    pulumi = shutil.which("pulumi")
    if pulumi is None:
        raise VerifyError("no expected weight: pass --expect W (Pulumi CLI not found)")
    cmd = [pulumi, "stack", "output", "--json", "--non-interactive"]
    if stack:
        cmd += ["--stack", stack]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise VerifyError(f"could not run pulumi ({exc}); pass --expect W") from exc
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no message"])[-1]
        raise VerifyError(f"pulumi stack output failed ({last}); pass --expect W")
    try:
        outputs = json.loads(proc.stdout)
    except ValueError as exc:
        raise VerifyError("pulumi stack output did not print JSON; pass --expect W") from exc
    return weight_from_stack_outputs(outputs)


def add_parser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    """Register ``verify`` on the top-level sub-parsers."""
    parser = subparsers.add_parser(
        "verify",
        help="measure the live V1/V2 split and compare it with the expected weight",
        description="Call URL N times, count appversion per answer and check that the "
        "expected V2 weight lies in the 95% Wilson interval of the observed V2 share. "
        "Also reports p50/p95 latency per version.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--url", required=True, type=cli_args.http_url,
                        help="endpoint answering JSON with appversion, "
                        "e.g. http://HOST/usermgmt/notification-xray")
    parser.add_argument("--expect", type=cli_args.weight, metavar="W",
                        help="expected V2 weight in percent, 0..100 (default: "
                        "trafficSplit.effectiveWeight from `pulumi stack output`)")
    parser.add_argument("--stack", metavar="NAME",
                        help="Pulumi stack to read the expected weight from (without --expect)")
    cli_args.add_sampling_arguments(parser)
    parser.add_argument("--json", action="store_true",
                        help="print one JSON object on stdout instead of the report")
    xray_cli.add_verify_arguments(parser)
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Execute ``verify``: resolve the expected weight, fire the calls, report."""
    try:
        if args.expect is not None:
            expected, source = args.expect, "--expect"
        else:
            expected = expected_from_pulumi(args.stack)
            source = "pulumi stack output" + (f" --stack {args.stack}" if args.stack else "")
    except VerifyError as exc:
        print(f"canaryctl verify: error: {exc}", file=sys.stderr)
        return 2
    # the first call alone: a URL that refuses or does not resolve ends here, at once
    probe = fetch_version(args.url, args.timeout)
    if not probe.answered:
        if args.json:
            print(json.dumps(VerifyResult.from_outcomes(
                args.url, [probe], expected, args.max_error_rate,
                expected_source=source).to_json()))
        print(f"canaryctl verify: error: cannot reach {args.url}: {probe.error} "
              f"({probe.detail}); no call was answered, so nothing was measured."
              f"{unreachable_hint(args.url)}", file=sys.stderr)
        return 2
    # a progress bar redrawn on a terminal; plain lines every 10 s elsewhere (CI logs)
    status = Status.stderr(sys.stderr)
    try:
        outcomes = [probe, *run_requests(
            args.url, args.requests - 1, args.concurrency, args.timeout,
            on_progress=lambda done, total: status.update(
                progress_bar(done + 1, total + 1), force=done == total))]
    finally:
        status.clear()
    result = VerifyResult.from_outcomes(args.url, outcomes, expected, args.max_error_rate,
                                        expected_source=source)
    try:  # --xray WINDOW: what X-Ray saw of the real traffic
        xray = xray_cli.verify_read(args, status.update) if args.xray else None
    except XRayError as exc:
        print(f"canaryctl verify: error: --xray: {exc}", file=sys.stderr)
        return 2
    finally:
        status.clear()
    print(json.dumps({**result.to_json(), **xray_cli.json_extra(xray)}) if args.json
          else "\n".join([format_report(result), *xray_cli.text_extra(xray)]))
    for kind in result.errors:
        if (advice := hint(args.url, kind)) is not None:
            print(advice, file=sys.stderr)
            break
    if not result.reachable:
        kinds = ", ".join(f"{k}: {n}" for k, n in result.errors.items())
        sample = next(iter(result.error_samples.values()), "")
        print(f"canaryctl verify: error: cannot reach {args.url}: no HTTP answer to any of "
              f"{result.requests} requests ({kinds}; e.g. {sample})", file=sys.stderr)
    return max(result.exit_code(), 1 if xray is not None and xray.failed else 0)
