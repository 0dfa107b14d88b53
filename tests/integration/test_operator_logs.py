"""What ``sendout serve --log-format json`` tells an operator, on a real server (SQLite, worker
in its child process): a start-up line with the URLs, one line per attempt (``delivered``,
``retry_scheduled`` with its ISO time, a final ``failed`` as a warning), ISO timestamps, and
every line JSON (uvicorn's included)."""

from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from conftest import unique
from support.receiver import Receiver
from support.server import ServerProcess, distribution_to, track_one


def json_lines(server: ServerProcess) -> list[dict[str, Any]]:
    lines = []
    for line in server.log_text().splitlines():
        if line.startswith("{"):
            lines.append(json.loads(line))
    return lines


def lines_of(server: ServerProcess, event: str, **match: Any) -> list[dict[str, Any]]:
    return [
        line
        for line in json_lines(server)
        if line.get("event") == event and all(line.get(k) == v for k, v in match.items())
    ]


def send_to(server: ServerProcess, url: str) -> str:
    """A distribution sending to ``url`` and one event tracked for it: its id."""
    event, distribution_id = distribution_to(server, url)
    track_one(server, event)
    return distribution_id


def test_an_operator_reads_each_attempt_and_where_to_look(
    tmp_path: Path, receiver: Receiver
) -> None:
    server = ServerProcess(tmp_path, env_overrides={"SENDOUT_LOG_LEVEL": "info"})
    server.start("--log-format", "json")
    try:
        flaky, dead = "/" + unique("flaky"), "/" + unique("dead")
        receiver.script(flaky, 500, 200)
        receiver.script(dead, 500, 500, 500, 500)
        recovering = send_to(server, receiver.url(flaky))
        failing = send_to(server, receiver.url(dead))
        deadline = time.monotonic() + 20
        while not (
            lines_of(server, "delivery.delivered", distribution_id=recovering)
            and lines_of(server, "delivery.failed", distribution_id=failing)
        ):
            assert time.monotonic() < deadline, server.log_text()
            time.sleep(0.1)
    finally:
        server.stop()

    [started] = lines_of(server, "sendout.started")
    assert started["docs"] == f"http://127.0.0.1:{server.port}/docs"
    assert started["dashboard"] == f"http://127.0.0.1:{server.port}/dashboard"
    assert started["worker"] == "process"
    [retry] = lines_of(server, "delivery.retry_scheduled", distribution_id=recovering)
    assert (retry["attempt"], retry["status_code"], retry["level"]) == (1, 500, "info")
    datetime.fromisoformat(retry["retry_at"])
    [delivered] = lines_of(server, "delivery.delivered", distribution_id=recovering)
    assert (delivered["attempt"], delivered["status_code"]) == (2, 200)
    assert delivered["delivery_id"] == retry["delivery_id"]
    assert isinstance(delivered["latency_ms"], float)
    [failed] = lines_of(server, "delivery.failed", distribution_id=failing)
    assert (failed["attempt"], failed["level"]) == (4, "warning")  # 1 + the 3 retries
    assert len(lines_of(server, "delivery.retry_scheduled", distribution_id=failing)) == 3
    for line in json_lines(server):
        datetime.fromisoformat(line["timestamp"])
    # One format for the whole log: uvicorn's own lines are JSON too, named by their logger.
    text = server.log_text()
    assert all(line.startswith("{") for line in text.splitlines() if line.strip()), text
    assert len(lines_of(server, "sendout.secrets_not_encrypted")) == 1  # not once per process
    [running] = [x for x in json_lines(server) if x["event"].startswith("Uvicorn running on")]
    assert (running["logger"], running["level"]) == ("uvicorn.error", "info")


def test_the_start_line_never_shows_the_database_password(
    backend: str, database_url: str, tmp_path: Path
) -> None:
    shown_as = database_url
    if backend == "postgres":  # trust auth here: the password is ignored, and must not be logged
        parts = urlsplit(database_url)
        user = parts.username or "postgres"
        database_url = urlunsplit(
            parts._replace(netloc=f"{user}:pw-s3cret@{parts.hostname}:{parts.port}")
        )
        shown_as = database_url.replace("pw-s3cret", "***")
    server = ServerProcess(tmp_path, database_url=database_url)
    server.start("--log-format", "json")
    server.stop()
    [started] = lines_of(server, "sendout.started")
    assert started["database"] == shown_as
    assert "pw-s3cret" not in server.log_text()
