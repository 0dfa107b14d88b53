"""A real HTTP webhook receiver on loopback whose answers a test can script."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int
    at: float


class _Server(ThreadingHTTPServer):
    request_queue_size = 512  # the default (5) drops bursts of new connections

    def handle_error(self, request: object, client_address: object) -> None:
        """A sender that died mid-request (the crash tests kill it) is not an error here."""


class Receiver:
    """Records every POST; answers with scripted statuses per path (200 once the script runs out)."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self._scripts: dict[str, deque[int]] = {}
        self._delays: dict[str, float] = {}
        self._checks: dict[str, Callable[[dict[str, str], bytes], bool]] = {}
        self.active = 0
        self._cond = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                body = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                status = receiver._next_status(self.path, headers, body)
                # Recorded on arrival: a sender that dies before reading the reply still sent it.
                with receiver._cond:
                    receiver.requests.append(
                        Received(self.path, headers, body, status, time.time())
                    )
                    receiver.active += 1
                    receiver._cond.notify_all()
                try:
                    time.sleep(receiver._delays.get(self.path, 0.0))
                    reply = b'{"ok":true}' if status < 300 else b'{"error":"scripted failure"}'
                    self.send_response(status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(reply)))
                    self.end_headers()
                    self.wfile.write(reply)
                finally:
                    with receiver._cond:
                        receiver.active -= 1

            def log_message(self, format: str, *args: object) -> None:
                return

        self._server = _Server(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def script(self, path: str, *statuses: int) -> None:
        with self._cond:
            self._scripts[path] = deque(statuses)

    def delay(self, path: str, seconds: float) -> None:
        """Answer requests to ``path`` only after ``seconds`` (a slow receiver)."""
        with self._cond:
            self._delays[path] = seconds

    def check(self, path: str, accepts: Callable[[dict[str, str], bytes], bool]) -> None:
        """Answer ``401`` to requests to ``path`` that ``accepts(headers, body)`` refuses (a
        receiver verifying signatures), before any script."""
        with self._cond:
            self._checks[path] = accepts

    def _next_status(self, path: str, headers: dict[str, str], body: bytes) -> int:
        with self._cond:
            accepts = self._checks.get(path)
            if accepts is not None and not accepts(headers, body):
                return 401
            queue = self._scripts.get(path)
            return queue.popleft() if queue else 200

    def at(self, path: str) -> list[Received]:
        with self._cond:
            return [r for r in self.requests if r.path == path]

    def wait_for(self, path: str, count: int, timeout: float = 10.0) -> list[Received]:
        """Block until ``count`` requests reached ``path``; fail the test after ``timeout``."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                got = [r for r in self.requests if r.path == path]
                if len(got) >= count:
                    return got
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"expected {count} webhook(s) at {path} within {timeout} s, got {len(got)}"
                    )
                self._cond.wait(left)

    def start(self) -> Receiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
