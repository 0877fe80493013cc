"""Progress for a human on stderr, kept out of the reports on stdout.

On a terminal a status line is redrawn in place (at most 10 times a second). Elsewhere (CI
logs, pipes) a status is printed as a plain line only every ``heartbeat`` seconds, so a log
shows that a long ``pulumi up`` is alive without drowning in repaints.
"""

from __future__ import annotations

import shutil
import time
from typing import TextIO

BAR_WIDTH = 30
REDRAW_S = 0.1


def progress_bar(done: int, total: int, width: int = BAR_WIDTH) -> str:
    """``[#####.....] done/total``."""
    filled = width * done // total if total else width
    return f"[{'#' * filled}{'.' * (width - filled)}] {done}/{total}"


def clock(seconds: float) -> str:
    """Elapsed time as ``m:ss``."""
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}:{secs:02d}"


class Status:
    """A transient status line plus permanent lines, on one stream (or nowhere)."""

    def __init__(self, stream: TextIO | None, tty: bool, heartbeat: float = 10.0) -> None:
        self.stream = stream
        self.tty = tty
        self.heartbeat = heartbeat
        self._shown = 0  # characters of the status line now on screen (tty)
        self._last = -1e9  # monotonic time of the last status drawn

    @classmethod
    def stderr(cls, stream: TextIO) -> Status:
        return cls(stream, tty=stream.isatty())

    def update(self, text: str, force: bool = False) -> None:
        """Show ``text`` as the current status (throttled)."""
        if self.stream is None:
            return
        now = time.monotonic()
        if not force and now - self._last < (REDRAW_S if self.tty else self.heartbeat):
            return
        self._last = now
        if self.tty:
            width = max(20, shutil.get_terminal_size().columns - 1)
            text = text[:width]
            self.stream.write("\r" + text + " " * max(0, self._shown - len(text)))
            self._shown = len(text)
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def line(self, text: str) -> None:
        """Print a permanent line (the status line, if any, is cleared first)."""
        if self.stream is None:
            return
        self.clear()
        self.stream.write(text + "\n")
        self.stream.flush()
        self._last = time.monotonic()

    def clear(self) -> None:
        if self.stream is not None and self.tty and self._shown:
            self.stream.write("\r" + " " * self._shown + "\r")
            self.stream.flush()
            self._shown = 0
