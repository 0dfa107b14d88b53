"""SQLite backend: the embedded default.

One connection writes, one reads (WAL lets them run side by side). Each connection lives on its
own thread, and every verb is one hop to that thread: a whole transaction runs there without
returning to the event loop, so SQLite's single writer is held for microseconds, not for as long
as the loop takes to come back.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from sendout import ids
from sendout.clock import from_ms, isoformat
from sendout.errors import Conflict, InvalidInput, NotFound
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
from sendout.storage import rows
from sendout.storage.base import CustomerRef, DeliveryFilter, TrackCommand, Tracking
from sendout.storage.migrations import current_schema, plan_migrations

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


def _connect(path: str) -> Conn:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=True)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA busy_timeout=10000")
    conn.execute("PRAGMA foreign_keys=ON")
    return conn


class SqliteStorage:
    def __init__(self, path: str) -> None:
        self._path = path
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="sqlite-writer")
        self._reader = ThreadPoolExecutor(1, thread_name_prefix="sqlite-reader")
        self._wconn: Conn | None = None
        self._rconn: Conn | None = None

    # --- plumbing --------------------------------------------------------------------------------
    async def _on(self, pool: ThreadPoolExecutor, fn: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(pool, fn)

    async def _write(self, fn: Callable[..., T], *args: Any) -> T:
        def run() -> T:
            conn = self._wconn
            assert conn is not None, "storage is not open"
            conn.execute("BEGIN IMMEDIATE")
            try:
                result = fn(conn, *args)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            return result

        return await self._on(self._writer, run)

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

        def make_writer() -> None:
            self._wconn = _connect(self._path)

        def make_reader() -> None:
            self._rconn = _connect(self._path)

        await self._on(self._writer, make_writer)
        await self._on(self._reader, make_reader)

    async def close(self) -> None:
        def close_writer() -> None:
            if self._wconn is not None:
                self._wconn.close()
                self._wconn = None

        def close_reader() -> None:
            if self._rconn is not None:
                self._rconn.close()
                self._rconn = None

        await self._on(self._writer, close_writer)
        await self._on(self._reader, close_reader)
        self._writer.shutdown(wait=True)
        self._reader.shutdown(wait=True)

    async def migrate(self) -> list[str]:
        def run() -> list[str]:
            conn = self._wconn
            assert conn is not None
            conn.execute("BEGIN IMMEDIATE")
            try:
                names = _migrate(conn)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            return names

        return await self._on(self._writer, run)

    async def subscribe(self, wake: Callable[[], None]) -> None:
        """Nothing to listen to: the API wakes the worker of its own process after a commit."""

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

    async def default_project(self) -> Project | None:
        def run(conn: Conn) -> Project | None:
            row = conn.execute("SELECT * FROM projects WHERE is_default = 1").fetchone()
            return None if row is None else rows.project(row)

        return await self._read(run)

    async def create_project(self, project: Project, *, is_default: bool) -> Project:
        def run(conn: Conn) -> Project:
            conn.execute(
                "INSERT INTO projects (id, name, app_id, app_token, webhook_secret, is_default,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    project.id,
                    project.name,
                    project.app_id,
                    project.app_token,
                    project.webhook_secret,
                    int(is_default),
                    project.created_at,
                ),
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

    # --- customers -------------------------------------------------------------------------------
    async def upsert_customer(
        self, project_id: str, ref: CustomerRef, fields: CustomerFields, now: str
    ) -> Customer:
        return await self._write(_upsert_customer, project_id, ref, fields, now)

    async def get_customer(self, project_id: str, id_or_source_id: str) -> Customer:
        return await self._read(_require_customer, project_id, id_or_source_id)

    async def update_customer(
        self, project_id: str, id_or_source_id: str, fields: CustomerFields, now: str
    ) -> Customer:
        def run(conn: Conn) -> Customer:
            current = _require_customer(conn, project_id, id_or_source_id)
            return _apply_customer_fields(conn, current, fields, now)

        return await self._write(run)

    async def delete_customer(self, project_id: str, id_or_source_id: str) -> None:
        def run(conn: Conn) -> None:
            current = _require_customer(conn, project_id, id_or_source_id)
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
                raise _duplicate_schema(name) from None
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
                raise Conflict(
                    f"Custom event schema '{schema.name}' triggers distribution {used[0]};"
                    " delete or change that distribution first",
                    key="event_schema_in_use",
                    message="Custom event schema in use",
                    resource_id=schema_id,
                    resource_type="custom_event_schema",
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
    async def track_event(
        self, command: TrackCommand, tracking: Tracking
    ) -> tuple[Event, Customer, int]:
        return await self._write(_track_event, command, tracking)

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
            conn.execute(
                "INSERT INTO distributions (id, project_id, name, trigger_type, trigger_event,"
                " action, channels, status, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    d.id,
                    d.project_id,
                    d.name,
                    d.trigger_type,
                    d.trigger_event,
                    rows.to_json(d.action),
                    rows.channels_json(d.channels),
                    d.status,
                    d.created_at,
                    d.updated_at,
                ),
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
            return [rows.distribution(r) for r in found], int(total[0])

        return await self._read(run)

    async def replace_distribution(self, distribution: Distribution) -> Distribution:
        def run(conn: Conn) -> Distribution:
            d = distribution
            _require_distribution(conn, d.project_id, d.id)
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

        await self._write(run)

    # --- outbox and deliveries -------------------------------------------------------------------
    async def claim_due(self, now_ms: int, limit: int, lease_ms: int) -> list[ClaimedMessage]:
        return await self._write(_claim_due, now_ms, limit, lease_ms)

    async def record_outcomes(self, outcomes: Sequence[Outcome]) -> None:
        if outcomes:
            await self._write(_record_outcomes, outcomes)

    async def next_due_ms(self) -> int | None:
        def run(conn: Conn) -> int | None:
            row = conn.execute(
                "SELECT MIN(MAX(m.next_attempt_at, m.lease_until)) FROM messages m"
                " JOIN distributions d ON d.id = m.distribution_id"
                " WHERE m.status = 'pending' AND d.status = 'ACTIVE'"
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


def _find_customer(conn: Conn, project_id: str, key: str) -> Customer | None:
    row = conn.execute(
        "SELECT * FROM customers WHERE project_id = ? AND (id = ? OR source_id = ?)"
        " ORDER BY id = ? DESC LIMIT 1",
        (project_id, key, key, key),
    ).fetchone()
    return None if row is None else rows.customer(row)


def _require_customer(conn: Conn, project_id: str, key: str) -> Customer:
    found = _find_customer(conn, project_id, key)
    if found is None:
        raise NotFound("customer", key)
    return found


def _customer_by(conn: Conn, project_id: str, column: str, value: str) -> Customer | None:
    row = conn.execute(
        f"SELECT * FROM customers WHERE project_id = ? AND {column} = ?", (project_id, value)
    ).fetchone()
    return None if row is None else rows.customer(row)


def _upsert_customer(
    conn: Conn, project_id: str, ref: CustomerRef, fields: CustomerFields, now: str
) -> Customer:
    current = None
    if ref.id is not None:
        current = _customer_by(conn, project_id, "id", ref.id)
    if current is None and ref.source_id is not None:
        current = _customer_by(conn, project_id, "source_id", ref.source_id)
    if current is None and ref.id is not None:
        raise NotFound("customer", ref.id)
    if current is not None:
        return _apply_customer_fields(conn, current, fields, now)
    return _insert_customer(conn, project_id, ref.source_id, fields, now)


def _insert_customer(
    conn: Conn, project_id: str, source_id: str | None, fields: CustomerFields, now: str
) -> Customer:
    row = conn.execute(
        "INSERT INTO customers (id, project_id, source_id, name, description, email, phone,"
        " birthdate, address, metadata, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " RETURNING *",
        (
            ids.customer_id(),
            project_id,
            source_id,
            fields.name,
            fields.description,
            fields.email,
            fields.phone,
            fields.birthdate,
            None if fields.address is None else rows.to_json(fields.address),
            rows.to_json(fields.metadata or {}),
            now,
        ),
    ).fetchone()
    return rows.customer(row)


def _apply_customer_fields(
    conn: Conn, current: Customer, fields: CustomerFields, now: str
) -> Customer:
    changes = {k: v for k, v in fields.present().items() if getattr(current, k) != v}
    if not changes:
        return current
    values = {k: rows.to_json(v) if k in ("address", "metadata") else v for k, v in changes.items()}
    assignments = ", ".join(f"{k} = ?" for k in values)
    row = conn.execute(
        f"UPDATE customers SET {assignments}, updated_at = ? WHERE id = ? RETURNING *",
        (*values.values(), now, current.id),
    ).fetchone()
    return rows.customer(row)


def _duplicate_schema(name: str) -> Conflict:
    return Conflict(
        f"A custom event schema named '{name}' already exists",
        resource_type="custom_event_schema",
        resource_id=name,
    )


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
    return rows.distribution(row)


def _track_event(conn: Conn, cmd: TrackCommand, tracking: Tracking) -> tuple[Event, Customer, int]:
    schema_row = conn.execute(
        "SELECT * FROM event_schemas WHERE project_id = ? AND name = ?",
        (cmd.project_id, cmd.event_name),
    ).fetchone()
    if schema_row is None:
        raise InvalidInput(
            f"No custom event schema named '{cmd.event_name}' exists in this project;"
            " define it with POST /management/v1/projects/{projectId}/custom-event-schemas",
            key="unknown_event",
            message="Unknown custom event",
            resource_id=cmd.event_name,
            resource_type="custom_event_schema",
        )
    schema = rows.event_schema(schema_row)
    tracking.validate(schema)
    customer = _upsert_customer(
        conn, cmd.project_id, cmd.customer, cmd.customer_fields, cmd.created_at
    )
    event = Event(
        id=cmd.event_id,
        project_id=cmd.project_id,
        type=cmd.event_name,
        customer_id=customer.id,
        schema_id=schema.id,
        metadata=cmd.metadata,
        referral=cmd.referral,
        loyalty=cmd.loyalty,
        request_id=cmd.request_id,
        created_at=cmd.created_at,
    )
    conn.execute(
        "INSERT INTO events (id, project_id, type, customer_id, schema_id, metadata, referral,"
        " loyalty, request_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            event.id,
            event.project_id,
            event.type,
            event.customer_id,
            event.schema_id,
            rows.to_json(event.metadata),
            None if event.referral is None else rows.to_json(event.referral),
            None if event.loyalty is None else rows.to_json(event.loyalty),
            event.request_id,
            event.created_at,
        ),
    )
    candidates = [
        rows.distribution(r)
        for r in conn.execute(
            "SELECT * FROM distributions WHERE project_id = ? AND trigger_event = ?"
            " AND status = 'ACTIVE'",
            (cmd.project_id, cmd.event_name),
        )
    ]
    messages = tracking.plan(event, schema, customer, candidates)
    conn.executemany(
        "INSERT INTO messages (id, project_id, distribution_id, event_id, channel_index,"
        " event_name, url, headers, body, status, next_attempt_at, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)",
        [
            (
                m.id,
                cmd.project_id,
                m.distribution_id,
                event.id,
                m.channel_index,
                m.event_name,
                m.url,
                rows.to_json(m.headers),
                m.body,
                cmd.created_at_ms,
                cmd.created_at,
            )
            for m in messages
        ],
    )
    return event, customer, len(messages)


def _claim_due(conn: Conn, now_ms: int, limit: int, lease_ms: int) -> list[ClaimedMessage]:
    claimed = conn.execute(
        "UPDATE messages SET lease_until = ? WHERE id IN ("
        " SELECT m.id FROM messages m JOIN distributions d ON d.id = m.distribution_id"
        " WHERE m.status = 'pending' AND m.next_attempt_at <= ? AND m.lease_until <= ?"
        " AND d.status = 'ACTIVE' ORDER BY m.next_attempt_at, m.id LIMIT ?)"
        " RETURNING id, project_id, url, headers, body, attempts",
        (now_ms + lease_ms, now_ms, now_ms, limit),
    ).fetchall()
    if not claimed:
        return []
    project_ids = sorted({r["project_id"] for r in claimed})
    marks = ", ".join("?" for _ in project_ids)
    secrets = dict(
        conn.execute(f"SELECT id, webhook_secret FROM projects WHERE id IN ({marks})", project_ids)
    )
    return [
        ClaimedMessage(
            id=r["id"],
            project_id=r["project_id"],
            url=r["url"],
            headers=rows.from_json(r["headers"]),
            body=bytes(r["body"]),
            attempts=r["attempts"],
            webhook_secret=secrets[r["project_id"]],
        )
        for r in claimed
    ]


def _record_outcomes(conn: Conn, outcomes: Sequence[Outcome]) -> None:
    updates = []
    attempts = []
    for o in outcomes:
        at = isoformat(from_ms(o.attempted_at_ms))
        if o.delivered:
            status, next_at, delivered_at = "delivered", o.attempted_at_ms, at
        elif o.next_attempt_at_ms is None:
            status, next_at, delivered_at = "failed", o.attempted_at_ms, None
        else:
            status, next_at, delivered_at = "pending", o.next_attempt_at_ms, None
        updates.append((status, next_at, delivered_at, o.status_code, o.message_id))
        attempts.append(
            (o.message_id, at, o.status_code, o.latency_ms, o.error, o.response_excerpt)
        )
    conn.executemany(
        "UPDATE messages SET status = ?, attempts = attempts + 1, lease_until = 0,"
        " next_attempt_at = ?, delivered_at = COALESCE(?, delivered_at), last_status_code = ?"
        " WHERE id = ?",
        updates,
    )
    conn.executemany(
        "INSERT INTO attempts (message_id, attempted_at, status_code, latency_ms, error,"
        " response_excerpt) VALUES (?, ?, ?, ?, ?, ?)",
        attempts,
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
    return [
        Delivery(
            id=r["id"],
            project_id=r["project_id"],
            distribution_id=r["distribution_id"],
            event_id=r["event_id"],
            channel_index=r["channel_index"],
            event_name=r["event_name"],
            url=r["url"],
            status=r["status"],
            attempts_count=r["attempts"],
            next_attempt_at=(
                isoformat(from_ms(r["next_attempt_at"])) if r["status"] == "pending" else None
            ),
            created_at=r["created_at"],
            delivered_at=r["delivered_at"],
            attempts=tuple(by_message[r["id"]]),
        )
        for r in found
    ]
