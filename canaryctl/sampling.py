"""HTTP sampling: call the notification endpoint N times and classify every answer.

Every request opens a fresh TCP connection (urllib sends ``Connection: close`` and never
pools). That is deliberate: kube-proxy picks a backend pod per *connection*, so reusing
connections would measure a handful of pod choices instead of the replica split.
"""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass

MAX_BODY_BYTES = 64 * 1024
USER_AGENT = "canaryctl-verify"

# Error kinds (plus "http_<status>" for non-2xx answers).
CONNECTION = "connection"
TIMEOUT = "timeout"
BAD_BODY = "bad_body"
PROTOCOL = "protocol"

ProgressFn = Callable[[int, int], None]  # (calls done, calls in total)

# the course's endpoint that passes the notification service's JSON through (REFERENCE: the
# user-management app's /usermgmt/notification-xray -> {"appversion": "V1"|"V2", ...})
EXPECTED_PATH = "/usermgmt/notification-xray"


LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")


def unreachable_hint(url: str) -> str:
    """What to check when `url` gives no HTTP answer at all ('' when nothing specific)."""
    if urllib.parse.urlsplit(url).hostname in LOCAL_HOSTS:
        # target: local is reached through kubectl port-forward (README, Try it locally)
        return (" hint: on a local cluster the app answers only while its port-forward runs: "
                "$(pulumi stack output portForward) in another terminal")
    return ""


def hint(url: str, error: str) -> str | None:
    """What to check when calls to `url` fail with the error kind `error`; None if no advice."""
    if error not in (BAD_BODY, "http_404", "http_405"):
        return None
    path = urllib.parse.urlsplit(url).path or "/"
    where = "" if path.endswith(EXPECTED_PATH) else f" (this URL's path is {path})"
    return (f"hint: the URL must be the app's notification endpoint, ending in {EXPECTED_PATH}"
            f"{where}, which answers JSON such as {{\"appversion\": \"V1\"}}; try "
            f"\"$(pulumi stack output url){EXPECTED_PATH}\"")


@dataclass(frozen=True)
class Outcome:
    """What one request produced: a version, or an error kind with a detail."""

    version: str | None = None
    error: str | None = None
    detail: str = ""
    answered: bool = True  # False when no HTTP answer came back (refused, DNS, TLS, timeout)
    seconds: float | None = None  # request sent to body read, for answers with a version


def _version_from_body(body: bytes) -> str | None:
    """Return the ``appversion`` string of a JSON body, or None when it is not there."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        return None
    version = data.get("appversion") if isinstance(data, dict) else None
    return version if isinstance(version, str) and version else None


def _read_answer(response: http.client.HTTPResponse, started: float) -> Outcome:
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
    return Outcome(version=version, seconds=time.monotonic() - started)


def fetch_version(url: str, timeout: float) -> Outcome:
    """Make one GET request on a fresh connection and classify the result."""
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return _read_answer(response, started)
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


def run_requests(
    url: str,
    requests: int,
    concurrency: int,
    timeout: float,
    on_progress: ProgressFn | None = None,
    fetch: Callable[[str, float], Outcome] = fetch_version,
) -> list[Outcome]:
    """Submit exactly ``requests`` calls to a pool of ``concurrency`` threads; collect results.

    ``on_progress(done, total)`` is called after every call; a Ctrl-C stops submitting and
    waits only for the calls in flight (each bounded by ``timeout``).
    """
    outcomes: list[Outcome] = []
    pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="sample")
    try:
        futures = [pool.submit(fetch, url, timeout) for _ in range(requests)]
        for future in as_completed(futures):
            outcomes.append(future.result())
            if on_progress is not None:
                on_progress(len(outcomes), requests)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return outcomes
