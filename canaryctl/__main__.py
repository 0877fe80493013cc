"""Command-line entry point: ``python -m canaryctl <command> ...``.

Each command lives in its own module exposing ``add_parser(subparsers)``; that function
registers the sub-parser and sets ``func(args) -> int`` as its default, so adding a
command is one entry in ``COMMANDS``. Only the module of the command being run is imported
(``render`` pulls in the whole program's builders, ``promote`` the Pulumi SDK), so
``verify`` and argument errors answer at once.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

COMMANDS = {"render": "canaryctl.render", "verify": "canaryctl.verify",
            "promote": "canaryctl.promote"}


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The top-level parser with one sub-parser per command module (or just ``only``'s)."""
    parser = argparse.ArgumentParser(
        prog="python -m canaryctl",
        description="Operator tools for the eks-canary release.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, module in COMMANDS.items():
        if only is None or name == only:
            importlib.import_module(module).add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command and return its exit status (argparse errors become 2, not an exit)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv[0] if argv and argv[0] in COMMANDS else None
    parser = build_parser(command)
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
