"""SQLite backend: the embedded default.

One connection writes, one reads (WAL lets them run side by side). Each connection lives on its
own thread, and every verb is one hop to that thread: a whole transaction runs there without
returning to the event loop, so SQLite's single writer is held for microseconds, not for as long
as the loop takes to come back.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from sendout.errors import NotFound
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
from sendout.storage import refusals, rows
from sendout.storage import sqlite_customers as customers
from sendout.storage import sqlite_promotions as promo
from sendout.storage.base import CustomerRef, DeliveryFilter, PublicationFilter
from sendout.storage.migrations import current_schema, plan_migrations
from sendout.storage.sqlite_tx import SqliteTx
from sendout.storage.sqlite_writer import GroupCommitWriter
from sendout.storage.tx import Tx

__all__ = ["SqliteStorage"]

T = TypeVar("T")
Conn = sqlite3.Connection

_CUSTOMER_ORDERS = {
    "created_at": "created_at ASC",
    "-created_at": "created_at DESC",
    "updated_at": "updated_at ASC",
    "-updated_at": "updated_at DESC",
    "source_id": "source_id ASC",
    "-source_id": "source_id DESC",
}


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
    conn.execute("PRAGMA busy_timeout=10000")
    conn.execute("PRAGMA foreign_keys=ON")
    # Read pages through a memory map and keep a large cache: page reads are system calls
    # otherwise, and those dominate small transactions.
    conn.execute("PRAGMA mmap_size=268435456")
    conn.execute("PRAGMA cache_size=-65536")
    conn.execute("PRAGMA temp_store=MEMORY")
    return conn


class SqliteStorage:
    def __init__(self, path: str) -> None:
        self._path = path
        self._writer = GroupCommitWriter(lambda: _connect(path))
        self._reader = ThreadPoolExecutor(1, thread_name_prefix="sqlite-reader")
        self._rconn: Conn | None = None

    # --- plumbing --------------------------------------------------------------------------------
    async def _on(self, pool: ThreadPoolExecutor, fn: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(pool, fn)

    async def _write(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(conn, *args)`` as one transaction (committed together with concurrent ones)."""
        return await self._writer.call(lambda conn: fn(conn, *args))

    async def _write_async(self, fn: Callable[..., Coroutine[Any, Any, T]], *args: Any) -> T:
        """A transaction whose body awaits promotion verbs. They never suspend on SQLite (the
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

    # --- life cycle ------------------------------------------------------------------------------
    async def open(self) -> None:
        if self._path != ":memory:":
            Path(self._path).parent.mkdir(parents=True, exist_ok=True)

        def make_reader() -> None:
            self._rconn = _connect(self._path)

        await self._writer.call(lambda conn: None, transaction=False)  # opens it, or raises
        await self._on(self._reader, make_reader)

    async def close(self) -> None:
        def close_reader() -> None:
            if self._rconn is not None:
                self._rconn.close()
                self._rconn = None

        await self._writer.stop()
        await self._on(self._reader, close_reader)
        self._reader.shutdown(wait=True)

    async def migrate(self) -> list[str]:
        def run(conn: Conn) -> list[str]:
            conn.execute("BEGIN IMMEDIATE")
            try:
                names = _migrate(conn)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            return names

        return await self._writer.call(run, transaction=False)

    async def subscribe(self, wake: Callable[[], None]) -> None:
        """Nothing to listen to: the API wakes the worker of its own process after a commit."""

    # --- the pipeline's transaction ---------------------------------------------------------------
    async def transaction(
        self, project_id: str, now: str, work: Callable[[Tx], Coroutine[Any, Any, T]]
    ) -> T:
        async def run(conn: Conn) -> T:
            return await work(SqliteTx(conn, project_id, now))

        return await self._write_async(run)

    @property
    def batches(self) -> None:
        """None: the group-commit writer already shares one commit among concurrent events."""

    # --- instance and projects -------------------------------------------------------------------
    async def get_setting(self, key: str) -> str | None:
        def run(conn: Conn) -> str | None:
            row = conn.execute(
                "SELECT value FROM instance_settings WHERE key = ?", (key,)
            ).fetchone()
            return None if row is None else str(row[0])

        return await self._read(run)

    async def put_setting(self, key: str, value: str) -> None:
        def run(conn: Conn) -> None:
            conn.execute(
                "INSERT INTO instance_settings (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

        await self._write(run)

    async def put_setting_if_absent(self, key: str, value: str) -> str:
        def run(conn: Conn) -> str:
            conn.execute(
                "INSERT INTO instance_settings (key, value) VALUES (?, ?) ON CONFLICT DO NOTHING",
                (key, value),
            )
            row = conn.execute(
                "SELECT value FROM instance_settings WHERE key = ?", (key,)
            ).fetchone()
            return str(row[0])

        return await self._write(run)

    async def default_project(self) -> Project | None:
        return await self._read(_default_project)

    async def create_default_project(self, project: Project) -> Project:
        def run(conn: Conn) -> Project:
            conn.execute(
                "INSERT INTO projects (id, name, app_id, app_token, webhook_secret, is_default,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                rows.project_values(project, is_default=True),
            )
            found = _default_project(conn)
            if found is None:
                raise refusals.app_id_taken(project.app_id)
            return found

        return await self._write(run)

    async def create_project(self, project: Project, *, is_default: bool) -> Project:
        def run(conn: Conn) -> Project:
            conn.execute(
                "INSERT INTO projects (id, name, app_id, app_token, webhook_secret, is_default,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                rows.project_values(project, is_default),
            )
            return project

        return await self._write(run)

    async def update_project_credentials(
        self, project_id: str, *, app_id: str, app_token: str, webhook_secret: str
    ) -> Project:
        def run(conn: Conn) -> Project:
            row = conn.execute(
                "UPDATE projects SET app_id = ?, app_token = ?, webhook_secret = ? WHERE id = ?"
                " RETURNING *",
                (app_id, app_token, webhook_secret, project_id),
            ).fetchone()
            if row is None:
                raise NotFound("project", project_id)
            return rows.project(row)

        return await self._write(run)

    async def project_by_app_id(self, app_id: str) -> Project | None:
        def run(conn: Conn) -> Project | None:
            row = conn.execute("SELECT * FROM projects WHERE app_id = ?", (app_id,)).fetchone()
            return None if row is None else rows.project(row)

        return await self._read(run)

    async def get_project(self, project_id: str) -> Project:
        def run(conn: Conn) -> Project:
            row = conn.execute("SELECT * FROM projects WHERE id = ?", (project_id,)).fetchone()
            if row is None:
                raise NotFound("project", project_id)
            return rows.project(row)

        return await self._read(run)

    async def list_projects(self) -> list[Project]:
        def run(conn: Conn) -> list[Project]:
            return [
                rows.project(r)
                for r in conn.execute("SELECT * FROM projects ORDER BY created_at, id")
            ]

        return await self._read(run)

    async def rotate_webhook_secret(
        self, project_id: str, new_secret: str, previous_expires_ms: int
    ) -> Project:
        def run(conn: Conn) -> Project:
            row = conn.execute(
                "UPDATE projects SET previous_webhook_secret = webhook_secret,"
                " previous_secret_expires_ms = ?, webhook_secret = ? WHERE id = ? RETURNING *",
                (previous_expires_ms, new_secret, project_id),
            ).fetchone()
            if row is None:
                raise NotFound("project", project_id)
            return rows.project(row)

        return await self._write(run)

    # --- customers -------------------------------------------------------------------------------
    async def upsert_customer(
        self, project_id: str, ref: CustomerRef, fields: CustomerFields, now: str
    ) -> Customer:
        return await self._write(customers.upsert, project_id, ref, fields, now)

    async def get_customer(self, project_id: str, id_or_source_id: str) -> Customer:
        return await self._read(customers.require, project_id, id_or_source_id)

    async def update_customer(
        self, project_id: str, id_or_source_id: str, fields: CustomerFields, now: str
    ) -> Customer:
        def run(conn: Conn) -> Customer:
            current = customers.require(conn, project_id, id_or_source_id)
            return customers.apply_fields(conn, current, fields, now)

        return await self._write(run)

    async def delete_customer(self, project_id: str, id_or_source_id: str) -> None:
        def run(conn: Conn) -> None:
            current = customers.require(conn, project_id, id_or_source_id)
            conn.execute("DELETE FROM customers WHERE id = ?", (current.id,))

        await self._write(run)

    async def list_customers(
        self, project_id: str, page: Page, *, email: str | None, name: str | None, order: str
    ) -> tuple[list[Customer], int]:
        where, params = _where({"project_id": project_id, "email": email, "name": name})
        order_by = _CUSTOMER_ORDERS[order]

        def run(conn: Conn) -> tuple[list[Customer], int]:
            total = conn.execute(f"SELECT COUNT(*) FROM customers WHERE {where}", params).fetchone()
            found = conn.execute(
                f"SELECT * FROM customers WHERE {where} ORDER BY {order_by}, id LIMIT ? OFFSET ?",
                (*params, page.limit, page.offset),
            )
            return [rows.customer(r) for r in found], int(total[0])

        return await self._read(run)

    async def count_customers(self, project_id: str) -> int:
        def run(conn: Conn) -> int:
            row = conn.execute(
                "SELECT COUNT(*) FROM customers WHERE project_id = ?", (project_id,)
            ).fetchone()
            return int(row[0])

        return await self._read(run)

    # --- custom event schemas --------------------------------------------------------------------
    async def create_event_schema(
        self,
        project_id: str,
        schema_id: str,
        name: str,
        properties: dict[str, PropertyDef],
        now: str,
    ) -> EventSchema:
        def run(conn: Conn) -> EventSchema:
            try:
                row = conn.execute(
                    "INSERT INTO event_schemas (id, project_id, name, properties, created_at)"
                    " VALUES (?, ?, ?, ?, ?) RETURNING *",
                    (schema_id, project_id, name, rows.properties_json(properties), now),
                ).fetchone()
            except sqlite3.IntegrityError:
                raise refusals.duplicate_schema(name) from None
            return rows.event_schema(row)

        return await self._write(run)

    async def get_event_schema(self, project_id: str, schema_id: str) -> EventSchema:
        return await self._read(_require_schema, project_id, schema_id)

    async def list_event_schemas(self, project_id: str) -> list[EventSchema]:
        def run(conn: Conn) -> list[EventSchema]:
            found = conn.execute(
                "SELECT * FROM event_schemas WHERE project_id = ? ORDER BY created_at, id",
                (project_id,),
            )
            return [rows.event_schema(r) for r in found]

        return await self._read(run)

    async def update_event_schema(
        self, project_id: str, schema_id: str, properties: dict[str, PropertyDef], now: str
    ) -> EventSchema:
        def run(conn: Conn) -> EventSchema:
            _require_schema(conn, project_id, schema_id)
            row = conn.execute(
                "UPDATE event_schemas SET properties = ?, updated_at = ? WHERE id = ? RETURNING *",
                (rows.properties_json(properties), now, schema_id),
            ).fetchone()
            return rows.event_schema(row)

        return await self._write(run)

    async def delete_event_schema(self, project_id: str, schema_id: str) -> None:
        def run(conn: Conn) -> None:
            schema = _require_schema(conn, project_id, schema_id)
            used = conn.execute(
                "SELECT id FROM distributions WHERE project_id = ? AND trigger_event = ? LIMIT 1",
                (project_id, schema.name),
            ).fetchone()
            if used is not None:
                raise refusals.in_use(
                    f"Custom event schema '{schema.name}'",
                    "custom_event_schema",
                    schema_id,
                    used[0],
                )
            conn.execute("DELETE FROM event_schemas WHERE id = ?", (schema_id,))

        await self._write(run)

    async def event_schema_exists(self, project_id: str, name: str) -> bool:
        def run(conn: Conn) -> bool:
            row = conn.execute(
                "SELECT 1 FROM event_schemas WHERE project_id = ? AND name = ?", (project_id, name)
            ).fetchone()
            return row is not None

        return await self._read(run)

    # --- events ----------------------------------------------------------------------------------
    async def purge_idempotency_keys(self, before_ms: int) -> int:
        def run(conn: Conn) -> int:
            cursor = conn.execute("DELETE FROM idempotency_keys WHERE created_ms < ?", (before_ms,))
            return int(cursor.rowcount)

        return await self._write(run)

    async def purge_finished_messages(self, before: str, now_ms: int, limit: int) -> int:
        def run(conn: Conn) -> int:
            doomed = [
                (r[0],)
                for r in conn.execute(
                    "SELECT id FROM messages WHERE status <> 'pending' AND created_at < ?"
                    " AND lease_until <= ? ORDER BY created_at LIMIT ?",
                    (before, now_ms, limit),
                )
            ]
            conn.executemany("DELETE FROM attempts WHERE message_id = ?", doomed)
            conn.executemany("DELETE FROM messages WHERE id = ?", doomed)
            return len(doomed)

        return await self._write(run)

    async def list_events(
        self, project_id: str, page: Page, *, customer_id: str | None, event_name: str | None
    ) -> tuple[list[Event], int]:
        where, params = _where(
            {"project_id": project_id, "customer_id": customer_id, "type": event_name}
        )

        def run(conn: Conn) -> tuple[list[Event], int]:
            total = conn.execute(f"SELECT COUNT(*) FROM events WHERE {where}", params).fetchone()
            found = conn.execute(
                f"SELECT * FROM events WHERE {where} ORDER BY created_at DESC, id DESC"
                " LIMIT ? OFFSET ?",
                (*params, page.limit, page.offset),
            )
            return [rows.event(r) for r in found], int(total[0])

        return await self._read(run)

    # --- distributions ---------------------------------------------------------------------------
    async def create_distribution(self, distribution: Distribution) -> Distribution:
        def run(conn: Conn) -> Distribution:
            d = distribution
            _require_trigger_schema(conn, d.project_id, d.trigger_event)
            conn.execute(
                "INSERT INTO distributions (id, project_id, name, trigger_type, trigger_event,"
                " action, channels, status, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows.distribution_values(d),
            )
            return d

        return await self._write(run)

    async def get_distribution(self, project_id: str, distribution_id: str) -> Distribution:
        return await self._read(_require_distribution, project_id, distribution_id)

    async def list_distributions(
        self, project_id: str, page: Page
    ) -> tuple[list[Distribution], int]:
        def run(conn: Conn) -> tuple[list[Distribution], int]:
            total = conn.execute(
                "SELECT COUNT(*) FROM distributions WHERE project_id = ?", (project_id,)
            ).fetchone()
            found = conn.execute(
                "SELECT * FROM distributions WHERE project_id = ? ORDER BY created_at, id"
                " LIMIT ? OFFSET ?",
                (project_id, page.limit, page.offset),
            )
            return _with_states(conn, found.fetchall()), int(total[0])

        return await self._read(run)

    async def replace_distribution(self, distribution: Distribution) -> Distribution:
        def run(conn: Conn) -> Distribution:
            d = distribution
            current = _require_distribution(conn, d.project_id, d.id)
            if current.trigger_event != d.trigger_event:
                _require_trigger_schema(conn, d.project_id, d.trigger_event)
            if current.channels != d.channels:
                conn.execute("DELETE FROM channel_states WHERE distribution_id = ?", (d.id,))
            conn.execute(
                "UPDATE distributions SET name = ?, trigger_type = ?, trigger_event = ?,"
                " action = ?, channels = ?, status = ?, updated_at = ? WHERE id = ?",
                (
                    d.name,
                    d.trigger_type,
                    d.trigger_event,
                    rows.to_json(d.action),
                    rows.channels_json(d.channels),
                    d.status,
                    d.updated_at,
                    d.id,
                ),
            )
            return d

        return await self._write(run)

    async def delete_distribution(self, project_id: str, distribution_id: str, now: str) -> None:
        def run(conn: Conn) -> None:
            _require_distribution(conn, project_id, distribution_id)
            conn.execute(
                "UPDATE messages SET status = 'canceled' WHERE distribution_id = ?"
                " AND status = 'pending'",
                (distribution_id,),
            )
            conn.execute("DELETE FROM distributions WHERE id = ?", (distribution_id,))
            conn.execute("DELETE FROM channel_states WHERE distribution_id = ?", (distribution_id,))

        await self._write(run)

    async def resume_distribution(
        self, project_id: str, distribution_id: str, now: str, now_ms: int
    ) -> Distribution:
        def run(conn: Conn) -> Distribution:
            current = _require_distribution(conn, project_id, distribution_id)
            if not current.paused:
                raise refusals.distribution_not_paused(distribution_id)
            conn.execute(
                "UPDATE distributions SET status = 'ACTIVE', updated_at = ? WHERE id = ?",
                (now, distribution_id),
            )
            conn.execute(
                "UPDATE channel_states SET consecutive_failures = 0, paused_at = NULL,"
                " pause_reason = NULL WHERE distribution_id = ?",
                (distribution_id,),
            )
            conn.execute(
                "UPDATE messages SET next_attempt_at = ? WHERE distribution_id = ?"
                " AND status = 'pending' AND next_attempt_at > ?",
                (now_ms, distribution_id, now_ms),
            )
            return _require_distribution(conn, project_id, distribution_id)

        return await self._write(run)

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
        return await self._write(_claim_due, now_ms, limit, lease_ms, retries, tuple(exclude))

    async def release(self, message_ids: Sequence[str]) -> None:
        def run(conn: Conn) -> None:
            conn.executemany(
                "UPDATE messages SET lease_until = 0 WHERE id = ? AND status = 'pending'",
                [(m,) for m in message_ids],
            )

        if message_ids:
            await self._write(run)

    async def record_outcomes(
        self, outcomes: Sequence[Outcome], *, pause_after: int, now: str
    ) -> None:
        if outcomes:
            await self._write(_record_outcomes, outcomes, pause_after, now)

    async def resend_delivery(self, project_id: str, delivery_id: str, now_ms: int) -> Delivery:
        def run(conn: Conn) -> Delivery:
            found = conn.execute(
                "SELECT * FROM messages WHERE project_id = ? AND id = ?", (project_id, delivery_id)
            ).fetchone()
            if found is None:
                raise NotFound("delivery", delivery_id)
            _refuse_unsendable(conn, found)
            conn.execute(
                "UPDATE messages SET status = 'pending', next_attempt_at = ?, lease_until = 0"
                " WHERE id = ?",
                (now_ms, delivery_id),
            )
            return _with_attempts(
                conn, conn.execute("SELECT * FROM messages WHERE id = ?", (delivery_id,)).fetchall()
            )[0]

        return await self._write(run)

    async def replay_deliveries(
        self, project_id: str, distribution_id: str, since: str, now_ms: int
    ) -> int:
        def run(conn: Conn) -> int:
            _require_distribution(conn, project_id, distribution_id)
            cursor = conn.execute(
                "UPDATE messages SET status = 'pending', next_attempt_at = ?, lease_until = 0"
                " WHERE distribution_id = ? AND created_at >= ?"
                " AND (status = 'failed'"
                " OR (status = 'pending' AND attempts > 0 AND lease_until <= ?))",
                (now_ms, distribution_id, since, now_ms),
            )
            return int(cursor.rowcount)

        return await self._write(run)

    async def next_due_ms(self) -> int | None:
        def run(conn: Conn) -> int | None:
            row = conn.execute(
                "SELECT MIN(MAX(m.next_attempt_at, m.lease_until)) FROM messages m"
                " JOIN distributions d ON d.id = m.distribution_id"
                " LEFT JOIN channel_states c ON c.distribution_id = m.distribution_id"
                " AND c.channel_index = m.channel_index"
                " WHERE m.status = 'pending' AND d.status = 'ACTIVE' AND c.paused_at IS NULL"
            ).fetchone()
            return None if row[0] is None else int(row[0])

        return await self._read(run)

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

        def run(conn: Conn) -> tuple[list[Delivery], int]:
            total = conn.execute(f"SELECT COUNT(*) FROM messages WHERE {clause}", params).fetchone()
            found = conn.execute(
                f"SELECT * FROM messages WHERE {clause} ORDER BY created_at DESC, id DESC"
                " LIMIT ? OFFSET ?",
                (*params, page.limit, page.offset),
            ).fetchall()
            return _with_attempts(conn, found), int(total[0])

        return await self._read(run)

    async def get_delivery(self, project_id: str, delivery_id: str) -> Delivery:
        def run(conn: Conn) -> Delivery:
            found = conn.execute(
                "SELECT * FROM messages WHERE project_id = ? AND id = ?", (project_id, delivery_id)
            ).fetchall()
            if not found:
                raise NotFound("delivery", delivery_id)
            return _with_attempts(conn, found)[0]

        return await self._read(run)

    # --- promotions: campaigns, codes, publications, tiers, loyalty, referral (issue 3) -------
    async def create_campaign(
        self, campaign: Campaign, tiers: Sequence[PromotionTier], vouchers_count: int
    ) -> Campaign:
        return await self._write(promo.create_campaign, campaign, tiers, vouchers_count)

    async def get_campaign(self, project_id: str, id_or_name: str) -> Campaign:
        return await self._read(promo.require_campaign, project_id, id_or_name)

    async def list_campaigns(
        self, project_id: str, page: Page, *, campaign_type: str | None
    ) -> tuple[list[Campaign], int]:
        return await self._read(promo.list_campaigns, project_id, page, campaign_type)

    async def replace_campaign(self, campaign: Campaign) -> Campaign:
        return await self._write(promo.replace_campaign, campaign)

    async def delete_campaign(self, project_id: str, id_or_name: str) -> None:
        await self._write(promo.delete_campaign, project_id, id_or_name)

    async def generate_vouchers(
        self,
        project_id: str,
        id_or_name: str,
        count: int,
        code_config: dict[str, Any] | None,
        now: str,
    ) -> tuple[Campaign, int]:
        return await self._write(
            promo.generate_into, project_id, id_or_name, count, code_config, now
        )

    async def add_voucher(
        self, project_id: str, id_or_name: str, code: str, metadata: dict[str, Any], now: str
    ) -> tuple[Voucher, Campaign]:
        return await self._write(promo.add_code_to, project_id, id_or_name, code, metadata, now)

    async def import_codes(
        self, project_id: str, id_or_name: str, codes: Sequence[str], now: str
    ) -> int:
        return await self._write(promo.import_codes, project_id, id_or_name, codes, now)

    async def get_voucher(self, project_id: str, code: str) -> tuple[Voucher, Campaign]:
        return await self._read(promo.require_voucher, project_id, code)

    async def list_vouchers(
        self, project_id: str, page: Page, *, campaign: str | None, holder_id: str | None
    ) -> tuple[list[tuple[Voucher, Campaign]], int]:
        return await self._read(promo.list_vouchers, project_id, page, campaign, holder_id)

    async def list_publications(
        self, project_id: str, page: Page, where: PublicationFilter
    ) -> tuple[list[tuple[Publication, Customer, Campaign]], int]:
        return await self._read(promo.list_publications, project_id, page, where)

    async def create_promotion_tier(self, tier: PromotionTier) -> PromotionTier:
        def run(conn: Conn) -> PromotionTier:
            promo.promotion_campaign(conn, tier.project_id, tier.campaign_id)
            return promo.insert_tier(conn, tier)

        return await self._write(run)

    async def get_promotion_tier(self, project_id: str, tier_id: str) -> PromotionTier:
        return await self._read(promo.require_tier, project_id, tier_id)

    async def list_promotion_tiers(
        self, project_id: str, campaign: str | None, page: Page
    ) -> tuple[list[PromotionTier], int]:
        return await self._read(promo.list_tiers, project_id, campaign, page)

    async def replace_promotion_tier(self, tier: PromotionTier) -> PromotionTier:
        return await self._write(promo.replace_tier, tier)

    async def delete_promotion_tier(self, project_id: str, tier_id: str) -> None:
        await self._write(promo.delete_tier, project_id, tier_id)

    async def create_earning_rules(
        self, project_id: str, campaign: str, rules: Sequence[dict[str, Any]], now: str
    ) -> list[EarningRule]:
        return await self._write(promo.create_earning_rules, project_id, campaign, rules, now)

    async def list_earning_rules(
        self, project_id: str, campaign: str, page: Page
    ) -> tuple[list[EarningRule], int]:
        return await self._read(promo.list_earning_rules, project_id, campaign, page)

    async def get_earning_rule(self, project_id: str, campaign: str, rule_id: str) -> EarningRule:
        return await self._read(promo.require_earning_rule, project_id, campaign, rule_id)

    async def delete_earning_rule(self, project_id: str, campaign: str, rule_id: str) -> None:
        await self._write(promo.delete_earning_rule, project_id, campaign, rule_id)

    async def list_loyalty_transactions(
        self, project_id: str, code: str, page: Page
    ) -> tuple[list[LoyaltyTransaction], int]:
        return await self._read(promo.list_transactions, project_id, code, page)

    async def list_referral_conversions(
        self, project_id: str, page: Page, *, campaign: str | None, referrer_id: str | None
    ) -> tuple[list[ReferralConversion], int]:
        return await self._read(promo.list_conversions, project_id, page, campaign, referrer_id)

    async def list_distribution_outcomes(
        self, project_id: str, page: Page, *, distribution_id: str | None, result: str | None
    ) -> tuple[list[PromotionOutcome], int]:
        return await self._read(promo.list_outcomes, project_id, page, distribution_id, result)


# --- transaction bodies (run on the connection's own thread) -----------------------------------


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


def _where(filters: dict[str, Any]) -> tuple[str, tuple[Any, ...]]:
    """``col = ?`` for every filter given; the column names are ours, never the caller's."""
    present = {k: v for k, v in filters.items() if v is not None}
    return " AND ".join(f"{k} = ?" for k in present), tuple(present.values())


