"""The pipeline's write transaction on SQLite: :class:`~sendout.storage.tx.Tx` over one connection.

It runs on the writer thread, inside the group commit's savepoint: every verb is a plain
statement on the connection, so a coroutine calling them never suspends.
"""

from __future__ import annotations

from sendout.outbox.destinations import destination_of
from sendout.records import Customer, CustomerFields
from sendout.storage import rows
from sendout.storage import sqlite_customers as customers
from sendout.storage import sqlite_keys as keys
from sendout.storage.base import CustomerRef, IdempotencyKey
from sendout.storage.sqlite_promotions import SqlitePromotionTx
from sendout.storage.tx import Insertion, Trigger

__all__ = ["SqliteTx"]


class SqliteTx(SqlitePromotionTx):
    async def idempotent_replay(self, key: IdempotencyKey) -> bytes | None:
        return keys.idempotent_replay(self._conn, self._project_id, key)

    async def remember(self, key: IdempotencyKey, response: bytes, now_ms: int) -> None:
        keys.remember(self._conn, self._project_id, key, response, now_ms)

    async def trigger(self, event_name: str) -> Trigger | None:
        schema = self._conn.execute(
            "SELECT * FROM event_schemas WHERE project_id = ? AND name = ?",
            (self._project_id, event_name),
        ).fetchone()
        if schema is None:
            return None
        candidates = self._conn.execute(
            "SELECT * FROM distributions WHERE project_id = ? AND trigger_event = ?"
            " AND status = 'ACTIVE' ORDER BY created_at, id",
            (self._project_id, event_name),
        )
        return rows.event_schema(schema), [rows.distribution(r) for r in candidates]

    async def upsert_customer(self, ref: CustomerRef, fields: CustomerFields) -> Customer:
        return customers.upsert(self._conn, self._project_id, ref, fields, self._now)

    async def insert_event(self, insertion: Insertion) -> None:
        event = insertion.event
        self._conn.execute(
            "INSERT INTO events (id, project_id, type, customer_id, schema_id, metadata, referral,"
            " loyalty, request_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows.event_values(event),
        )
        self._conn.executemany(
            "INSERT INTO messages (id, project_id, distribution_id, event_id, channel_index,"
            " event_name, url, destination, headers, body, status, next_attempt_at, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)",
            [
                (
                    m.id,
                    event.project_id,
                    m.distribution_id,
                    event.id,
                    m.channel_index,
                    m.event_name,
                    m.url,
                    destination_of(m.url),
                    rows.to_json(m.headers),
                    m.body,
                    insertion.due_ms,
                    event.created_at,
                )
                for m in insertion.messages
            ],
        )
