"""A loopback stand-in for the deployed app: V2's share follows the weight last deployed.

It reads `trafficSplit.effectiveWeight` from the stand-in pulumi's state file (written by its
`up`) on every call, and answers `{"appversion": "V1"|"V2"}` like the course's
/usermgmt/notification-xray. Versions interleave exactly: of any N consecutive calls, V2
answers N * w / 100 rounded down or up, so a promotion's gates see no sampling luck. V2 can
be told to fail a share of its calls (HTTP 500) or to answer late.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


@dataclass
class Behaviour:
    v2_error_rate: float = 0.0  # share of V2's calls answered with HTTP 500
    v2_extra_seconds: float = 0.0  # added to every V2 answer


def _nth_of_share(index: int, share: float) -> bool:
    """True for exactly floor(N * share) of the first N indices, spread evenly."""
    return math.floor((index + 1) * share + 1e-9) > math.floor(index * share + 1e-9)


class LoopbackApp(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64

    def __init__(self, state_file: Path, stack: str = "dev",
                 behaviour: Behaviour | None = None) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.state_file, self.stack = state_file, stack
        self.behaviour = behaviour or Behaviour()
        self.served: Counter[tuple[float, str]] = Counter()  # (deployed weight, answer) -> n
        self._lock = threading.Lock()
        self._calls = 0
        self._v2_calls = 0
        self._thread = threading.Thread(target=self.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def start(self) -> LoopbackApp:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        self._thread.join(timeout=5)

    def deployed_weight(self) -> float:
        state = json.loads(self.state_file.read_text())
        return float(state["stacks"][self.stack]["outputs"]["trafficSplit"]["effectiveWeight"])

    def answer(self) -> tuple[int, str, float]:
        """(status, version, delay) for the next call."""
        weight = self.deployed_weight()
        with self._lock:
            index, self._calls = self._calls, self._calls + 1
            version = "V2" if _nth_of_share(index, weight / 100) else "V1"
            fail = False
            if version == "V2":
                v2_index, self._v2_calls = self._v2_calls, self._v2_calls + 1
                fail = _nth_of_share(v2_index, self.behaviour.v2_error_rate)
            self.served[(weight, "500" if fail else version)] += 1
        delay = self.behaviour.v2_extra_seconds if version == "V2" else 0.0
        return (500 if fail else 200), version, delay


class _Handler(BaseHTTPRequestHandler):
    server: LoopbackApp

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        status, version, delay = self.server.answer()
        if delay:
            time.sleep(delay)
        body = json.dumps({"applicationname": "Notification Microservice",
                           "appversion": version} if status == 200 else
                          {"error": "boom"}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - keep quiet
        pass