def _require_schema(conn: Conn, project_id: str, schema_id: str) -> EventSchema:
    row = conn.execute(
        "SELECT * FROM event_schemas WHERE project_id = ? AND id = ?", (project_id, schema_id)
    ).fetchone()
    if row is None:
        raise NotFound("custom_event_schema", schema_id)
    return rows.event_schema(row)


def _require_distribution(conn: Conn, project_id: str, distribution_id: str) -> Distribution:
    row = conn.execute(
        "SELECT * FROM distributions WHERE project_id = ? AND id = ?",
        (project_id, distribution_id),
    ).fetchone()
    if row is None:
        raise NotFound("distribution", distribution_id)
    return _with_states(conn, [row])[0]


def _with_states(conn: Conn, found: list[Any]) -> list[Distribution]:
    """Distributions with the health of each of their channels."""
    if not found:
        return []
    ids_ = [r["id"] for r in found]
    marks = ", ".join("?" for _ in ids_)
    states = conn.execute(f"SELECT * FROM channel_states WHERE distribution_id IN ({marks})", ids_)
    return rows.distributions_with_states(found, states)


def _refuse_unsendable(conn: Conn, message: sqlite3.Row) -> None:
    if message["status"] == "canceled":
        raise refusals.delivery_canceled(message["id"])
    distribution = _require_distribution(conn, message["project_id"], message["distribution_id"])
    if distribution.paused:
        raise refusals.distribution_paused(distribution.id)


