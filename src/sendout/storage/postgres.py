"""PostgreSQL backend: many API and worker processes on one server.

Every verb takes a connection from an asyncpg pool and runs one transaction (READ COMMITTED) on
it; multi-statement reads run REPEATABLE READ so a count and its page agree. Where the dialects
differ the SQL differs: claims lock with ``FOR UPDATE SKIP LOCKED``, races SQLite's single writer
rules out are settled by ``ON CONFLICT``, and a commit that enqueued messages ``NOTIFY``s idle
workers.
Rows are turned into records by :mod:`sendout.storage.rows`, shared with SQLite.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import asyncpg
import structlog

from sendout.errors import InvalidInput, NotFound
from sendout.outbox.pause import health_changes, pause_reason
from sendout.promotions.records import (
    Campaign,
    EarningRule,
    LoyaltyTransaction,
    PromotionOutcome,
    PromotionTier,
    Publication,
    ReferralConversion,
    Voucher,
)
from sendout.records import (
    ClaimedMessage,
    Customer,
    CustomerFields,
    Delivery,
    Distribution,
    Event,
    EventSchema,
    Outcome,
    Page,
    Project,
    PropertyDef,
)
from sendout.storage import postgres_customers as customers
from sendout.storage import postgres_promotions as pgpromo
from sendout.storage import refusals, rows
from sendout.storage.base import CustomerRef, DeliveryFilter, PublicationFilter
from sendout.storage.migrations import current_schema, plan_migrations
from sendout.storage.postgres_tracking import PgBatches
from sendout.storage.postgres_tx import PgTx
from sendout.storage.tx import Tx

__all__ = ["LISTENER", "OUTBOX_CHANNEL", "PostgresStorage"]

log = structlog.get_logger("sendout.storage.postgres")

T = TypeVar("T")
Record = asyncpg.Record
Isolation = Literal["read_committed", "repeatable_read"]
if TYPE_CHECKING:
    from asyncpg.pool import PoolConnectionProxy

    Conn = PoolConnectionProxy[Record]

OUTBOX_CHANNEL = "sendout_outbox"
LISTENER = "sendout-listener"  # application_name of the LISTEN connection (pg_stat_activity)
_MIGRATION_LOCK = 0x53454E44  # "SEND": the advisory lock key that serializes `migrate`

# SQLite sorts NULL first ascending and last descending; PostgreSQL the other way round.
_CUSTOMER_ORDERS = {
    "created_at": "created_at ASC",
    "-created_at": "created_at DESC",
    "updated_at": "updated_at ASC NULLS FIRST",
    "-updated_at": "updated_at DESC NULLS LAST",
    "source_id": "source_id ASC NULLS FIRST",
    "-source_id": "source_id DESC NULLS LAST",
}

_TEXT_ERRORS = (asyncpg.CharacterNotInRepertoireError, asyncpg.UntranslatableCharacterError)


class PostgresStorage:
    def __init__(self, dsn: str, *, pool_size: int = 10) -> None:
        self._dsn = dsn
        self._pool_size = pool_size
        self._pool: asyncpg.Pool | None = None
        self._listener: asyncpg.Connection | None = None
        self._wake: Callable[[], None] | None = None
        self._relisten: asyncio.Task[None] | None = None
        self._notifying: asyncio.Task[None] | None = None
        self._notify_wanted = False
        self._batches = PgBatches(self._conn, self._poke_workers)

    # --- plumbing --------------------------------------------------------------------------------
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

    # --- life cycle ------------------------------------------------------------------------------
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

    async def subscribe(self, wake: Callable[[], None]) -> None:
        """Call ``wake`` whenever a transaction enqueues messages (``LISTEN sendout_outbox``).

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

    def _notified(self, *_: object) -> None:
        if self._wake is not None:
            self._wake()

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
        self._notified()

    def _poke_workers(self) -> None:
        """NOTIFY listening workers, after the commit and coalesced: one in flight at a time.

        Not inside the tracking transaction: a transaction that NOTIFYs holds a database-wide
        lock through its commit, fsync included, so every tracking commit would wait in line
        (about 3x fewer events/s measured). Lost only if the process dies in between; workers
        then find the messages on their next poll.
        """
        self._notify_wanted = True
        if self._notifying is None or self._notifying.done():
            self._notifying = asyncio.get_running_loop().create_task(self._send_notifies())

    async def _send_notifies(self) -> None:
        while self._notify_wanted and self._pool is not None:
            self._notify_wanted = False
            try:
                async with self._pool.acquire() as conn:
                    await conn.execute("SELECT pg_notify($1, '')", OUTBOX_CHANNEL)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("storage.notify_failed", error=str(exc))
                return

    # --- the pipeline's transaction ---------------------------------------------------------------
    async def transaction(
        self, project_id: str, now: str, work: Callable[[Tx], Coroutine[Any, Any, T]]
    ) -> T:
        async with self._tx() as conn:
            tx = PgTx(conn, project_id, now)
            result = await work(tx)
        if tx.enqueued:
            self._poke_workers()
        return result

    @property
    def batches(self) -> PgBatches:
        return self._batches

    # --- instance and projects -------------------------------------------------------------------
    async def get_setting(self, key: str) -> str | None:
        row = await self._fetchrow("SELECT value FROM instance_settings WHERE key = $1", key)
        return None if row is None else str(row["value"])

    async def put_setting(self, key: str, value: str) -> None:
        await self._fetchrow(
            "INSERT INTO instance_settings (key, value) VALUES ($1, $2)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            key,
            value,
        )

    async def put_setting_if_absent(self, key: str, value: str) -> str:
        async def run(conn: Conn) -> str:
            await conn.execute(
                "INSERT INTO instance_settings (key, value) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                key,
                value,
            )
            # A new statement, a new snapshot: it sees the row of whoever won.
            stored = await conn.fetchval("SELECT value FROM instance_settings WHERE key = $1", key)
            return str(stored)

        return await self._one(run)

    async def default_project(self) -> Project | None:
        row = await self._fetchrow("SELECT * FROM projects WHERE is_default")
        return None if row is None else rows.project(row)

    async def create_default_project(self, project: Project) -> Project:
        async def run(conn: Conn) -> Project:
            await conn.execute(
                "INSERT INTO projects (id, name, app_id, app_token, webhook_secret, is_default,"
                " created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
                *rows.project_values(project, is_default=True),
            )
            row = await conn.fetchrow("SELECT * FROM projects WHERE is_default")
            if row is None:
                raise refusals.app_id_taken(project.app_id)
            return rows.project(row)

        return await self._one(run)

    async def create_project(self, project: Project, *, is_default: bool) -> Project:
        await self._fetchrow(
            "INSERT INTO projects (id, name, app_id, app_token, webhook_secret, is_default,"
            " created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            *rows.project_values(project, is_default),
        )
        return project

    async def update_project_credentials(
        self, project_id: str, *, app_id: str, app_token: str, webhook_secret: str
    ) -> Project:
        row = await self._fetchrow(
            "UPDATE projects SET app_id = $1, app_token = $2, webhook_secret = $3 WHERE id = $4"
            " RETURNING *",
            app_id,
            app_token,
            webhook_secret,
            project_id,
        )
        if row is None:
            raise NotFound("project", project_id)
        return rows.project(row)

    async def project_by_app_id(self, app_id: str) -> Project | None:
        row = await self._fetchrow("SELECT * FROM projects WHERE app_id = $1", app_id)
        return None if row is None else rows.project(row)

    async def get_project(self, project_id: str) -> Project:
        row = await self._fetchrow("SELECT * FROM projects WHERE id = $1", project_id)
        if row is None:
            raise NotFound("project", project_id)
        return rows.project(row)

    async def rotate_webhook_secret(
        self, project_id: str, new_secret: str, previous_expires_ms: int
    ) -> Project:
        row = await self._fetchrow(
            "UPDATE projects SET previous_webhook_secret = webhook_secret,"
            " previous_secret_expires_ms = $1, webhook_secret = $2 WHERE id = $3 RETURNING *",
            previous_expires_ms,
            new_secret,
            project_id,
        )
        if row is None:
            raise NotFound("project", project_id)
        return rows.project(row)

    async def list_projects(self) -> list[Project]:
        async with self._conn() as conn:
            found = await conn.fetch("SELECT * FROM projects ORDER BY created_at, id")
        return [rows.project(r) for r in found]

    # --- customers -------------------------------------------------------------------------------
    async def upsert_customer(
        self, project_id: str, ref: CustomerRef, fields: CustomerFields, now: str
    ) -> Customer:
        return await self._write(customers.upsert, project_id, ref, fields, now)

    async def get_customer(self, project_id: str, id_or_source_id: str) -> Customer:
        return await self._one(customers.require, project_id, id_or_source_id)

    async def update_customer(
        self, project_id: str, id_or_source_id: str, fields: CustomerFields, now: str
    ) -> Customer:
        async def run(conn: Conn) -> Customer:
            current = await customers.require(conn, project_id, id_or_source_id, lock=True)
            return await customers.apply_fields(conn, current, fields, now)

        return await self._write(run)

    async def delete_customer(self, project_id: str, id_or_source_id: str) -> None:
        async def run(conn: Conn) -> None:
            current = await customers.require(conn, project_id, id_or_source_id, lock=True)
            await conn.execute("DELETE FROM customers WHERE id = $1", current.id)

        await self._write(run)

    async def list_customers(
        self, project_id: str, page: Page, *, email: str | None, name: str | None, order: str
    ) -> tuple[list[Customer], int]:
        where, params = _where({"project_id": project_id, "email": email, "name": name})
        order_by = _CUSTOMER_ORDERS[order]
        n = len(params)

        async def run(conn: Conn) -> tuple[list[Customer], int]:
            total = await conn.fetchval(f"SELECT COUNT(*) FROM customers WHERE {where}", *params)
            found = await conn.fetch(
                f"SELECT * FROM customers WHERE {where} ORDER BY {order_by}, id"
                f" LIMIT ${n + 1} OFFSET ${n + 2}",
                *params,
                page.limit,
                page.offset,
            )
            return [rows.customer(r) for r in found], int(total)

        return await self._read(run)

    async def count_customers(self, project_id: str) -> int:
        row = await self._fetchrow(
            "SELECT COUNT(*) AS n FROM customers WHERE project_id = $1", project_id
        )
        assert row is not None
        return int(row["n"])

    # --- custom event schemas --------------------------------------------------------------------
    async def create_event_schema(
        self,
        project_id: str,
        schema_id: str,
        name: str,
        properties: dict[str, PropertyDef],
        now: str,
    ) -> EventSchema:
        row = await self._fetchrow(
            "INSERT INTO event_schemas (id, project_id, name, properties, created_at)"
            " VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING *",
            schema_id,
            project_id,
            name,
            rows.properties_json(properties),
            now,
        )
        if row is None:
            raise refusals.duplicate_schema(name)
        return rows.event_schema(row)

    async def get_event_schema(self, project_id: str, schema_id: str) -> EventSchema:
        return await self._one(_require_schema, project_id, schema_id)

    async def list_event_schemas(self, project_id: str) -> list[EventSchema]:
        async with self._conn() as conn:
            found = await conn.fetch(
                "SELECT * FROM event_schemas WHERE project_id = $1 ORDER BY created_at, id",
                project_id,
            )
        return [rows.event_schema(r) for r in found]

    async def update_event_schema(
        self, project_id: str, schema_id: str, properties: dict[str, PropertyDef], now: str
    ) -> EventSchema:
        row = await self._fetchrow(
            "UPDATE event_schemas SET properties = $1, updated_at = $2"
            " WHERE project_id = $3 AND id = $4 RETURNING *",
            rows.properties_json(properties),
            now,
            project_id,
            schema_id,
        )
        if row is None:
            raise NotFound("custom_event_schema", schema_id)
        return rows.event_schema(row)

    async def delete_event_schema(self, project_id: str, schema_id: str) -> None:
        async def run(conn: Conn) -> None:
            schema = await _require_schema(conn, project_id, schema_id, lock=True)
            used = await conn.fetchval(
                "SELECT id FROM distributions WHERE project_id = $1 AND trigger_event = $2 LIMIT 1",
                project_id,
                schema.name,
            )
            if used is not None:
                raise refusals.in_use(
                    f"Custom event schema '{schema.name}'", "custom_event_schema", schema_id, used
                )
            await conn.execute("DELETE FROM event_schemas WHERE id = $1", schema_id)

        await self._write(run)

    async def event_schema_exists(self, project_id: str, name: str) -> bool:
        row = await self._fetchrow(
            "SELECT 1 FROM event_schemas WHERE project_id = $1 AND name = $2", project_id, name
        )
        return row is not None

    # --- events ----------------------------------------------------------------------------------
    async def purge_idempotency_keys(self, before_ms: int) -> int:
        status = await self._one(
            _execute, "DELETE FROM idempotency_keys WHERE created_ms < $1", before_ms
        )
        return _affected(status)

    async def purge_finished_messages(self, before: str, now_ms: int, limit: int) -> int:
        status = await self._one(_execute, _PURGE_FINISHED, before, now_ms, limit)
        return _affected(status)

    async def list_events(
        self, project_id: str, page: Page, *, customer_id: str | None, event_name: str | None
    ) -> tuple[list[Event], int]:
        where, params = _where(
            {"project_id": project_id, "customer_id": customer_id, "type": event_name}
        )
        n = len(params)

        async def run(conn: Conn) -> tuple[list[Event], int]:
            total = await conn.fetchval(f"SELECT COUNT(*) FROM events WHERE {where}", *params)
            found = await conn.fetch(
                f"SELECT * FROM events WHERE {where} ORDER BY created_at DESC, id DESC"
                f" LIMIT ${n + 1} OFFSET ${n + 2}",
                *params,
                page.limit,
                page.offset,
            )
            return [rows.event(r) for r in found], int(total)

        return await self._read(run)

    # --- distributions ---------------------------------------------------------------------------
    async def create_distribution(self, distribution: Distribution) -> Distribution:
        await self._write(_create_distribution, distribution)
        return distribution

    async def get_distribution(self, project_id: str, distribution_id: str) -> Distribution:
        return await self._read(_require_distribution, project_id, distribution_id)

    async def list_distributions(
        self, project_id: str, page: Page
    ) -> tuple[list[Distribution], int]:
        async def run(conn: Conn) -> tuple[list[Distribution], int]:
            total = await conn.fetchval(
                "SELECT COUNT(*) FROM distributions WHERE project_id = $1", project_id
            )
            found = await conn.fetch(
                "SELECT * FROM distributions WHERE project_id = $1 ORDER BY created_at, id"
                " LIMIT $2 OFFSET $3",
                project_id,
                page.limit,
                page.offset,
            )
            return await _with_states(conn, found), int(total)

        return await self._read(run)

    async def replace_distribution(self, distribution: Distribution) -> Distribution:
        d = distribution
        async with self._tx() as conn:
            current = await _require_distribution(conn, d.project_id, d.id, lock=True)
            if current.trigger_event != d.trigger_event:
                await _require_trigger_schema(conn, d.project_id, d.trigger_event)
            if current.channels != d.channels:
                await conn.execute("DELETE FROM channel_states WHERE distribution_id = $1", d.id)
            updated = await conn.fetchval(
                "UPDATE distributions SET name = $1, trigger_type = $2, trigger_event = $3,"
                " action = $4, channels = $5, status = $6, updated_at = $7"
                " WHERE project_id = $8 AND id = $9 RETURNING id",
                d.name,
                d.trigger_type,
                d.trigger_event,
                rows.to_json(d.action),
                rows.channels_json(d.channels),
                d.status,
                d.updated_at,
                d.project_id,
                d.id,
            )
            if updated is None:
                raise NotFound("distribution", d.id)
        if d.status == "ACTIVE":  # a resumed distribution may have messages waiting
            self._poke_workers()
        return d

    async def delete_distribution(self, project_id: str, distribution_id: str, now: str) -> None:
        async def run(conn: Conn) -> None:
            await _require_distribution(conn, project_id, distribution_id, lock=True)
            await conn.execute(
                "UPDATE messages SET status = 'canceled' WHERE distribution_id = $1"
                " AND status = 'pending'",
                distribution_id,
            )
            await conn.execute("DELETE FROM distributions WHERE id = $1", distribution_id)
            await conn.execute(
                "DELETE FROM channel_states WHERE distribution_id = $1", distribution_id
            )

        await self._write(run)

    async def resume_distribution(
        self, project_id: str, distribution_id: str, now: str, now_ms: int
    ) -> Distribution:
        resumed = await self._write(_resume_distribution, project_id, distribution_id, now, now_ms)
        self._poke_workers()
        return resumed

    # --- outbox and deliveries -------------------------------------------------------------------
    async def claim_due(
        self,
        now_ms: int,
        limit: int,
        lease_ms: int,
        *,
        retries: bool,
        exclude: Sequence[str] = (),
    ) -> list[ClaimedMessage]:
        async with self._conn() as conn:
            found = await conn.fetch(
                _CLAIM_RETRIES if retries else _CLAIM_FIRST,
                now_ms + lease_ms,
                now_ms,
                limit,
                list(exclude),
            )
        claimed = sorted(found, key=lambda r: (r["next_attempt_at"], r["seq"]))
        return [_claimed(r, now_ms) for r in claimed]

    async def release(self, message_ids: Sequence[str]) -> None:
        if message_ids:
            await self._one(
                _execute,
                "UPDATE messages SET lease_until = 0 WHERE id = ANY($1::text[])"
                " AND status = 'pending'",
                list(message_ids),
            )

    async def record_outcomes(
        self, outcomes: Sequence[Outcome], *, pause_after: int, now: str
    ) -> None:
        if not outcomes:
            return
        if any(not o.delivered for o in outcomes):  # failures are counted statement by statement
            await self._write(_record_outcomes, outcomes, pause_after, now)
        else:  # one statement, atomic by itself: no BEGIN and COMMIT round trips
            await self._one(_record_outcomes, outcomes, pause_after, now)

    async def resend_delivery(self, project_id: str, delivery_id: str, now_ms: int) -> Delivery:
        delivery = await self._write(_resend, project_id, delivery_id, now_ms)
        self._poke_workers()
        return delivery

    async def replay_deliveries(
        self, project_id: str, distribution_id: str, since: str, now_ms: int
    ) -> int:
        async def run(conn: Conn) -> int:
            await _require_distribution(conn, project_id, distribution_id)
            status = await conn.execute(
                "UPDATE messages SET status = 'pending', next_attempt_at = $1, lease_until = 0"
                " WHERE distribution_id = $2 AND created_at >= $3"
                " AND (status = 'failed'"
                " OR (status = 'pending' AND attempts > 0 AND lease_until <= $1))",
                now_ms,
                distribution_id,
                since,
            )
            return _affected(status)

        count = await self._write(run)
        if count:
            self._poke_workers()
        return count

    async def next_due_ms(self) -> int | None:
        row = await self._fetchrow(
            "SELECT MIN(GREATEST(m.next_attempt_at, m.lease_until)) AS due FROM messages m"
            " JOIN distributions d ON d.id = m.distribution_id"
            " LEFT JOIN channel_states c ON c.distribution_id = m.distribution_id"
            " AND c.channel_index = m.channel_index"
            " WHERE m.status = 'pending' AND d.status = 'ACTIVE' AND c.paused_at IS NULL"
        )
        return None if row is None or row["due"] is None else int(row["due"])

    async def list_deliveries(
        self, project_id: str, page: Page, where: DeliveryFilter
    ) -> tuple[list[Delivery], int]:
        clause, params = _where(
            {
                "project_id": project_id,
                "distribution_id": where.distribution_id,
                "event_id": where.event_id,
                "status": where.status,
            }
        )
        n = len(params)

        async def run(conn: Conn) -> tuple[list[Delivery], int]:
            total = await conn.fetchval(f"SELECT COUNT(*) FROM messages WHERE {clause}", *params)
            found = await conn.fetch(
                f"SELECT * FROM messages WHERE {clause} ORDER BY created_at DESC, id DESC"
                f" LIMIT ${n + 1} OFFSET ${n + 2}",
                *params,
                page.limit,
                page.offset,
            )
            return await _with_attempts(conn, found), int(total)

        return await self._read(run)

    async def get_delivery(self, project_id: str, delivery_id: str) -> Delivery:
        async def run(conn: Conn) -> Delivery:
            found = await conn.fetch(
                "SELECT * FROM messages WHERE project_id = $1 AND id = $2", project_id, delivery_id
            )
            if not found:
                raise NotFound("delivery", delivery_id)
            return (await _with_attempts(conn, found))[0]

        return await self._read(run)

    # --- promotions: campaigns, codes, publications, tiers, loyalty, referral (issue 3) -------
    # Thin wrappers: the transaction bodies are in sendout.storage.postgres_promotions.
    async def create_campaign(
        self, campaign: Campaign, tiers: Sequence[PromotionTier], vouchers_count: int
    ) -> Campaign:
        return await self._write(pgpromo.create_campaign, campaign, tiers, vouchers_count)

    async def get_campaign(self, project_id: str, id_or_name: str) -> Campaign:
        return await self._one(pgpromo.require_campaign, project_id, id_or_name)

    async def list_campaigns(
        self, project_id: str, page: Page, *, campaign_type: str | None
    ) -> tuple[list[Campaign], int]:
        return await self._read(pgpromo.list_campaigns, project_id, page, campaign_type)

    async def replace_campaign(self, campaign: Campaign) -> Campaign:
        return await self._write(pgpromo.replace_campaign, campaign)

    async def delete_campaign(self, project_id: str, id_or_name: str) -> None:
        await self._write(pgpromo.delete_campaign, project_id, id_or_name)

    async def generate_vouchers(
        self,
        project_id: str,
        id_or_name: str,
        count: int,
        code_config: dict[str, Any] | None,
        now: str,
    ) -> tuple[Campaign, int]:
        return await self._write(
            pgpromo.generate_into, project_id, id_or_name, count, code_config, now
        )

    async def add_voucher(
        self, project_id: str, id_or_name: str, code: str, metadata: dict[str, Any], now: str
    ) -> tuple[Voucher, Campaign]:
        return await self._write(pgpromo.add_code_to, project_id, id_or_name, code, metadata, now)

    async def import_codes(
        self, project_id: str, id_or_name: str, codes: Sequence[str], now: str
    ) -> int:
        return await self._write(pgpromo.import_codes, project_id, id_or_name, codes, now)

    async def get_voucher(self, project_id: str, code: str) -> tuple[Voucher, Campaign]:
        return await self._read(pgpromo.require_voucher, project_id, code)

    async def list_vouchers(
        self, project_id: str, page: Page, *, campaign: str | None, holder_id: str | None
    ) -> tuple[list[tuple[Voucher, Campaign]], int]:
        return await self._read(pgpromo.list_vouchers, project_id, page, campaign, holder_id)

    async def list_publications(
        self, project_id: str, page: Page, where: PublicationFilter
    ) -> tuple[list[tuple[Publication, Customer, Campaign]], int]:
        return await self._read(pgpromo.list_publications, project_id, page, where)

    async def create_promotion_tier(self, tier: PromotionTier) -> PromotionTier:
        return await self._write(pgpromo.create_tier, tier)

    async def get_promotion_tier(self, project_id: str, tier_id: str) -> PromotionTier:
        return await self._one(pgpromo.require_tier, project_id, tier_id)

    async def list_promotion_tiers(
        self, project_id: str, campaign: str | None, page: Page
    ) -> tuple[list[PromotionTier], int]:
        return await self._read(pgpromo.list_tiers, project_id, campaign, page)

    async def replace_promotion_tier(self, tier: PromotionTier) -> PromotionTier:
        return await self._write(pgpromo.replace_tier, tier)

    async def delete_promotion_tier(self, project_id: str, tier_id: str) -> None:
        await self._write(pgpromo.delete_tier, project_id, tier_id)

    async def create_earning_rules(
        self, project_id: str, campaign: str, rules: Sequence[dict[str, Any]], now: str
    ) -> list[EarningRule]:
        return await self._write(pgpromo.create_earning_rules, project_id, campaign, rules, now)

    async def list_earning_rules(
        self, project_id: str, campaign: str, page: Page
    ) -> tuple[list[EarningRule], int]:
        return await self._read(pgpromo.list_earning_rules, project_id, campaign, page)

    async def get_earning_rule(self, project_id: str, campaign: str, rule_id: str) -> EarningRule:
        return await self._read(pgpromo.require_earning_rule, project_id, campaign, rule_id)

    async def delete_earning_rule(self, project_id: str, campaign: str, rule_id: str) -> None:
        await self._write(pgpromo.delete_earning_rule, project_id, campaign, rule_id)

    async def list_loyalty_transactions(
        self, project_id: str, code: str, page: Page
    ) -> tuple[list[LoyaltyTransaction], int]:
        return await self._read(pgpromo.list_transactions, project_id, code, page)

    async def list_referral_conversions(
        self, project_id: str, page: Page, *, campaign: str | None, referrer_id: str | None
    ) -> tuple[list[ReferralConversion], int]:
        return await self._read(pgpromo.list_conversions, project_id, page, campaign, referrer_id)

    async def list_distribution_outcomes(
        self, project_id: str, page: Page, *, distribution_id: str | None, result: str | None
    ) -> tuple[list[PromotionOutcome], int]:
        return await self._read(pgpromo.list_outcomes, project_id, page, distribution_id, result)


