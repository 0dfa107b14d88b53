"""SQLite plumbing: connections, the writer and reader threads, migrations, life cycle.

One connection writes, one reads (WAL lets them run side by side), and a third copies the WAL
back into the database file. Each connection lives on its own thread, and every verb is one hop
to that thread: a whole transaction runs there without returning to the event loop, so SQLite's
single writer is held for microseconds, not for as long as the loop takes to come back.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from sendout.storage.base import Wake
from sendout.storage.migrations import current_schema, plan_migrations
from sendout.storage.sealing import Sealer
from sendout.storage.sqlite.batches import SqliteBatches
from sendout.storage.sqlite.catalog import TriggerCache
from sendout.storage.sqlite.checkpointer import BACKSTOP_PAGES, Checkpointer
from sendout.storage.sqlite.queries import Conn
from sendout.storage.sqlite.write_lock import BUSY_TIMEOUT_MS, begin_immediate
from sendout.storage.sqlite.writer import GroupCommitWriter
from sendout.token_digest import token_digest

__all__ = ["SqliteConnection", "add_functions"]

T = TypeVar("T")


class SqliteConnection:
    def __init__(self, path: str, *, sealer: Sealer | None = None) -> None:
        self._path = path
        self._sealer = sealer or Sealer()
        # An in-memory database has no WAL to copy back.
        self._checkpointer = None if path == ":memory:" else Checkpointer(lambda: _connect(path))
        committed = None if self._checkpointer is None else self._checkpointer.committed
        self._writer = GroupCommitWriter(lambda: _connect(path), committed=committed)
        self._reader = ThreadPoolExecutor(1, thread_name_prefix="sqlite-reader")
        self._rconn: Conn | None = None
        self._triggers = TriggerCache()  # used on the writer thread only
        self._batches = SqliteBatches(self._writer, self._triggers)

    async def _on(self, pool: ThreadPoolExecutor, fn: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(pool, fn)

    async def _write(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(conn, *args)`` as one transaction (committed together with concurrent ones)."""
        return await self._writer.call(lambda conn: fn(conn, *args))

    async def _write_async(self, fn: Callable[..., Coroutine[Any, Any, T]], *args: Any) -> T:
        """A transaction whose body awaits ``Tx`` verbs. They never suspend on SQLite (the
        connection is synchronous), so the coroutine is driven to its end in one step."""
        return await self._write(lambda conn: _drive(fn(conn, *args)))

    async def _read(self, fn: Callable[..., T], *args: Any) -> T:
        def run() -> T:
            conn = self._rconn
            assert conn is not None, "storage is not open"
            conn.execute("BEGIN")
            try:
                return fn(conn, *args)
            finally:
                conn.execute("COMMIT")

        return await self._on(self._reader, run)

    async def open(self) -> None:
        if self._path != ":memory:":
            Path(self._path).parent.mkdir(parents=True, exist_ok=True)

        def make_reader() -> None:
            self._rconn = _connect(self._path)

        await self._writer.call(lambda conn: None, transaction=False)  # opens it, or raises
        await self._on(self._reader, make_reader)
        if self._checkpointer is not None:
            self._checkpointer.start()

    async def close(self) -> None:
        def close_reader() -> None:
            if self._rconn is not None:
                self._rconn.close()
                self._rconn = None

        try:
            await self._writer.stop()
        finally:
            if self._checkpointer is not None:
                await asyncio.get_running_loop().run_in_executor(None, self._checkpointer.stop)
            await self._on(self._reader, close_reader)
            self._reader.shutdown(wait=True)

    async def migrate(self) -> list[str]:
        def run(conn: Conn) -> list[str]:
            begin_immediate(conn)
            try:
                names = _migrate(conn)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            return names

        return await self._writer.call(run, transaction=False)

    async def pending_migrations(self) -> list[str]:
        def run(conn: Conn) -> list[str]:
            done = {r[0] for r in conn.execute("SELECT name FROM schema_migrations")}
            return plan_migrations("sqlite", done).names

        return await self._read(run)

    async def keeps_statistics(self) -> bool:
        return True

    async def subscribe(self, wake: Wake) -> None:
        """Nothing to listen to: the API wakes the worker of its own process after a commit."""


def _drive(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine that never suspends to its result, without an event loop."""
    try:
        coro.send(None)
    except StopIteration as done:
        result: T = done.value
        return result
    coro.close()
    raise RuntimeError("a SQLite transaction body awaited something that suspends")


def _connect(path: str) -> Conn:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=True)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys=ON")
    # A 16 MB page cache per connection, and no memory map. With a 256 MB map and a 64 MB cache,
    # serve and its worker peaked at 162 + 279 MB (the worker's mapped database pages) after a
    # 50,000-event bulk ingest; without, at 102 + 96 MB. Bulk ingest, single events and the
    # drain measured the same either way, back to back (docs/profile.md).
    conn.execute("PRAGMA mmap_size=0")
    conn.execute("PRAGMA cache_size=-16384")
    conn.execute("PRAGMA temp_store=MEMORY")
    # The WAL is copied back into the database file by the checkpointer's thread
    # (storage/sqlite/checkpointer.py); a commit does it itself only past this backstop.
    conn.execute(f"PRAGMA wal_autocheckpoint={BACKSTOP_PAGES}")
    add_functions(conn)
    return conn


def add_functions(conn: sqlite3.Connection) -> None:
    """SQL functions sendout's migrations use: ``sha256_hex(text)`` (PostgreSQL has sha256)."""
    conn.create_function("sha256_hex", 1, _sha256_hex, deterministic=True)


def _sha256_hex(text: str | None) -> str | None:
    return None if text is None else token_digest(text)


def _migrate(conn: Conn) -> list[str]:
    """Apply what is missing, all in the caller's ``BEGIN IMMEDIATE`` (SQLite DDL is transactional)."""
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations "
        "(name TEXT PRIMARY KEY, applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)"
    )
    done = {r[0] for r in conn.execute("SELECT name FROM schema_migrations")}
    plan = plan_migrations("sqlite", done)
    scripts = [current_schema("sqlite")] if plan.fresh else [sql for _, sql in plan.steps]
    for sql in scripts:
        for statement in _statements(sql):
            conn.execute(statement)
    conn.executemany("INSERT INTO schema_migrations (name) VALUES (?)", [(n,) for n in plan.names])
    return plan.names


def _statements(script: str) -> list[str]:
    """Split a migration into statements (``executescript`` would commit the open transaction)."""
    statements: list[str] = []
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            statements.append(pending)
            pending = ""
    if pending.strip() and not pending.strip().startswith("--"):
        statements.append(pending)
    return statements
