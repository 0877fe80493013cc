"""Command-line entry point: ``canaryctl <command> ...`` (the console script declared in
pyproject.toml), or ``python -m canaryctl <command> ...``.

Each command lives in its own module exposing ``add_parser(subparsers)``; that function
registers the sub-parser and sets ``func(args) -> int`` as its default, so adding a
command is one entry in ``COMMANDS``. Only the module of the command being run is imported
(``render`` pulls in the whole program's builders, ``promote`` the Pulumi SDK), so
``verify`` and argument errors answer at once. A command whose module needs a package that is
not installed yet (a fresh clone: no Pulumi SDK, no PyYAML) is listed with the command that
installs it, and running it prints that in one line (exit status 2): ``--help`` works with
nothing but Python.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

COMMANDS = {"render": "canaryctl.render", "verify": "canaryctl.verify",
            "promote": "canaryctl.promote"}
PROG = "canaryctl"
INSTALL = "python3 -m venv venv && venv/bin/pip install -r requirements.txt -e ."
OWN_PACKAGES = ("canaryctl", "components")  # a missing module of these is a bug, not setup


def missing_dependency(error: ModuleNotFoundError) -> str | None:
    """The third-party package that a failed import lacks, or None if it is one of ours."""
    root = (error.name or "").partition(".")[0]
    return None if not root or root in OWN_PACKAGES else root


class _Parser(argparse.ArgumentParser):
    """The top-level parser, which also knows the commands that cannot run yet and why."""

    unavailable: dict[str, str]


def _add_unavailable(parser: _Parser, subparsers: argparse._SubParsersAction[_Parser],
                     name: str, package: str) -> None:
    """List a command whose dependencies are not installed; `main` answers it in one line."""
    parser.unavailable[name] = (
        f"{PROG} {name}: the Python package {package!r} is not installed for {sys.executable}: "
        f"run `{INSTALL}` in the project folder, then `venv/bin/{PROG} {name} ...`")
    subparsers.add_parser(name, help="(not installed yet, see below)", add_help=False)
    parser.epilog = (f"Not installed yet: {', '.join(parser.unavailable)}. Install with:\n"
                     f"  {INSTALL}")


def build_parser(only: str | None = None) -> _Parser:
    """The top-level parser with one sub-parser per command module (or just ``only``'s)."""
    parser = _Parser(
        prog=PROG,
        description="Operator tools for the eks-canary release.",
        formatter_class=argparse.RawDescriptionHelpFormatter,  # keeps the install command whole
    )
    parser.unavailable = {}
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, module in COMMANDS.items():
        if only is None or name == only:
            try:
                command = importlib.import_module(module)
            except ModuleNotFoundError as error:
                if (package := missing_dependency(error)) is None:
                    raise
                _add_unavailable(parser, subparsers, name, package)
                continue
            command.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command and return its exit status (argparse errors become 2, not an exit)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv[0] if argv and argv[0] in COMMANDS else None
    parser = build_parser(command)
    if command in parser.unavailable:
        print(parser.unavailable[command], file=sys.stderr)
        return 2
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
