"""Command-line entry point: ``python -m canaryctl <command> ...``.

Each command lives in its own module exposing ``add_parser(subparsers)``; that function
registers the sub-parser and sets ``func(args) -> int`` as its default, so adding a
command is one import and one entry in ``COMMANDS``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from canaryctl import render, verify

COMMANDS = (render, verify)


def build_parser() -> argparse.ArgumentParser:
    """Build the top-level parser with one sub-parser per command module."""
    parser = argparse.ArgumentParser(
        prog="python -m canaryctl",
        description="Operator tools for the eks-canary release.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in COMMANDS:
        command.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command and return its exit status (argparse errors become 2, not an exit)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2): keep main() returning an int
        return exc.code if isinstance(exc.code, int) else 2
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