# --- SQL that differs from SQLite's in more than placeholders ----------------------------------

# Lock due rows no other worker holds, lease them, and hand back what a sender needs. A row that
# another transaction leased after our snapshot is re-checked under its lock and dropped.
_CLAIM = """
WITH due AS (
    SELECT m.id FROM messages m JOIN distributions d ON d.id = m.distribution_id
    LEFT JOIN channel_states c
           ON c.distribution_id = m.distribution_id AND c.channel_index = m.channel_index
    WHERE m.status = 'pending' AND m.next_attempt_at <= $2 AND m.lease_until <= $2
      AND d.status = 'ACTIVE' AND c.paused_at IS NULL AND {lane}
      AND m.destination <> ALL($4::text[])
    ORDER BY m.next_attempt_at, m.seq
    LIMIT $3
    FOR UPDATE OF m SKIP LOCKED
)
UPDATE messages m SET lease_until = $1
FROM due, projects p, distributions d
WHERE m.id = due.id AND p.id = m.project_id AND d.id = m.distribution_id
RETURNING m.id, m.project_id, m.distribution_id, m.channel_index, m.url, m.headers, m.body,
          m.attempts, m.next_attempt_at, m.seq, p.webhook_secret, p.previous_webhook_secret,
          p.previous_secret_expires_ms, d.channels
"""
# Oldest finished messages first; SKIP LOCKED so workers purging at once take different ones.
# The attempts go in the same statement (their foreign key is checked at its end).
_PURGE_FINISHED = """
WITH doomed AS (
    SELECT id FROM messages WHERE status <> 'pending' AND created_at < $1 AND lease_until <= $2
    ORDER BY created_at LIMIT $3 FOR UPDATE SKIP LOCKED
), attempts_gone AS (
    DELETE FROM attempts WHERE message_id IN (SELECT id FROM doomed)
)
DELETE FROM messages WHERE id IN (SELECT id FROM doomed)
"""
_CLAIM_FIRST = _CLAIM.format(lane="m.attempts = 0")
_CLAIM_RETRIES = _CLAIM.format(lane="m.attempts > 0")