def _require_trigger_schema(conn: Conn, project_id: str, name: str) -> None:
    found = conn.execute(
        "SELECT 1 FROM event_schemas WHERE project_id = ? AND name = ?", (project_id, name)
    ).fetchone()
    if found is None:
        raise refusals.unknown_trigger_event(name)


def _default_project(conn: Conn) -> Project | None:
    row = conn.execute("SELECT * FROM projects WHERE is_default = 1").fetchone()
    return None if row is None else rows.project(row)


def _claim_due(
    conn: Conn, now_ms: int, limit: int, lease_ms: int, retries: bool, exclude: tuple[str, ...]
) -> list[ClaimedMessage]:
    lane = "m.attempts > 0" if retries else "m.attempts = 0"
    skip = ""
    if exclude:
        skip = " AND m.destination NOT IN (" + ", ".join("?" for _ in exclude) + ")"
    claimed = conn.execute(
        "UPDATE messages SET lease_until = ? WHERE id IN ("
        " SELECT m.id FROM messages m JOIN distributions d ON d.id = m.distribution_id"
        " LEFT JOIN channel_states c ON c.distribution_id = m.distribution_id"
        " AND c.channel_index = m.channel_index"
        " WHERE m.status = 'pending' AND m.next_attempt_at <= ? AND m.lease_until <= ?"
        f" AND d.status = 'ACTIVE' AND c.paused_at IS NULL AND {lane}{skip}"
        " ORDER BY m.next_attempt_at, m.rowid LIMIT ?)"
        " RETURNING id, project_id, distribution_id, channel_index, url, headers, body, attempts",
        (now_ms + lease_ms, now_ms, now_ms, *exclude, limit),
    ).fetchall()
    if not claimed:
        return []
    secrets = _signing_secrets(conn, {r["project_id"] for r in claimed}, now_ms)
    schedules = _retry_schedules(conn, {r["distribution_id"] for r in claimed})
    return [
        ClaimedMessage(
            id=r["id"],
            project_id=r["project_id"],
            distribution_id=r["distribution_id"],
            channel_index=r["channel_index"],
            url=r["url"],
            headers=rows.from_json(r["headers"]),
            body=bytes(r["body"]),
            attempts=r["attempts"],
            secrets=secrets[r["project_id"]],
            retry_schedule=schedules.get((r["distribution_id"], r["channel_index"])),
        )
        for r in claimed
    ]


