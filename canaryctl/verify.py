"""``canaryctl verify``: measure the live V1/V2 split and compare it with the expected weight.

The command calls the notification endpoint N times, counts the ``appversion`` of each JSON
answer and checks that the expected V2 weight lies inside the 95% Wilson score interval of
the observed V2 share, and that the error rate stays within a threshold.

Every request opens a fresh TCP connection (urllib sends ``Connection: close`` and never
pools). That is deliberate: kube-proxy picks a backend pod per *connection*, so reusing
connections would measure a handful of pod choices instead of the replica split.

Exit status: 0 split and error rate fine, 1 split or error rate off, 2 bad arguments, no
expected weight, or no HTTP answer at all.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any, TextIO

Z95 = 1.959963984540054  # two-sided 95% normal quantile
CANARY_VERSION = "V2"
MAX_BODY_BYTES = 64 * 1024
PULUMI_TIMEOUT_S = 60.0
USER_AGENT = "canaryctl-verify"
BAR_WIDTH = 20
PROGRESS_WIDTH = 30

# Error kinds (plus "http_<status>" for non-2xx answers).
CONNECTION = "connection"
TIMEOUT = "timeout"
BAD_BODY = "bad_body"
PROTOCOL = "protocol"


class VerifyError(Exception):
    """A condition that stops the command with exit status 2 and a one-line message."""


# --------------------------------------------------------------------------- statistics


def wilson_interval(successes: int, trials: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion, as fractions in [0, 1].

    Wilson rather than the normal approximation because it stays sensible near 0% and
    100% (a canary at 0 or full weight) and for small samples.
    """
    if trials <= 0 or not 0 <= successes <= trials:
        raise ValueError(f"need 0 <= successes <= trials and trials > 0, got {successes}/{trials}")
    p = successes / trials
    z2 = z * z
    denom = 1 + z2 / trials
    centre = (p + z2 / (2 * trials)) / denom
    half = z * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


# --------------------------------------------------------------------------- requests


@dataclass(frozen=True)
class Outcome:
    """What one request produced: a version, or an error kind with a detail."""

    version: str | None = None
    error: str | None = None
    detail: str = ""
    answered: bool = True  # False when no HTTP answer came back (refused, DNS, TLS, timeout)


def _version_from_body(body: bytes) -> str | None:
    """Return the ``appversion`` string of a JSON body, or None when it is not there."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        return None
    version = data.get("appversion") if isinstance(data, dict) else None
    return version if isinstance(version, str) and version else None


def _read_answer(response: http.client.HTTPResponse) -> Outcome:
    """Turn an HTTP answer into an Outcome; the body is read with the request timeout."""
    if not 200 <= response.status < 300:
        return Outcome(error=f"http_{response.status}", detail=f"HTTP {response.status}")
    try:
        body = response.read(MAX_BODY_BYTES)
    except TimeoutError as exc:
        return Outcome(error=TIMEOUT, detail=f"reading body: {exc}")
    except (OSError, http.client.HTTPException) as exc:
        return Outcome(error=BAD_BODY, detail=f"reading body: {exc!r}")
    version = _version_from_body(body)
    if version is None:
        return Outcome(error=BAD_BODY, detail=f"no appversion in {body[:80]!r}")
    return Outcome(version=version)


def fetch_version(url: str, timeout: float) -> Outcome:
    """Make one GET request on a fresh connection and classify the result."""
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return _read_answer(response)
    except urllib.error.HTTPError as exc:  # non-2xx: urllib raises instead of returning
        exc.close()
        return Outcome(error=f"http_{exc.code}", detail=f"HTTP {exc.code} {exc.reason}")
    except urllib.error.URLError as exc:  # raised before any answer: refused, DNS, TLS...
        kind = TIMEOUT if isinstance(exc.reason, TimeoutError) else CONNECTION
        return Outcome(error=kind, detail=str(exc.reason), answered=False)
    except TimeoutError as exc:
        return Outcome(error=TIMEOUT, detail=str(exc))
    except http.client.HTTPException as exc:  # the peer answered, but not with valid HTTP
        return Outcome(error=PROTOCOL, detail=repr(exc))
    except OSError as exc:
        return Outcome(error=CONNECTION, detail=str(exc))
    except Exception as exc:  # anything else is still one failed call, not a crash
        return Outcome(error="other", detail=repr(exc), answered=False)


def render_progress(done: int, total: int, width: int = PROGRESS_WIDTH) -> str:
    """Render ``\\r[#####.....] done/total`` (no trailing newline)."""
    filled = width * done // total if total else width
    return f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}"