# --- transaction bodies --------------------------------------------------------------------------


async def _keep_session(_: asyncpg.Connection) -> None:
    """Skip asyncpg's reset round trip on release: verbs leave no session state behind."""


def _where(filters: dict[str, Any]) -> tuple[str, tuple[Any, ...]]:
    """``col = $n`` for every filter given; the column names are ours, never the caller's."""
    present = {k: v for k, v in filters.items() if v is not None}
    clause = " AND ".join(f"{k} = ${i}" for i, k in enumerate(present, start=1))
    return clause, tuple(present.values())


async def _create_distribution(conn: Conn, d: Distribution) -> None:
    await _require_trigger_schema(conn, d.project_id, d.trigger_event)
    await conn.execute(
        "INSERT INTO distributions (id, project_id, name, trigger_type, trigger_event,"
        " action, channels, status, created_at, updated_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        *rows.distribution_values(d),
    )


async def _require_trigger_schema(conn: Conn, project_id: str, name: str) -> None:
    """Held (``FOR KEY SHARE``) until commit: deleting the schema waits, then sees the
    distribution that uses it and refuses; a schema deleted first is refused here."""
    found = await conn.fetchval(
        "SELECT 1 FROM event_schemas WHERE project_id = $1 AND name = $2 FOR KEY SHARE",
        project_id,
        name,
    )
    if found is None:
        raise refusals.unknown_trigger_event(name)