def _signing_secrets(conn: Conn, project_ids: set[str], now_ms: int) -> dict[str, tuple[str, ...]]:
    marks = ", ".join("?" for _ in project_ids)
    found = conn.execute(f"SELECT * FROM projects WHERE id IN ({marks})", sorted(project_ids))
    return {r["id"]: rows.project(r).signing_secrets(now_ms) for r in found}


def _retry_schedules(
    conn: Conn, distribution_ids: set[str]
) -> dict[tuple[str, int], tuple[float, ...]]:
    marks = ", ".join("?" for _ in distribution_ids)
    schedules: dict[tuple[str, int], tuple[float, ...]] = {}
    for r in conn.execute(
        f"SELECT id, channels FROM distributions WHERE id IN ({marks})", sorted(distribution_ids)
    ):
        for index, raw in enumerate(rows.from_json(r["channels"])):
            channel = rows.channel(raw)
            if channel.retry_schedule is not None:
                schedules[(r["id"], index)] = channel.retry_schedule
    return schedules


def _record_outcomes(conn: Conn, outcomes: Sequence[Outcome], pause_after: int, now: str) -> None:
    updates, attempts = rows.outcome_params(outcomes)
    conn.executemany(
        "UPDATE messages SET status = ?, attempts = attempts + 1, lease_until = 0,"
        " next_attempt_at = ?, delivered_at = COALESCE(?, delivered_at), last_status_code = ?"
        " WHERE id = ?",
        updates,
    )
    # Only for messages still there: a purge may have taken one whose outcome came late.
    conn.executemany(
        "INSERT INTO attempts (message_id, attempted_at, status_code, latency_ms, error,"
        " response_excerpt) SELECT ?, ?, ?, ?, ?, ? WHERE EXISTS"
        " (SELECT 1 FROM messages WHERE id = ?)",
        [(*a, a[0]) for a in attempts],
    )
    reset, failures = health_changes(outcomes)
    conn.executemany(
        "UPDATE channel_states SET consecutive_failures = 0"
        " WHERE distribution_id = ? AND channel_index = ? AND consecutive_failures > 0",
        reset,
    )
    for o in failures:
        _count_failure(conn, o, pause_after, now)


