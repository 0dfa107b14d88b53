"""Run a real ``sendout serve`` process on loopback for the tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

APP_ID = "test-app-id"
APP_TOKEN = "test-app-token"
MANAGEMENT_ID = "test-management-id"
MANAGEMENT_TOKEN = "test-management-token"
WEBHOOK_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class ServerProcess:
    workdir: Path
    env_overrides: dict[str, str] = field(default_factory=dict)
    # None: a SQLite file in workdir (``database_path``); else e.g. a postgresql:// URL.
    database_url: str | None = None
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def database_path(self) -> Path:
        return self.workdir / "sendout.db"

    @property
    def log_path(self) -> Path:
        return self.workdir / "server.log"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SENDOUT_")}
        env.update(
            {
                "SENDOUT_DATABASE_URL": self.database_url or f"sqlite:///{self.database_path}",
                "SENDOUT_APP_ID": APP_ID,
                "SENDOUT_APP_TOKEN": APP_TOKEN,
                "SENDOUT_MANAGEMENT_ID": MANAGEMENT_ID,
                "SENDOUT_MANAGEMENT_TOKEN": MANAGEMENT_TOKEN,
                "SENDOUT_WEBHOOK_SECRET": WEBHOOK_SECRET,
                "SENDOUT_RETRY_SCHEDULE": "0.2,0.2,0.2",
                "SENDOUT_RETRY_THROTTLE_FLOOR": "0.2",
                "SENDOUT_PAUSE_AFTER_FAILURES": "5",
                "SENDOUT_ALLOWED_PRIVATE_NETWORKS": "127.0.0.0/8",
                "SENDOUT_POLL_INTERVAL": "0.1",
                "SENDOUT_LOG_LEVEL": "info",
            }
        )
        env.update(self.env_overrides)
        return env

    def start(self, *args: str) -> ServerProcess:
        self.workdir.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "sendout", "serve", "--port", str(self.port), *args]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(command, env=self.env(), stdout=log, stderr=log)
        self._wait_healthy()
        return self

    def _wait_healthy(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"sendout exited early:\n{self.log_path.read_text()}")
            try:
                if httpx.get(self.base_url + "/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError(f"sendout did not become healthy:\n{self.log_path.read_text()}")

    def stop(self) -> int:
        assert self.process is not None
        self.process.terminate()
        try:
            return self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")


APP_KEYS = {"X-App-Id": APP_ID, "X-App-Token": APP_TOKEN}
MANAGEMENT_KEYS = {"X-Management-Id": MANAGEMENT_ID, "X-Management-Token": MANAGEMENT_TOKEN}


def distribution_to(server: ServerProcess, url: str) -> tuple[str, str]:
    """On a server of a test's own: a new event and a distribution sending it to ``url`` (a
    plain message on one channel); the event's name and the distribution's id."""
    base = server.base_url
    listed = httpx.get(base + "/management/v1/projects", headers=MANAGEMENT_KEYS)
    project = listed.json()["data"][0]["id"]
    name = f"ev_{os.urandom(5).hex()}"
    httpx.post(
        f"{base}/management/v1/projects/{project}/custom-event-schemas",
        headers=MANAGEMENT_KEYS,
        json={"name": name, "schema": {"properties": {}}},
    ).raise_for_status()
    made = httpx.post(
        base + "/v1/distributions",
        headers=APP_KEYS,
        json={
            "name": name,
            "trigger": {"type": "customer.custom_event", "event": name},
            "action": {"type": "plain_message"},
            "channels": [{"type": "webhook", "event_name": "w", "url": url}],
        },
    )
    made.raise_for_status()
    return name, str(made.json()["id"])


def track_one(server: ServerProcess, event: str) -> None:
    """Track ``event`` for a new customer."""
    body = {"event": event, "customer": {"source_id": f"c_{os.urandom(5).hex()}"}}
    httpx.post(server.base_url + "/v1/events", headers=APP_KEYS, json=body).raise_for_status()
