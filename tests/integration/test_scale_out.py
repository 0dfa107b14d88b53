"""Separate API and worker processes on one store, and a worker's graceful stop on SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from conftest import unique
from support.receiver import Receiver
from support.server import APP_ID, APP_TOKEN, MANAGEMENT_ID, MANAGEMENT_TOKEN, ServerProcess

APP = {"X-App-Id": APP_ID, "X-App-Token": APP_TOKEN}
MGMT = {"X-Management-Id": MANAGEMENT_ID, "X-Management-Token": MANAGEMENT_TOKEN}


class WorkerProcess:
    """``sendout worker`` with the same settings as ``api``."""

    def __init__(self, api: ServerProcess, name: str, **env: str) -> None:
        self.log_path = api.workdir / f"{name}.log"
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "sendout", "worker"],
                env={**api.env(), **env},
                stdout=log,
                stderr=log,
            )
        self._wait_started()

    def _wait_started(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while "sendout.worker_started" not in self.log_text():
            assert self.process.poll() is None, self.log_text()
            assert time.monotonic() < deadline, f"worker did not start:\n{self.log_text()}"
            time.sleep(0.05)

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=30)

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")


class GatedReceiver:
    """Answers 200 only once ``release`` is called; ``arrived`` is set when a request is in."""

    def __init__(self) -> None:
        self.arrived = threading.Event()
        self.gate = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length", "0")))
                receiver.arrived.set()
                receiver.gate.wait(30)
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/gated"

    def close(self) -> None:
        self.gate.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def api_only(database_url: str, tmp_path: Path) -> Iterator[ServerProcess]:
    """``sendout serve --no-worker`` on a fresh database of each backend."""
    server = ServerProcess(tmp_path / "api-1", database_url=database_url).start("--no-worker")
    yield server
    assert server.stop() in (0, -signal.SIGTERM)
    assert "Traceback" not in server.log_text()


def _setup(base_url: str, *urls: str) -> str:
    """A schema and a distribution to ``urls``; returns the event name."""
    name = unique("ev")
    with httpx.Client(base_url=base_url, timeout=10) as client:
        project = client.get("/management/v1/projects", headers=MGMT).json()["data"][0]["id"]
        created = client.post(
            f"/management/v1/projects/{project}/custom-event-schemas",
            headers=MGMT,
            json={"name": name, "schema": {"properties": {}}},
        )
        assert created.status_code == 200, created.text
        channels = [
            {"type": "webhook", "event_name": f"hook-{i}", "url": url} for i, url in enumerate(urls)
        ]
        body = {
            "name": unique("d"),
            "trigger": {"type": "customer.custom_event", "event": name},
            "action": {"type": "plain_message"},
            "channels": channels,
        }
        made = client.post("/v1/distributions", headers=APP, json=body)
        assert made.status_code == 200, made.text
    return name


def _track(base_url: str, event: str, count: int) -> None:
    with httpx.Client(base_url=base_url, headers=APP, timeout=10) as client:
        for i in range(count):
            body = {"event": event, "customer": {"source_id": f"c{i}"}}
            response = client.post("/v1/events", json=body)
            assert response.status_code == 200, response.text


def _wait_delivered(base_url: str, count: int) -> None:
    with httpx.Client(base_url=base_url, headers=APP, timeout=10) as client:
        for _ in range(300):
            found = client.get("/v1/deliveries", params={"status": "delivered"}).json()
            if found["total"] >= count:
                return
            threading.Event().wait(0.1)
    raise AssertionError(f"fewer than {count} deliveries recorded as delivered")


def test_two_api_processes_and_two_workers_deliver_each_webhook_once(
    api_only: ServerProcess, database_url: str, receiver: Receiver, tmp_path: Path
) -> None:
    second = ServerProcess(tmp_path / "api-2", database_url=database_url).start("--no-worker")
    workers = [WorkerProcess(api_only, f"worker-{i}") for i in range(2)]
    try:
        path = "/" + unique("scale")
        event = _setup(api_only.base_url, receiver.url(path))
        _track(api_only.base_url, event, 20)
        _track(second.base_url, event, 20)
        got = receiver.wait_for(path, 40, timeout=30)
    finally:
        codes = [w.stop() for w in workers]
        assert second.stop() in (0, -signal.SIGTERM)
    ids = [r.headers["webhook-id"] for r in got]
    assert len(set(ids)) == len(ids) == 40
    assert codes == [0, 0], [w.log_text() for w in workers]
    assert not any("Traceback" in w.log_text() for w in workers)


def test_sigterm_lets_the_attempt_in_flight_finish_and_be_recorded(
    api_only: ServerProcess,
) -> None:
    gated = GatedReceiver()
    worker = WorkerProcess(api_only, "worker")
    try:
        event = _setup(api_only.base_url, gated.url)
        _track(api_only.base_url, event, 1)
        assert gated.arrived.wait(30), "the worker never attempted the webhook"
        worker.process.send_signal(signal.SIGTERM)
        gated.gate.set()
        assert worker.process.wait(timeout=30) == 0, worker.log_text()
    finally:
        gated.close()
        if worker.process.poll() is None:
            worker.process.kill()
    with httpx.Client(base_url=api_only.base_url, headers=APP, timeout=10) as client:
        [delivery] = client.get("/v1/deliveries").json()["deliveries"]
    assert delivery["status"] == "delivered", delivery
    assert "Traceback" not in worker.log_text()


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)  # SQLite: serve wakes its own
def test_an_idle_worker_is_woken_by_notify_not_by_polling(
    api_only: ServerProcess, backend: str, receiver: Receiver
) -> None:
    # Polling once an hour: only LISTEN/NOTIFY can bring the webhook within the wait below.
    worker = WorkerProcess(api_only, "worker", SENDOUT_POLL_INTERVAL="3600")
    try:
        path = "/" + unique("notify")
        event = _setup(api_only.base_url, receiver.url(path))
        _track(api_only.base_url, event, 1)  # taken by the worker's first look, or a NOTIFY
        receiver.wait_for(path, 1, timeout=30)
        _wait_delivered(api_only.base_url, 1)  # recorded: the worker goes idle for an hour now
        _track(api_only.base_url, event, 3)
        receiver.wait_for(path, 4, timeout=30)
    finally:
        assert worker.stop() == 0, worker.log_text()
