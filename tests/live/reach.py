"""Reaching the deployed app from the test: a `kubectl port-forward` on `local`, the `url`
output itself on `aws`; either way, wait until the app answers before measuring.

On `local` the stack exports `portForward`, the command a user runs (for example `kubectl
--context kind-canary -n canary port-forward service/usermgmt-restapp-nodeport-service
8095:8095`), and `url` (`http://localhost:8095`, reachable while it runs). The test runs that
command with two changes: the local port is a free one (so a port-forward the user left
running on 8095 is no obstacle) and `--address 127.0.0.1` (kubectl's default, `localhost`,
also binds ::1; one loopback address keeps the URL unambiguous). kubectl's port-forward
syntax `[LOCAL_PORT:]REMOTE_PORT` and `--address` are from `kubectl port-forward --help`.
kubectl writes a "Handling connection for ..." line per connection: its output goes to a
file, never a pipe that could fill up and stall it.
"""

from __future__ import annotations

import re
import shlex
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from tests.live.lifecycle import LifeCycleError

HEALTH_PATH = "/usermgmt/health-status"  # the course's health endpoint, outside its auth filter
PORT_SPEC = re.compile(r"^(?:(\d*):)?(\d+)$")  # kubectl's [LOCAL_PORT:]REMOTE_PORT


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def forward_command(command: str, local_port: int) -> list[str]:
    """`portForward` as argv, its (first) port spec on ``local_port``, bound to 127.0.0.1."""
    argv = shlex.split(command)
    if "port-forward" not in argv:
        raise LifeCycleError(f"stack output portForward is not a kubectl port-forward: "
                             f"{command!r}")
    start = argv.index("port-forward") + 1
    for index in range(start, len(argv)):
        match = PORT_SPEC.match(argv[index])
        if match and not argv[index - 1].startswith("-"):
            argv[index] = f"{local_port}:{match.group(2)}"
            break
    else:
        raise LifeCycleError(f"no [LOCAL:]REMOTE port in portForward {command!r}")
    if not any(a == "--address" or a.startswith("--address=") for a in argv):
        argv[start:start] = ["--address", "127.0.0.1"]
    return argv


def with_port(url: str, host: str, port: int) -> str:
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(netloc=f"{host}:{port}"))


def answers(url: str, timeout: float = 5.0) -> bool:
    """True when an HTTP server answers at ``url`` (any status)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout):
            return True
    except urllib.error.HTTPError:
        return True
    except (OSError, ValueError):
        return False


def wait_until_answers(base: str, deadline_s: float, alive: Callable[[], str | None],
                       poll_s: float = 0.5) -> None:
    """Poll ``base`` + the health path until it answers; ``alive()`` returns why the way
    there is gone (a port-forward that exited), or None."""
    deadline = time.monotonic() + deadline_s
    while True:
        gone = alive()
        if gone is not None:
            raise LifeCycleError(gone)
        if answers(base.rstrip("/") + HEALTH_PATH):
            return
        if time.monotonic() > deadline:
            raise LifeCycleError(f"{base} did not answer within {deadline_s:g} s")
        time.sleep(poll_s)


@contextmanager
def port_forward(outputs: Mapping[str, Any], ready_s: float = 60.0) -> Iterator[str]:
    """Run the stack's `portForward` command until the block ends; yields the base URL."""
    command, url = outputs.get("portForward"), outputs.get("url")
    if not isinstance(command, str) or not isinstance(url, str):
        raise LifeCycleError(f"a local stack exports portForward and url; got {sorted(outputs)}")
    port = free_port()
    argv = forward_command(command, port)
    base = with_port(url, "127.0.0.1", port)
    with tempfile.TemporaryFile("w+") as log:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)

        def alive() -> str | None:
            if proc.poll() is None:
                return None
            log.seek(0)
            return (f"`{shlex.join(argv)}` exited with {proc.returncode}: "
                    f"{log.read()[-1000:].strip()}")

        try:
            wait_until_answers(base, ready_s, alive)
            yield base
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@contextmanager
def public_url(outputs: Mapping[str, Any], ready_s: float = 900.0) -> Iterator[str]:
    """The `url` output (AWS: the ALB's name or the domain), once it answers: a new ALB and
    its DNS name take minutes after `up` to serve."""
    url = outputs.get("url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise LifeCycleError(f"stack output url is not an http(s) URL: {url!r}")
    wait_until_answers(url, ready_s, lambda: None, poll_s=10.0)
    yield url