def _count_failure(conn: Conn, outcome: Outcome, pause_after: int, now: str) -> None:
    key = (outcome.distribution_id, outcome.channel_index)
    row = conn.execute(
        "INSERT INTO channel_states (distribution_id, channel_index, consecutive_failures)"
        " VALUES (?, ?, 1) ON CONFLICT (distribution_id, channel_index)"
        " DO UPDATE SET consecutive_failures = consecutive_failures + 1"
        " RETURNING consecutive_failures, paused_at",
        key,
    ).fetchone()
    if row["paused_at"] is not None:
        return
    reason = pause_reason(row["consecutive_failures"], outcome.status_code, pause_after)
    if reason is not None:
        conn.execute(
            "UPDATE channel_states SET paused_at = ?, pause_reason = ?"
            " WHERE distribution_id = ? AND channel_index = ?",
            (now, reason, *key),
        )


def _with_attempts(conn: Conn, found: list[sqlite3.Row]) -> list[Delivery]:
    if not found:
        return []
    message_ids = [r["id"] for r in found]
    marks = ", ".join("?" for _ in message_ids)
    by_message: dict[str, list[Any]] = {m: [] for m in message_ids}
    for r in conn.execute(
        f"SELECT * FROM attempts WHERE message_id IN ({marks}) ORDER BY id", message_ids
    ):
        by_message[r["message_id"]].append(rows.attempt(r))
    return [rows.delivery(r, by_message[r["id"]]) for r in found]
