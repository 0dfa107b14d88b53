"""``/metrics`` gauges read from the store (queues, paused channels, codes left) and ``/ready``
(the database answers, every migration applied), on real servers of both backends."""

from __future__ import annotations

import asyncio
import re
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import asyncpg
import httpx

from support.promotions import coupons
from support.receiver import Receiver
from support.server import APP_KEYS, MANAGEMENT_KEYS, ServerProcess, distribution_to, track_one


def _wait(check: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def _gauge(text: str, name: str, **labels: str) -> float | None:
    """The value of the series ``name`` with exactly ``labels`` (in any order), if shown."""
    for found in re.finditer(rf"^{name}\{{(.*)\}} (\S+)$", text, re.MULTILINE):
        if dict(re.findall(r'(\w+)="([^"]*)"', found.group(1))) == labels:
            return float(found.group(2))
    return None


def test_metrics_show_queues_paused_channels_and_codes_left(
    database_url: str, receiver: Receiver, tmp_path: Path
) -> None:
    server = ServerProcess(tmp_path, database_url=database_url).start()
    try:
        project = _project(server)
        event, failing = distribution_to(server, receiver.url("/obs/bad"))
        receiver.script("/obs/bad", *[500] * 20)
        with httpx.Client(base_url=server.base_url, headers=APP_KEYS) as api:
            campaign = coupons(api, 3)
        track_one(server, event)  # 4 attempts, failed for good

        labels = {"project": project, "distribution": failing}

        def scrape() -> str:
            return httpx.get(server.base_url + "/metrics").text

        def attempts(result: str) -> float | None:
            name = "sendout_delivery_attempts_total"
            return _gauge(scrape(), name, distribution=failing, result=result)

        _wait(lambda: attempts("failed") == 1.0)
        track_one(server, event)  # its first attempt is the 5th failure: the channel pauses

        def paused() -> bool:
            return _gauge(scrape(), "sendout_paused_channels", **labels) == 1.0

        try:
            _wait(paused)
        except AssertionError:
            raise AssertionError(scrape() + server.log_text()[-3000:]) from None
        text = scrape()
        assert _gauge(text, "sendout_queue_pending", **labels) == 1.0
        due = _gauge(text, "sendout_queue_due", **labels)
        age = _gauge(text, "sendout_queue_oldest_due_age_seconds", **labels)
        assert due is not None and age is not None and age >= 0
        codes = {"project": project, "campaign": campaign["id"]}
        _wait(lambda: _gauge(scrape(), "sendout_codes_remaining", **codes) == 3.0)
        assert attempts("retry") == 4.0  # 3 for the first delivery, 1 (pausing) for the second
    finally:
        server.stop()


def _project(server: ServerProcess) -> str:
    listed = httpx.get(server.base_url + "/management/v1/projects", headers=MANAGEMENT_KEYS)
    return str(listed.json()["data"][0]["id"])


def test_ready_says_when_the_schema_is_behind_or_the_database_is_gone(
    backend: str, database_url: str, tmp_path: Path
) -> None:
    server = ServerProcess(tmp_path, database_url=database_url).start()

    def ready() -> httpx.Response:
        return httpx.get(server.base_url + "/ready", timeout=10)

    try:
        assert ready().status_code == 200 and ready().json() == {"status": "ready"}
        assert httpx.get(server.base_url + "/health").json() == {"status": "ok"}
        _forget_migration(backend, database_url, "0015_failed_deliveries")
        behind = ready()
        assert behind.status_code == 503, behind.text
        assert behind.json()["status"] == "not_ready"
        assert "0015_failed_deliveries" in behind.json()["reason"]
        _remember_migration(backend, database_url, "0015_failed_deliveries")
        assert ready().status_code == 200
        if backend == "postgres":
            asyncio.run(_refuse_connections(database_url, refuse=True))
            try:
                _wait(lambda: ready().status_code == 503)
                assert "database not reachable" in ready().json()["reason"]
            finally:
                asyncio.run(_refuse_connections(database_url, refuse=False))
            _wait(lambda: ready().status_code == 200)
    finally:
        server.stop()


def _forget_migration(backend: str, url: str, name: str) -> None:
    _execute(backend, url, "DELETE FROM schema_migrations WHERE name = '" + name + "'")


def _remember_migration(backend: str, url: str, name: str) -> None:
    _execute(backend, url, "INSERT INTO schema_migrations (name) VALUES ('" + name + "')")


def _execute(backend: str, url: str, sql: str) -> None:
    if backend == "sqlite":
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            conn.execute(sql)
        return

    async def run() -> None:
        conn = await asyncpg.connect(url)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run())


async def _refuse_connections(url: str, *, refuse: bool) -> None:
    """Make the test database refuse new connections and drop the open ones, or allow again."""
    name = url.rsplit("/", 1)[1]
    admin = await asyncpg.connect(url.rsplit("/", 1)[0] + "/postgres")
    try:
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {str(not refuse).lower()}')
        if refuse:
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name
            )
    finally:
        await admin.close()
