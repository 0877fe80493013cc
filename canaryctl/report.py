"""The human report of one measurement: chart, interval, errors, latency, verdict."""

from __future__ import annotations

from collections.abc import Iterable

from canaryctl.stats import BASELINE_VERSION, CANARY_VERSION, Latency, VerifyResult

BAR_WIDTH = 20


def ordered_versions(seen: Iterable[str]) -> list[str]:
    """V1 and V2 first (always shown), then any other version seen."""
    first = [BASELINE_VERSION, CANARY_VERSION]
    return first + sorted(v for v in seen if v not in first)


def format_chart(counts: dict[str, int], width: int = BAR_WIDTH) -> list[str]:
    """One bar per version, e.g. ``V1 ██████████████░░░░░░  70.0%  (140)``."""
    total = sum(counts.values())
    versions = ordered_versions(counts)
    label = max(len(v) for v in versions)
    lines = []
    for version in versions:
        n = counts.get(version, 0)
        share = n / total if total else 0.0
        filled = round(share * width)
        bar = "█" * filled + "░" * (width - filled)
        lines.append(f"{version:<{label}} {bar} {100 * share:5.1f}%  ({n})")
    return lines


def ms(seconds: float) -> str:
    return f"{1000 * seconds:.1f} ms"


def format_latency(latency: dict[str, Latency]) -> list[str]:
    """``Latency   V1  p50 3.1 ms  p95 9.8 ms  (139 answers)``, one line per version."""
    lines: list[str] = []
    for version in (v for v in ordered_versions(latency) if v in latency):
        lat = latency[version]
        head = "Latency   " if not lines else " " * 10
        lines.append(f"{head}{version:<3} p50 {ms(lat.p50):>9}  p95 {ms(lat.p95):>9}  "
                     f"({lat.answers} answers)")
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
    where = ("inside the interval" if result.split_ok else "OUTSIDE the interval"
             if result.valid else "not checked: no valid answer")
    lines.append(f"Expected  {result.expected_weight:g}% ({result.expected_source}): {where}")
    verdict = "OK" if result.errors_ok else "TOO HIGH"
    lines.append(f"Errors    {100 * result.error_rate:.1f}% (max "
                 f"{100 * result.max_error_rate:g}%): {verdict}")
    for kind, count in result.errors.items():
        lines.append(f"  {kind:<12} {count:>6}  e.g. {result.error_samples.get(kind, '')}")
    lines += format_latency(result.latency)
    lines.append(f"Result    {'OK' if result.ok else 'FAIL'}")
    return "\n".join(lines)