async def _require_schema(
    conn: Conn, project_id: str, schema_id: str, lock: bool = False
) -> EventSchema:
    row = await conn.fetchrow(
        "SELECT * FROM event_schemas WHERE project_id = $1 AND id = $2"
        + customers.for_update(lock),
        project_id,
        schema_id,
    )
    if row is None:
        raise NotFound("custom_event_schema", schema_id)
    return rows.event_schema(row)


async def _require_distribution(
    conn: Conn, project_id: str, distribution_id: str, lock: bool = False
) -> Distribution:
    row = await conn.fetchrow(
        "SELECT * FROM distributions WHERE project_id = $1 AND id = $2"
        + customers.for_update(lock),
        project_id,
        distribution_id,
    )
    if row is None:
        raise NotFound("distribution", distribution_id)
    return (await _with_states(conn, [row]))[0]


async def _with_states(conn: Conn, found: Sequence[Record]) -> list[Distribution]:
    """Distributions with the health of each of their channels."""
    if not found:
        return []
    states = await conn.fetch(
        "SELECT * FROM channel_states WHERE distribution_id = ANY($1::text[])",
        [r["id"] for r in found],
    )
    return rows.distributions_with_states(found, states)


async def _execute(conn: Conn, sql: str, *args: Any) -> str:
    return str(await conn.execute(sql, *args))