def run_requests(
    url: str,
    requests: int,
    concurrency: int,
    timeout: float,
    progress: TextIO | None = None,
    fetch: Callable[[str, float], Outcome] = fetch_version,
) -> list[Outcome]:
    """Submit exactly ``requests`` calls to a pool of ``concurrency`` threads; collect results."""
    outcomes: list[Outcome] = []
    last_draw = 0.0
    pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="verify")
    try:
        futures = [pool.submit(fetch, url, timeout) for _ in range(requests)]
        for future in as_completed(futures):
            outcomes.append(future.result())
            now = time.monotonic()
            if progress is not None and (now - last_draw >= 0.1 or len(outcomes) == requests):
                progress.write(render_progress(len(outcomes), requests))
                progress.flush()
                last_draw = now
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        if progress is not None:
            progress.write("\r" + " " * (PROGRESS_WIDTH + 30) + "\r")
            progress.flush()
    return outcomes


# --------------------------------------------------------------------------- result


@dataclass(frozen=True)
class VerifyResult:
    """Counts from one run and the verdict derived from them."""

    url: str
    requests: int
    counts: dict[str, int]
    errors: dict[str, int]
    expected_weight: float
    max_error_rate: float
    answered: int = 0
    error_samples: dict[str, str] = field(default_factory=dict)
    expected_source: str = "--expect"

    @classmethod
    def from_outcomes(
        cls,
        url: str,
        outcomes: list[Outcome],
        expected_weight: float,
        max_error_rate: float,
        expected_source: str = "--expect",
    ) -> VerifyResult:
        """Aggregate per-request outcomes."""
        counts = Counter(o.version for o in outcomes if o.version is not None)
        errors = Counter(o.error for o in outcomes if o.error is not None)
        samples: dict[str, str] = {}
        for o in outcomes:
            if o.error is not None:
                samples.setdefault(o.error, o.detail)
        return cls(
            url=url,
            requests=len(outcomes),
            counts=dict(sorted(counts.items())),
            errors=dict(sorted(errors.items())),
            expected_weight=expected_weight,
            max_error_rate=max_error_rate,
            answered=sum(o.answered for o in outcomes),
            error_samples=samples,
            expected_source=expected_source,
        )

    @property
    def valid(self) -> int:
        return sum(self.counts.values())

    @property
    def error_rate(self) -> float:
        return sum(self.errors.values()) / self.requests if self.requests else 1.0

    @property
    def observed_weight(self) -> float | None:
        """V2 share of valid answers, in percent; None without valid answers."""
        if not self.valid:
            return None
        return 100.0 * self.counts.get(CANARY_VERSION, 0) / self.valid

    @property
    def ci95(self) -> tuple[float, float] | None:
        """95% Wilson interval of the V2 share, in percent."""
        if not self.valid:
            return None
        low, high = wilson_interval(self.counts.get(CANARY_VERSION, 0), self.valid)
        return 100.0 * low, 100.0 * high

    @property
    def split_ok(self) -> bool:
        ci = self.ci95
        return ci is not None and ci[0] - 1e-9 <= self.expected_weight <= ci[1] + 1e-9

    @property
    def errors_ok(self) -> bool:
        return self.error_rate <= self.max_error_rate

    @property
    def ok(self) -> bool:
        return self.split_ok and self.errors_ok

    @property
    def reachable(self) -> bool:
        """False when not a single request got an HTTP answer."""
        return self.answered > 0

    def exit_code(self) -> int:
        if not self.reachable:
            return 2
        return 0 if self.ok else 1

    def to_json(self) -> dict[str, Any]:
        ci = self.ci95
        observed = self.observed_weight
        return {
            "requests": self.requests,
            "counts": self.counts,
            "errors": self.errors,
            "observedWeight": None if observed is None else round(observed, 3),
            "ci95": None if ci is None else [round(ci[0], 3), round(ci[1], 3)],
            "expectedWeight": self.expected_weight,
            "ok": self.ok,
            "errorRate": round(self.error_rate, 6),
        }


# --------------------------------------------------------------------------- report


def _ordered_versions(counts: dict[str, int]) -> list[str]:
    """V1 and V2 first (always shown), then any other version seen."""
    return ["V1", "V2"] + sorted(v for v in counts if v not in ("V1", "V2"))


def format_chart(counts: dict[str, int], width: int = BAR_WIDTH) -> list[str]:
    """One bar per version, e.g. ``V1 ██████████████░░░░░░  70.0%  (140)``."""
    total = sum(counts.values())
    versions = _ordered_versions(counts)
    label = max(len(v) for v in versions)
    lines = []
    for version in versions:
        n = counts.get(version, 0)
        share = n / total if total else 0.0
        filled = round(share * width)
        bar = "█" * filled + "░" * (width - filled)
        lines.append(f"{version:<{label}} {bar} {100 * share:5.1f}%  ({n})")
    return lines


