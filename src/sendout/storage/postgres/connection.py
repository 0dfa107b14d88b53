"""PostgreSQL plumbing: the pool, transactions, migrations, LISTEN/NOTIFY, life cycle.

Every verb takes a connection from an asyncpg pool and runs one transaction (READ COMMITTED) on
it; multi-statement reads run REPEATABLE READ so a count and its page agree. A commit that
enqueued deliveries ``NOTIFY``s idle workers, in this and every other process.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import asyncpg
import structlog

from sendout.errors import InvalidInput
from sendout.storage.base import Wake
from sendout.storage.migrations import current_schema, plan_migrations
from sendout.storage.postgres.queries import Record
from sendout.storage.sealing import Sealer

if TYPE_CHECKING:
    from sendout.storage.postgres.queries import Conn


__all__ = ["LISTENER", "OUTBOX_CHANNEL", "PostgresConnection"]

log = structlog.get_logger("sendout.storage.postgres")


class PostgresConnection:
    def __init__(self, dsn: str, *, pool_size: int = 10, sealer: Sealer | None = None) -> None:
        self._dsn = dsn
        self._sealer = sealer or Sealer()
        self._pool_size = pool_size
        self._pool: asyncpg.Pool | None = None
        self._listener: asyncpg.Connection | None = None
        self._wake: Wake | None = None
        self._relisten: asyncio.Task[None] | None = None
        self._notifying: asyncio.Task[None] | None = None
        self._notify_wanted: str | None = None  # the payload of the NOTIFY to send next

    @contextlib.asynccontextmanager
    async def _conn(self) -> AsyncIterator[Conn]:
        """A pooled connection in autocommit: enough for a verb that is one statement."""
        assert self._pool is not None, "storage is not open"
        try:
            async with self._pool.acquire() as conn:
                yield conn
        except _TEXT_ERRORS:
            raise InvalidInput(
                "Text values must not contain the NUL character (\\u0000)",
                key="invalid_payload",
            ) from None

    @contextlib.asynccontextmanager
    async def _tx(self, isolation: Isolation = "read_committed") -> AsyncIterator[Conn]:
        async with self._conn() as conn, conn.transaction(isolation=isolation):
            yield conn

    async def _write(self, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        async with self._tx() as conn:
            return await fn(conn, *args)

    async def _read(self, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        """Several statements that must see one snapshot (a count and its page)."""
        async with self._tx("repeatable_read") as conn:
            return await fn(conn, *args)

    async def _one(self, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        """One statement: atomic by itself, so no BEGIN/COMMIT round trips."""
        async with self._conn() as conn:
            return await fn(conn, *args)

    async def _fetchrow(self, sql: str, *args: Any) -> Record | None:
        async with self._conn() as conn:
            return await conn.fetchrow(sql, *args)

    async def open(self) -> None:
        self._pool = await asyncpg.create_pool(
            self._dsn,
            min_size=min(2, self._pool_size),
            max_size=self._pool_size,
            reset=_keep_session,
            server_settings={"application_name": "sendout"},
        )

    async def close(self) -> None:
        if self._notifying is not None:
            await self._notifying
        pool, self._pool = self._pool, None
        if self._relisten is not None:
            self._relisten.cancel()
        if self._listener is not None:
            with contextlib.suppress(Exception):
                await self._listener.close(timeout=5)
            self._listener = None
        if pool is not None:
            await pool.close()

    async def migrate(self) -> list[str]:
        async with self._tx() as conn:
            # Held until commit: a second process starting at once waits, then finds nothing to do.
            await conn.execute("SELECT pg_advisory_xact_lock($1)", _MIGRATION_LOCK)
            await conn.execute(
                'CREATE TABLE IF NOT EXISTS schema_migrations (name text COLLATE "C" PRIMARY KEY,'
                " applied_at timestamptz NOT NULL DEFAULT now())"
            )
            done = {r["name"] for r in await conn.fetch("SELECT name FROM schema_migrations")}
            plan = plan_migrations("postgres", done)
            scripts = [current_schema("postgres")] if plan.fresh else [s for _, s in plan.steps]
            for sql in scripts:
                await conn.execute(sql)
            await conn.executemany(
                "INSERT INTO schema_migrations (name) VALUES ($1)", [(n,) for n in plan.names]
            )
            return plan.names

    async def pending_migrations(self) -> list[str]:
        async with self._conn() as conn:
            done = {r["name"] for r in await conn.fetch("SELECT name FROM schema_migrations")}
        return plan_migrations("postgres", done).names

    async def keeps_statistics(self) -> bool:
        async with self._conn() as conn:
            return bool(await conn.fetchval("SELECT current_setting('autovacuum') = 'on'"))

    async def subscribe(self, wake: Wake) -> None:
        """Call ``wake`` whenever a transaction enqueues deliveries (``LISTEN sendout_outbox``),
        with ``retries=False`` when the payload says they are only an event's new deliveries.

        The listener has its own connection, outside the pool. When it drops, it is opened again
        (the worker polls every ``SENDOUT_POLL_INTERVAL`` meanwhile) and ``wake`` is called once,
        for whatever was enqueued while nobody listened.
        """
        self._wake = wake
        try:
            await self._listen()
        except (OSError, asyncpg.PostgresError) as exc:
            log.warning("storage.listen_failed", error=str(exc))
            self._relisten = asyncio.get_running_loop().create_task(self._listen_again())

    async def _listen(self) -> None:
        conn = await asyncpg.connect(self._dsn, server_settings={"application_name": LISTENER})
        try:
            await conn.add_listener(OUTBOX_CHANNEL, self._notified)
        except BaseException:
            conn.terminate()
            raise
        conn.add_termination_listener(self._listener_lost)
        self._listener = conn

    def _notified(self, _conn: object, _pid: int, _channel: str, payload: object) -> None:
        if self._wake is not None:
            self._wake(retries=payload != _FIRST_ATTEMPTS)

    def _listener_lost(self, _: object) -> None:
        if self._pool is None:  # closing
            return
        log.warning("storage.listen_lost", channel=OUTBOX_CHANNEL)
        self._listener = None
        self._relisten = asyncio.get_running_loop().create_task(self._listen_again())

    async def _listen_again(self) -> None:
        delay = 0.5
        while self._pool is not None and self._listener is None:
            try:
                await self._listen()
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("storage.listen_retry", error=str(exc), in_seconds=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
        if self._wake is not None:
            self._wake()

    def _poke_workers(self, *, retries: bool = True) -> None:
        """NOTIFY listening workers, after the commit and coalesced: one in flight at a time.
        Its payload is ``first_attempts`` when every poke since the last NOTIFY was for events'
        new deliveries (``retries=False``), so that workers leave their retry lane alone.

        Not inside the tracking transaction: a transaction that NOTIFYs holds a database-wide
        lock through its commit, fsync included, so every tracking commit would wait in line
        (about 3x fewer events/s measured). Lost only if the process dies in between; workers
        then find the deliveries on their next poll.
        """
        wider = retries or self._notify_wanted == _ANY
        self._notify_wanted = _ANY if wider else _FIRST_ATTEMPTS
        if self._notifying is None or self._notifying.done():
            self._notifying = asyncio.get_running_loop().create_task(self._send_notifies())

    async def _send_notifies(self) -> None:
        while self._notify_wanted is not None and self._pool is not None:
            payload, self._notify_wanted = self._notify_wanted, None
            try:
                async with self._pool.acquire() as conn:
                    await conn.execute("SELECT pg_notify($1, $2)", OUTBOX_CHANNEL, payload)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("storage.notify_failed", error=str(exc))
                return


T = TypeVar("T")


Isolation = Literal["read_committed", "repeatable_read"]


OUTBOX_CHANNEL = "sendout_outbox"
_FIRST_ATTEMPTS = "first_attempts"  # a NOTIFY's payload for events' new deliveries alone
_ANY = ""  # a NOTIFY's payload when retries may be due too


LISTENER = "sendout-listener"  # application_name of the LISTEN connection (pg_stat_activity)


_MIGRATION_LOCK = 0x53454E44  # "SEND": the advisory lock key that serializes `migrate`


_TEXT_ERRORS = (asyncpg.CharacterNotInRepertoireError, asyncpg.UntranslatableCharacterError)


async def _keep_session(_: asyncpg.Connection) -> None:
    """Skip asyncpg's reset round trip on release: verbs leave no session state behind."""
