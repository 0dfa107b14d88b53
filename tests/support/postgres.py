"""Fresh PostgreSQL databases for tests: created on the test server, dropped afterwards."""

from __future__ import annotations

import asyncio
import os
import uuid
from urllib.parse import urlsplit, urlunsplit

import asyncpg

# The server tests create their databases on; the URL's database is only used to connect.
ADMIN_URL = os.environ.get(
    "SENDOUT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def url_for(database: str) -> str:
    """``ADMIN_URL`` pointing at ``database`` instead."""
    parts = urlsplit(ADMIN_URL)
    return urlunsplit(parts._replace(path="/" + database))


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(ADMIN_URL, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def unreachable_reason() -> str | None:
    """``None`` when the test server answers; otherwise why it does not."""

    async def probe() -> None:
        await _admin("SELECT 1")

    try:
        asyncio.run(probe())
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        return f"no PostgreSQL at {ADMIN_URL} ({exc.__class__.__name__}: {exc})"
    return None


async def create_database(prefix: str = "sendout_t") -> str:
    """A new empty database; returns its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    await _admin(f'CREATE DATABASE "{name}" TEMPLATE template0')
    return url_for(name)


async def drop_database(url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def one_waits_for_a_lock(conn: asyncpg.Connection) -> None:
    """Return once exactly one session of this database waits for a lock (at most 5 s)."""
    waiting = 0
    for _ in range(500):
        waiting = await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND wait_event_type = 'Lock'"
        )
        if waiting:
            break
        await asyncio.sleep(0.01)
    assert waiting == 1