def format_report(result: VerifyResult) -> str:
    """Human-readable report: counts, chart, interval, verdict."""
    n_err = sum(result.errors.values())
    lines = [f"URL       {result.url}", f"Requests  {result.requests} ({result.valid} valid, "
             f"{n_err} errors)"]
    lines += ["", *format_chart(result.counts), ""] if result.valid else ["No valid answers."]
    ci, observed = result.ci95, result.observed_weight
    if ci is not None and observed is not None:
        lines.append(f"V2 share  {observed:.1f}%  95% CI [{ci[0]:.1f}, {ci[1]:.1f}]")
    where = "inside" if result.split_ok else "OUTSIDE"
    lines.append(f"Expected  {result.expected_weight:g}% ({result.expected_source}): "
                 f"{where} the interval")
    verdict = "OK" if result.errors_ok else "TOO HIGH"
    lines.append(f"Errors    {100 * result.error_rate:.1f}% (max "
                 f"{100 * result.max_error_rate:g}%): {verdict}")
    for kind, count in result.errors.items():
        lines.append(f"  {kind:<12} {count:>6}  e.g. {result.error_samples.get(kind, '')}")
    lines.append(f"Result    {'OK' if result.ok else 'FAIL'}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- expected weight


def weight_from_stack_outputs(outputs: Any) -> float:
    """Extract ``trafficSplit.effectiveWeight`` (percent) from ``pulumi stack output --json``."""
    split = outputs.get("trafficSplit") if isinstance(outputs, dict) else None
    weight = split.get("effectiveWeight") if isinstance(split, dict) else None
    if isinstance(weight, bool) or not isinstance(weight, int | float):
        raise VerifyError("stack output trafficSplit.effectiveWeight missing or not a number; "
                          "pass --expect W")
    if not 0 <= weight <= 100:
        raise VerifyError(f"stack output trafficSplit.effectiveWeight={weight} is not in 0..100")
    return float(weight)


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


# --------------------------------------------------------------------------- CLI


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _float_in(text: str, low: float, high: float, low_open: bool = False) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value) or value > high or value < low or (low_open and value == low):
        bound = f"> {low:g}" if low_open else f"in {low:g}..{high:g}"
        raise argparse.ArgumentTypeError(f"must be {bound}, got {text}")
    return value


def _weight(text: str) -> float:
    return _float_in(text, 0.0, 100.0)


def _fraction(text: str) -> float:
    return _float_in(text, 0.0, 1.0)


def _seconds(text: str) -> float:
    return _float_in(text, 0.0, math.inf, low_open=True)


def _http_url(text: str) -> str:
    parts = urllib.parse.urlsplit(text)
    try:
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        raise argparse.ArgumentTypeError(f"bad port in URL: {text!r}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise argparse.ArgumentTypeError(f"need an http:// or https:// URL with a host: {text!r}")
    return text


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``verify`` on the top-level sub-parsers."""
    parser = subparsers.add_parser(
        "verify",
        help="measure the live V1/V2 split and compare it with the expected weight",
        description="Call URL N times, count appversion per answer and check that the "
        "expected V2 weight lies in the 95% Wilson interval of the observed V2 share. "
        "Exit 0: ok; 1: split or error rate off; 2: bad arguments, no expected weight, "
        "or no HTTP answer at all.",
    )
    parser.add_argument("--url", required=True, type=_http_url,
                        help="endpoint answering JSON with appversion, "
                        "e.g. http://HOST/usermgmt/notification-xray")
    parser.add_argument("--requests", type=_positive_int, default=200, metavar="N",
                        help="number of calls (default: %(default)s)")
    parser.add_argument("--concurrency", type=_positive_int, default=10, metavar="C",
                        help="calls in flight at once (default: %(default)s)")
    parser.add_argument("--expect", type=_weight, metavar="W",
                        help="expected V2 weight in percent, 0..100 (default: "
                        "trafficSplit.effectiveWeight from `pulumi stack output`)")
    parser.add_argument("--stack", metavar="NAME",
                        help="Pulumi stack to read the expected weight from (without --expect)")
    parser.add_argument("--timeout", type=_seconds, default=5.0, metavar="S",
                        help="per-request timeout in seconds (default: %(default)s)")
    parser.add_argument("--max-error-rate", type=_fraction, default=0.01, metavar="R",
                        help="highest acceptable share of failed calls, a fraction 0..1 "
                        "(default: %(default)s, i.e. 1%%)")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON object on stdout instead of the report")
    parser.set_defaults(func=run)
    return parser


def _stderr_progress() -> TextIO | None:
    """Draw a progress bar only for a human watching a terminal."""
    return sys.stderr if sys.stderr.isatty() else None


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
    outcomes = run_requests(args.url, args.requests, args.concurrency, args.timeout,
                            progress=_stderr_progress())
    result = VerifyResult.from_outcomes(args.url, outcomes, expected, args.max_error_rate,
                                        expected_source=source)
    print(json.dumps(result.to_json()) if args.json else format_report(result))
    if not result.reachable:
        kinds = ", ".join(f"{k}: {n}" for k, n in result.errors.items())
        sample = next(iter(result.error_samples.values()), "")
        print(f"canaryctl verify: error: cannot reach {args.url}: no HTTP answer to any of "
              f"{result.requests} requests ({kinds}; e.g. {sample})", file=sys.stderr)
    return result.exit_code()
