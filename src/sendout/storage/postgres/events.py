"""Tracked events on PostgreSQL: listing them, reading a range of history, and purging what
retention lets go."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sendout.errors import NotFound
from sendout.records import Event, History, Page
from sendout.storage import rows
from sendout.storage.postgres.connection import PostgresConnection
from sendout.storage.postgres.queries import Where, affected, execute, paged

if TYPE_CHECKING:
    from sendout.storage.postgres.queries import Conn


__all__ = ["PostgresEvents"]


# Oldest finished deliveries first; SKIP LOCKED so workers purging at once take different ones.
# The attempts go in the same statement (their foreign key is checked at its end).
_PURGE_FINISHED = """
WITH doomed AS (
    SELECT id FROM deliveries WHERE status <> 'pending' AND created_at < $1 AND lease_until <= $2
    ORDER BY created_at LIMIT $3 FOR UPDATE SKIP LOCKED
), attempts_gone AS (
    DELETE FROM attempts WHERE delivery_id IN (SELECT id FROM doomed)
)
DELETE FROM deliveries WHERE id IN (SELECT id FROM doomed)
"""


class PostgresEvents(PostgresConnection):
    async def purge_idempotency_keys(self, before_ms: int) -> int:
        status = await self._one(
            execute, "DELETE FROM idempotency_keys WHERE created_ms < $1", before_ms
        )
        return affected(status)

    async def purge_finished_deliveries(self, before: str, now_ms: int, limit: int) -> int:
        status = await self._one(execute, _PURGE_FINISHED, before, now_ms, limit)
        return affected(status)

    async def get_event(self, project_id: str, event_id: str) -> Event:
        row = await self._fetchrow(
            "SELECT * FROM events WHERE project_id = $1 AND id = $2", project_id, event_id
        )
        if row is None:
            raise NotFound("event", event_id)
        return rows.event(row)

    async def list_events(
        self,
        project_id: str,
        page: Page,
        *,
        customer_id: str | None,
        event_name: str | None,
        since: str | None = None,
        until: str | None = None,
    ) -> tuple[list[Event], int]:
        where = Where().add("project_id = ?", project_id)
        for condition, value in (
            ("customer_id = ?", customer_id),
            ("type = ?", event_name),
            ("created_at >= ?", since),
            ("created_at < ?", until),
        ):
            if value is not None:
                where.add(condition, value)

        async def run(conn: Conn) -> tuple[list[Event], int]:
            found, total = await paged(conn, "events", where, "created_at DESC, id DESC", page)
            return [rows.event(r) for r in found], total

        return await self._read(run)

    async def events_per_bucket(
        self, project_id: str, since: str, width: int
    ) -> list[tuple[str, int]]:
        async def run(conn: Conn) -> list[tuple[str, int]]:
            found = await conn.fetch(
                "SELECT substr(created_at, 1, $1) AS bucket, COUNT(*) AS n FROM events"
                " WHERE project_id = $2 AND created_at >= $3 GROUP BY bucket ORDER BY bucket",
                width,
                project_id,
                since,
            )
            return [(str(r["bucket"]), int(r["n"])) for r in found]

        return await self._one(run)

    async def history(
        self, project_id: str, event_name: str, since: str, until: str, limit: int
    ) -> History:
        where = "project_id = $1 AND type = $2 AND created_at >= $3 AND created_at < $4"
        params = (project_id, event_name, since, until)

        async def run(conn: Conn) -> History:
            found = await conn.fetch(
                f"SELECT * FROM events WHERE {where} ORDER BY created_at, seq LIMIT $5",
                *params,
                limit,
            )
            customers = await conn.fetch(
                "SELECT * FROM customers WHERE id IN"
                f" (SELECT customer_id FROM events WHERE {where})",
                *params,
            )
            events = tuple(rows.event(r) for r in found)
            return History(events, {c.id: c for c in map(rows.customer, customers)})

        return await self._read(run)