def _affected(status: str) -> int:
    """Rows a command touched, from its status tag (``UPDATE 3``, ``DELETE 0``)."""
    return int(status.rsplit(" ", 1)[-1])


def _claimed(r: Record, now_ms: int) -> ClaimedMessage:
    project = Project(
        id=r["project_id"],
        name="",
        app_id="",
        app_token="",
        webhook_secret=r["webhook_secret"],
        created_at="",
        previous_webhook_secret=r["previous_webhook_secret"],
        previous_secret_expires_ms=r["previous_secret_expires_ms"],
    )
    channels = rows.from_json(r["channels"])
    index = r["channel_index"]
    channel = rows.channel(channels[index]) if index < len(channels) else None
    return ClaimedMessage(
        id=r["id"],
        project_id=r["project_id"],
        distribution_id=r["distribution_id"],
        channel_index=index,
        url=r["url"],
        headers=rows.from_json(r["headers"]),
        body=bytes(r["body"]),
        attempts=r["attempts"],
        secrets=project.signing_secrets(now_ms),
        retry_schedule=None if channel is None else channel.retry_schedule,
    )


async def _resume_distribution(
    conn: Conn, project_id: str, distribution_id: str, now: str, now_ms: int
) -> Distribution:
    current = await _require_distribution(conn, project_id, distribution_id, lock=True)
    if not current.paused:
        raise refusals.distribution_not_paused(distribution_id)
    await conn.execute(
        "UPDATE distributions SET status = 'ACTIVE', updated_at = $1 WHERE id = $2",
        now,
        distribution_id,
    )
    await conn.execute(
        "UPDATE channel_states SET consecutive_failures = 0, paused_at = NULL,"
        " pause_reason = NULL WHERE distribution_id = $1",
        distribution_id,
    )
    await conn.execute(
        "UPDATE messages SET next_attempt_at = $1 WHERE distribution_id = $2"
        " AND status = 'pending' AND next_attempt_at > $1",
        now_ms,
        distribution_id,
    )
    return await _require_distribution(conn, project_id, distribution_id)


