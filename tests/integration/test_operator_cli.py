"""The operator's commands against real servers and stores: ``status``, ``deliveries``,
``events send``, ``credentials --json/--env``, and the one-line refusals (no database, an
unreachable one, a busy port)."""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from support.cli import sendout
from support.receiver import Receiver
from support.server import (
    APP_ID,
    APP_TOKEN,
    ServerProcess,
    distribution_to,
    free_port,
    track_one,
)


def _json(*args: str, env: dict[str, str]) -> Any:
    done = sendout(*args, "--json", env=env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _until(read: Callable[[], Any], done: Callable[[Any], bool], timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = read()
        if done(found) or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def _one_line(result: Any, code: int, *words: str) -> None:
    assert result.returncode == code, (result.stdout, result.stderr)
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in result.stderr


def test_status_and_deliveries_show_the_queue_failures_and_paused_channels(
    database_url: str, receiver: Receiver, tmp_path: Path
) -> None:
    server = ServerProcess(tmp_path, database_url=database_url).start()
    env = {"SENDOUT_DATABASE_URL": database_url}
    try:
        path = f"/status-{os.urandom(4).hex()}"
        good_event, good = distribution_to(server, receiver.url(path + "/good"))
        bad_event, bad = distribution_to(server, receiver.url(path + "/bad"))
        receiver.script(path + "/bad", *[500] * 20)
        track_one(server, good_event)
        track_one(server, bad_event)  # 4 attempts (retry schedule of 3), then failed for good

        def status() -> Any:
            return _json("status", env=env)

        failed = _until(status, lambda s: s["failed_last_hour"] == 1 and s["pending"] == 0)
        rows = {r["id"]: r for r in failed["distributions"]}
        assert rows[bad]["failed_last_hour"] == 1 and rows[good]["failed_last_hour"] == 0
        track_one(server, bad_event)  # the 5th failure in a row pauses the channel
        paused = _until(status, lambda s: bool(s["paused_channels"]))
    finally:
        server.stop()
    assert [(c["distribution_id"], c["channel_index"]) for c in paused["paused_channels"]] == [
        (bad, 0)
    ]
    assert paused["pending"] == 1 and paused["oldest_due_at"] is not None
    table = sendout("status", env=env)
    assert table.returncode == 0, table.stderr
    assert "failed in the last hour: 1" in table.stdout and "paused channels: 1" in table.stdout
    assert bad in table.stdout and good in table.stdout

    listed = _json("deliveries", "--status", "failed", env=env)
    assert listed["total"] == 1
    assert [(d["distribution_id"], d["status"]) for d in listed["data"]] == [(bad, "failed")]
    assert len(listed["data"][0]["attempts"]) == 4
    mine = _json("deliveries", "--distribution", good, env=env)
    assert [d["status"] for d in mine["data"]] == ["delivered"]
    rows_shown = sendout("deliveries", "--status", "delivered", env=env)
    assert mine["data"][0]["id"] in rows_shown.stdout and "200 in" in rows_shown.stdout
    # Piped where rich would assume 80 columns, the ids still come whole, ready to paste.
    narrow = {**env, "COLUMNS": "80"}
    piped = sendout("deliveries", "--status", "delivered", env=narrow).stdout
    assert mine["data"][0]["id"] in piped and good in piped, piped
    assert good in sendout("status", env=narrow).stdout
    _one_line(sendout("deliveries", "--status", "lost", env=env), 2, "--status", "failed")


def test_events_send_tracks_an_event_and_refusals_are_one_line(
    server: ServerProcess, receiver: Receiver
) -> None:
    path = f"/sent-{os.urandom(4).hex()}"
    event, distribution = distribution_to(server, receiver.url(path))
    env = {"SENDOUT_URL": server.base_url, "SENDOUT_APP_ID": APP_ID, "SENDOUT_APP_TOKEN": APP_TOKEN}
    source_id = f"cli_{os.urandom(4).hex()}"
    sent = sendout("events", "send", event, "--customer", source_id, "--metadata", "{}", env=env)
    assert sent.returncode == 0, sent.stderr
    answer = json.loads(sent.stdout)
    assert answer["id"].startswith("event_") and answer["customer"]["source_id"] == source_id
    [webhook] = receiver.wait_for(path, 1)
    assert json.loads(webhook.body)["data"]["customer"]["source_id"] == source_id

    unknown = sendout("events", "send", "no_such_event", "--customer", "c", env=env)
    _one_line(unknown, 1, "400", "unknown_event")
    _one_line(sendout("events", "send", event, "--customer", "c", "--metadata", "[1]", env=env), 2)
    _one_line(sendout("events", "send", event, "--customer", "c", "--metadata", "{", env=env), 2)
    keyless = {"SENDOUT_URL": server.base_url}
    _one_line(sendout("events", "send", event, "--customer", "c", env=keyless), 2, "--app-id")
    wrong = {**env, "SENDOUT_APP_TOKEN": "wrong"}
    _one_line(sendout("events", "send", event, "--customer", "c", env=wrong), 1, "401")
    nobody = {**env, "SENDOUT_URL": "http://127.0.0.1:1"}
    _one_line(sendout("events", "send", event, "--customer", "c", env=nobody), 2, "cannot reach")
    assert distribution.startswith("distr_")


def test_credentials_print_json_and_env_lines_to_stdout(database_url: str) -> None:
    env = {"SENDOUT_DATABASE_URL": database_url}
    assert sendout("migrate", env=env).returncode == 0
    first = _json("credentials", env=env)
    assert first["app_token"] and first["management_token"], "generated now: shown once"
    again = _json("credentials", env=env)
    assert again["app_token"] is None and again["management_token"] is None
    assert {k: v for k, v in again.items() if "token" not in k} == {
        k: v for k, v in first.items() if "token" not in k
    }
    lines = sendout("credentials", "--env", env=env)
    assert lines.returncode == 0 and lines.stderr == "", lines.stderr
    pinned = dict(
        line.split("=", 1) for line in lines.stdout.splitlines() if not line.startswith("#")
    )
    assert pinned["SENDOUT_APP_ID"] == first["app_id"]
    assert pinned["SENDOUT_WEBHOOK_SECRET"] == first["webhook_secret"]
    assert "# SENDOUT_APP_TOKEN: (stored as a hash" in lines.stdout
    # The lines are settings: a process given them keeps the same credentials.
    kept = _json("credentials", env={**env, **pinned})
    assert kept["management_id"] == first["management_id"]
    _one_line(sendout("credentials", "--json", "--env", env=env), 2, "choose one")


def test_commands_that_read_a_store_never_create_one(tmp_path: Path) -> None:
    missing = tmp_path / "typo" / "sendout.db"
    env = {"SENDOUT_DATABASE_URL": f"sqlite:///{missing}"}
    codes = tmp_path / "codes.csv"
    codes.write_text("code\nA-1\n")
    for args in (
        ("credentials",),
        ("credentials", "--env"),
        ("status",),
        ("deliveries",),
        ("import-codes", "Welcome", str(codes)),
    ):
        _one_line(sendout(*args, env=env), 2, "no database at", str(missing))
    assert not missing.parent.exists()


def test_a_store_that_cannot_open_is_one_line(backend: str, database_url: str) -> None:
    if backend == "sqlite":
        path = Path(database_url.removeprefix("sqlite:///"))
        path.write_bytes(b"this is not a database" * 100)
        broken = database_url
    else:
        broken = database_url.rsplit("/", 1)[0] + "/sendout_no_such_database"
    unreachable = "postgresql://sendout:hunter2@127.0.0.1:1/sendout"
    for url in (broken, unreachable):
        env = {"SENDOUT_DATABASE_URL": url}
        for args in (("status",), ("migrate",), ("worker",), ("serve", "--port", str(free_port()))):
            result = sendout(*args, env=env)
            _one_line(result, 2, "SENDOUT_DATABASE_URL: cannot open")
            assert "hunter2" not in result.stderr


def test_serve_refuses_a_busy_port_before_creating_anything(tmp_path: Path) -> None:
    store = tmp_path / "new" / "sendout.db"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        result = sendout(
            "serve", "--port", port, env={"SENDOUT_DATABASE_URL": f"sqlite:///{store}"}
        )
    _one_line(result, 2, f"cannot listen on 127.0.0.1:{port}", "--port")
    assert not store.parent.exists()


@pytest.mark.parametrize(
    ("command", "defaults"),
    [
        (("serve",), ("127.0.0.1", "8000", "sqlite:///data/sendout.db", "console", "process")),
        (("worker",), ("sqlite:///data/sendout.db", "console")),
        (("deliveries",), ("20; 1<=x<=100", "the default project")),
        (("events", "send"), ("http://127.0.0.1:8000",)),
        (("listen",), ("http://127.0.0.1:8000",)),
    ],
)
def test_help_shows_every_default(command: tuple[str, ...], defaults: tuple[str, ...]) -> None:
    shown = sendout(*command, "--help", env={})
    assert shown.returncode == 0, shown.stderr
    text = " ".join(shown.stdout.split())
    for default in defaults:
        assert f"[default: {default}]" in text, text
