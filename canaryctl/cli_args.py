"""Argument types and the sampling options that ``verify`` and ``promote`` share.

Each type raises ``argparse.ArgumentTypeError`` with the value and what is allowed, so a bad
argument ends in argparse's one-line usage error (exit status 2) before anything runs.
"""

from __future__ import annotations

import argparse
import math
import urllib.parse


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def float_in(text: str, low: float, high: float, low_open: bool = False,
             high_open: bool = False) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    too_low = value < low or (low_open and value == low)
    too_high = value > high or (high_open and value == high)
    if not math.isfinite(value) or too_low or too_high:
        if math.isinf(high):
            bound = f"> {low:g}" if low_open else f">= {low:g}"
        elif low_open or high_open:
            bound = f"strictly between {low:g} and {high:g}"
        else:
            bound = f"in {low:g}..{high:g}"
        raise argparse.ArgumentTypeError(f"must be {bound}, got {text}")
    return value


def weight(text: str) -> float:
    return float_in(text, 0.0, 100.0)


def fraction(text: str) -> float:
    return float_in(text, 0.0, 1.0)


def seconds(text: str) -> float:
    """A duration > 0."""
    return float_in(text, 0.0, math.inf, low_open=True)


def percent_int(text: str) -> int:
    """An integer weight in 0..100."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"want an integer 0..100, got {text!r}") from None
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError(f"want an integer 0..100, got {value}")
    return value


def non_negative_seconds(text: str) -> float:
    return float_in(text, 0.0, math.inf)


def ratio(text: str) -> float:
    """A factor > 0."""
    return float_in(text, 0.0, math.inf, low_open=True)


def confidence(text: str) -> float:
    """A probability strictly between 0 and 1, e.g. 0.99."""
    return float_in(text, 0.0, 1.0, low_open=True, high_open=True)


def http_url(text: str) -> str:
    parts = urllib.parse.urlsplit(text)
    try:
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        raise argparse.ArgumentTypeError(f"bad port in URL: {text!r}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise argparse.ArgumentTypeError(f"need an http:// or https:// URL with a host: {text!r}")
    return text


def add_sampling_arguments(parser: argparse.ArgumentParser, per: str = "") -> None:
    """``--requests``, ``--concurrency``, ``--timeout``, ``--max-error-rate``."""
    parser.add_argument("--requests", type=positive_int, default=200, metavar="N",
                        help=f"number of calls{per} (default: %(default)s)")
    parser.add_argument("--concurrency", type=positive_int, default=10, metavar="C",
                        help="calls in flight at once (default: %(default)s)")
    parser.add_argument("--timeout", type=seconds, default=5.0, metavar="S",
                        help="per-request timeout in seconds (default: %(default)s)")
    parser.add_argument("--max-error-rate", type=fraction, default=0.01, metavar="R",
                        help=f"highest acceptable share of failed calls{per}, a fraction "
                        "0..1 (default: %(default)s, i.e. 1%%)")