async def _resend(conn: Conn, project_id: str, delivery_id: str, now_ms: int) -> Delivery:
    found = await conn.fetchrow(
        "SELECT * FROM messages WHERE project_id = $1 AND id = $2 FOR UPDATE",
        project_id,
        delivery_id,
    )
    if found is None:
        raise NotFound("delivery", delivery_id)
    if found["status"] == "canceled":
        raise refusals.delivery_canceled(delivery_id)
    distribution = await _require_distribution(conn, project_id, found["distribution_id"])
    if distribution.paused:
        raise refusals.distribution_paused(distribution.id)
    row = await conn.fetchrow(
        "UPDATE messages SET status = 'pending', next_attempt_at = $1, lease_until = 0"
        " WHERE id = $2 RETURNING *",
        now_ms,
        delivery_id,
    )
    assert row is not None, "locked above"
    return (await _with_attempts(conn, [row]))[0]


# Every attempt of a batch in one statement: the messages' new states, the attempt rows, and the
# channels that delivered set healthy (their rows locked in key order, so workers cannot
# deadlock).
_RECORD_OUTCOMES = """
WITH updated AS (
    UPDATE messages m SET status = u.status, attempts = m.attempts + 1, lease_until = 0,
           next_attempt_at = u.next_at, delivered_at = COALESCE(u.delivered_at, m.delivered_at),
           last_status_code = u.code
    FROM unnest($1::text[], $2::bigint[], $3::text[], $4::int[], $5::text[])
         AS u (status, next_at, delivered_at, code, id)
    WHERE m.id = u.id
    RETURNING m.id
), recorded AS (  -- only for messages still there: a purge may have taken one meanwhile
    INSERT INTO attempts (message_id, attempted_at, status_code, latency_ms, error,
                          response_excerpt)
    SELECT a.* FROM unnest($6::text[], $7::text[], $8::int[], $9::float8[], $10::text[],
                           $11::text[])
         AS a (message_id, attempted_at, status_code, latency_ms, error, response_excerpt)
    WHERE a.message_id IN (SELECT id FROM updated)
), healthy AS (
    SELECT distribution_id, channel_index FROM channel_states
    WHERE (distribution_id, channel_index) IN (SELECT * FROM unnest($12::text[], $13::int[]))
      AND consecutive_failures > 0
    ORDER BY distribution_id, channel_index
    FOR UPDATE
)
UPDATE channel_states c SET consecutive_failures = 0 FROM healthy h
WHERE c.distribution_id = h.distribution_id AND c.channel_index = h.channel_index
"""


