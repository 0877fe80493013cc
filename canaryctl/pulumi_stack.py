"""The stack, driven through Pulumi's Automation API (``pulumi.automation``).

Config, ``up`` and outputs go through Pulumi's typed interface, which runs the ``pulumi`` CLI
on the project folder (pulumi 3.272.0, pulumi/automation/_local_workspace.py and _stack.py):
``LocalWorkspace.stack()`` reads ``stack ls --json``, ``Stack.select`` runs
``stack select --stack S``, ``get_config``/``set_config`` run ``config get|set``, and
``Stack.up`` runs ``up --yes --skip-preview`` then ``stack output`` and ``stack history``.

A running ``up`` is never abandoned: it runs in a worker thread (Python delivers Ctrl-C to the
main thread only) and the main thread waits for it to end. A Ctrl-C typed in a terminal also
reaches the ``pulumi`` process (same process group), which then cancels gracefully, finishing
the resource operations in flight; a SIGINT sent to this process alone lets the ``up`` finish.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pulumi import automation as auto

from canaryctl.stackfiles import project_defaults

WEIGHT_KEY = "canaryWeight"
REPLICAS_KEY = "notificationReplicas"
STRATEGY_KEY = "canaryStrategy"
TICK_S = 0.2
INSTALL_HINT = "install it from https://www.pulumi.com/docs/install/"


class StackError(Exception):
    """The stack cannot be opened, read or changed; the message is one line for the user."""


def last_error_line(exc: BaseException, stderr: list[str] | None = None) -> str:
    """The most telling line of a failed Pulumi command (its last ``error:`` line if any)."""
    text = str(exc)
    lines = [line.strip() for line in (stderr or text.partition(" stderr:")[2].splitlines())]
    lines = [line for line in lines if line] or [line.strip() for line in text.splitlines()
                                                 if line.strip()]
    errors = [line for line in lines if line.startswith("error:")]
    return (errors or lines or [type(exc).__name__])[-1]


@dataclass(frozen=True)
class Settings:
    """What the stack config says about the split (with Pulumi.yaml's defaults)."""

    weight: int
    replicas: int
    strategy: str


@dataclass(frozen=True)
class UpRun:
    """How one ``pulumi up`` ended."""

    ok: bool
    seconds: float
    outputs: dict[str, Any]  # the stack outputs after a successful up, plain values
    error: str = ""
    interrupted: bool = False  # a Ctrl-C came while it ran (it finished or was cancelled)
    locked: bool = False  # another update held the stack's lock: this one never ran


@dataclass
class _UpBox:
    result: auto.UpResult | None = None
    error: Exception | None = None


class CanaryStack:
    """An existing stack of the project, selected through a LocalWorkspace on its folder."""

    def __init__(self, stack: auto.Stack, work_dir: Path) -> None:
        self.stack = stack
        self.work_dir = work_dir

    @property
    def name(self) -> str:
        return self.stack.name

    @classmethod
    def open(cls, name: str | None, work_dir: Path) -> CanaryStack:
        """Select ``name`` (default: the current stack); StackError when that is impossible."""
        if shutil.which("pulumi") is None:
            raise StackError(f"the Pulumi CLI (`pulumi`) is not on PATH; promote drives it "
                             f"through Pulumi's Automation API: {INSTALL_HINT}")
        try:
            workspace = auto.LocalWorkspace(work_dir=str(work_dir))  # runs `pulumi version`
            if name is None:
                current = workspace.stack()
                if current is None:
                    raise StackError(f"no current Pulumi stack in {work_dir}: pass --stack "
                                     "NAME or run `pulumi stack select NAME`")
                name = current.name
            return cls(auto.Stack.select(name, workspace), work_dir)
        except auto.StackNotFoundError as exc:
            raise StackError(f"no stack named {name!r} in this project "
                             f"({last_error_line(exc)}); see `pulumi stack ls`") from exc
        except auto.CommandError as exc:
            raise StackError(f"pulumi failed: {last_error_line(exc)}") from exc
        except (auto.InvalidVersionError, OSError, subprocess.CalledProcessError) as exc:
            raise StackError(f"cannot run the Pulumi CLI ({exc}); {INSTALL_HINT}") from exc

    def config(self, key: str) -> str:
        """A config value as the program sees it: the stack's, else Pulumi.yaml's default."""
        value = self.optional(key)
        if value is None:
            raise StackError(f"config key {key} is not set and Pulumi.yaml has no default")
        return value

    def optional(self, key: str) -> str | None:
        """Like ``config``, but None when neither the stack nor Pulumi.yaml sets ``key``."""
        try:
            return self.stack.get_config(key).value
        except auto.CommandError as exc:
            if "not found" not in str(exc):
                raise StackError(f"pulumi config get {key} failed: "
                                 f"{last_error_line(exc)}") from exc
        return project_defaults(self.work_dir).get(key)

    def _int(self, key: str, low: int, high: int | None = None) -> int:
        text = self.config(key)
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < low or (high is not None and value > high):
            allowed = f"an integer {low}..{high}" if high is not None else f"an integer >= {low}"
            raise StackError(f"config {key}={text!r} of stack {self.name} is not {allowed}")
        return value

    def settings(self) -> Settings:
        return Settings(weight=self._int(WEIGHT_KEY, 0, 100),
                        replicas=self._int(REPLICAS_KEY, 1),
                        strategy=self.config(STRATEGY_KEY))

    def set_weight(self, weight: int) -> None:
        try:
            self.stack.set_config(WEIGHT_KEY, auto.ConfigValue(value=str(weight)))
        except auto.CommandError as exc:
            raise StackError(f"pulumi config set {WEIGHT_KEY} {weight} failed: "
                             f"{last_error_line(exc)}") from exc

    def outputs(self) -> dict[str, Any]:
        try:
            return {key: output.value for key, output in self.stack.outputs().items()}
        except auto.CommandError as exc:
            raise StackError(f"pulumi stack output failed: {last_error_line(exc)}") from exc

    def up(self, message: str, on_tick: Callable[[float, str], None],
           on_interrupt: Callable[[], None]) -> UpRun:
        """Run ``pulumi up`` to its end, calling ``on_tick(elapsed, last output line)``.

        A Ctrl-C calls ``on_interrupt()`` once and keeps waiting: the up ends by itself,
        finished or cancelled by Pulumi, and is never left running behind our back.
        """
        stdout: list[str] = []
        stderr: list[str] = []
        box = _UpBox()
        done = threading.Event()

        def work() -> None:
            try:
                box.result = self.stack.up(message=message, color="never", suppress_outputs=True,
                                           on_output=stdout.append, on_error=stderr.append)
            except Exception as exc:  # CommandError, or anything the SDK raises: one failed up
                box.error = exc
            finally:
                done.set()

        thread = threading.Thread(target=work, name="pulumi-up")
        started = time.monotonic()
        thread.start()
        interrupted = False
        # Wait on an Event, not Thread.join: a KeyboardInterrupt inside join(timeout) can mark
        # a running thread as stopped on CPython 3.11 (the bpo-45274 cleanup releases the lock
        # the thread still holds), and is_alive() then lies.
        while not done.is_set():
            try:
                done.wait(TICK_S)
                on_tick(time.monotonic() - started, stdout[-1] if stdout else "")
            except KeyboardInterrupt:
                if not interrupted:
                    interrupted = True
                    on_interrupt()
        thread.join()
        seconds = time.monotonic() - started
        if box.result is not None:
            outputs = {key: out.value for key, out in box.result.outputs.items()}
            return UpRun(True, seconds, outputs, interrupted=interrupted)
        error = last_error_line(box.error, stderr) if box.error else "no result"
        return UpRun(False, seconds, {}, error=f"pulumi up failed: {error}",
                     interrupted=interrupted,
                     locked=isinstance(box.error, auto.ConcurrentUpdateError))