async def _record_outcomes(
    conn: Conn, outcomes: Sequence[Outcome], pause_after: int, now: str
) -> None:
    updates, attempts = rows.outcome_params(outcomes)
    reset, failures = health_changes(outcomes)
    if failures:
        # Resets and failure counts lock channel rows in two passes: take every touched row
        # first, in key order, so two workers recording at once cannot deadlock.
        touched = sorted({(o.distribution_id, o.channel_index) for o in outcomes})
        await conn.execute(
            "SELECT 1 FROM channel_states WHERE (distribution_id, channel_index) IN"
            " (SELECT * FROM unnest($1::text[], $2::int[]))"
            " ORDER BY distribution_id, channel_index FOR UPDATE",
            [d for d, _ in touched],
            [i for _, i in touched],
        )
    await conn.execute(
        _RECORD_OUTCOMES,
        *(list(column) for column in zip(*updates, strict=True)),
        *(list(column) for column in zip(*attempts, strict=True)),
        [d for d, _ in reset],
        [i for _, i in reset],
    )
    for o in failures:  # channel by channel in key order, each in the order attempted
        await _count_failure(conn, o, pause_after, now)


async def _count_failure(conn: Conn, outcome: Outcome, pause_after: int, now: str) -> None:
    key = (outcome.distribution_id, outcome.channel_index)
    row = await conn.fetchrow(
        "INSERT INTO channel_states (distribution_id, channel_index, consecutive_failures)"
        " VALUES ($1, $2, 1) ON CONFLICT (distribution_id, channel_index)"
        " DO UPDATE SET consecutive_failures = channel_states.consecutive_failures + 1"
        " RETURNING consecutive_failures, paused_at",
        *key,
    )
    assert row is not None
    if row["paused_at"] is not None:
        return
    reason = pause_reason(row["consecutive_failures"], outcome.status_code, pause_after)
    if reason is not None:
        await conn.execute(
            "UPDATE channel_states SET paused_at = $1, pause_reason = $2"
            " WHERE distribution_id = $3 AND channel_index = $4",
            now,
            reason,
            *key,
        )


async def _with_attempts(conn: Conn, found: Sequence[Record]) -> list[Delivery]:
    if not found:
        return []
    message_ids = [r["id"] for r in found]
    by_message: dict[str, list[Any]] = {m: [] for m in message_ids}
    for r in await conn.fetch(
        "SELECT * FROM attempts WHERE message_id = ANY($1::text[]) ORDER BY id", message_ids
    ):
        by_message[r["message_id"]].append(rows.attempt(r))
    return [rows.delivery(r, by_message[r["id"]]) for r in found]
