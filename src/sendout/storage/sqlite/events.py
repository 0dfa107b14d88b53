"""Tracked events on SQLite: listing them, reading a range of history, and purging what
retention lets go."""

from __future__ import annotations

from sendout.errors import NotFound
from sendout.records import Event, History, Page
from sendout.storage import rows
from sendout.storage.sqlite.connection import SqliteConnection
from sendout.storage.sqlite.queries import Conn, where_clause

__all__ = ["SqliteEvents"]


class SqliteEvents(SqliteConnection):
    async def purge_idempotency_keys(self, before_ms: int) -> int:
        def run(conn: Conn) -> int:
            cursor = conn.execute("DELETE FROM idempotency_keys WHERE created_ms < ?", (before_ms,))
            return int(cursor.rowcount)

        return await self._write(run)

    async def purge_finished_deliveries(self, before: str, now_ms: int, limit: int) -> int:
        def run(conn: Conn) -> int:
            doomed = [
                (r[0],)
                for r in conn.execute(
                    "SELECT id FROM deliveries WHERE status <> 'pending' AND created_at < ?"
                    " AND lease_until <= ? ORDER BY created_at LIMIT ?",
                    (before, now_ms, limit),
                )
            ]
            conn.executemany("DELETE FROM attempts WHERE delivery_id = ?", doomed)
            conn.executemany("DELETE FROM deliveries WHERE id = ?", doomed)
            return len(doomed)

        return await self._write(run)

    async def get_event(self, project_id: str, event_id: str) -> Event:
        def run(conn: Conn) -> Event:
            row = conn.execute(
                "SELECT * FROM events WHERE project_id = ? AND id = ?", (project_id, event_id)
            ).fetchone()
            if row is None:
                raise NotFound("event", event_id)
            return rows.event(row)

        return await self._read(run)

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
        where, params = where_clause(
            {"project_id": project_id, "customer_id": customer_id, "type": event_name}
        )
        if since is not None:
            where, params = f"{where} AND created_at >= ?", (*params, since)
        if until is not None:
            where, params = f"{where} AND created_at < ?", (*params, until)

        def run(conn: Conn) -> tuple[list[Event], int]:
            total = conn.execute(f"SELECT COUNT(*) FROM events WHERE {where}", params).fetchone()
            found = conn.execute(
                f"SELECT * FROM events WHERE {where} ORDER BY created_at DESC, id DESC"
                " LIMIT ? OFFSET ?",
                (*params, page.limit, page.offset),
            )
            return [rows.event(r) for r in found], int(total[0])

        return await self._read(run)

    async def events_per_bucket(
        self, project_id: str, since: str, width: int
    ) -> list[tuple[str, int]]:
        def run(conn: Conn) -> list[tuple[str, int]]:
            found = conn.execute(
                "SELECT substr(created_at, 1, ?) AS bucket, COUNT(*) FROM events"
                " WHERE project_id = ? AND created_at >= ? GROUP BY bucket ORDER BY bucket",
                (width, project_id, since),
            )
            return [(str(r[0]), int(r[1])) for r in found]

        return await self._read(run)

    async def history(
        self, project_id: str, event_name: str, since: str, until: str, limit: int
    ) -> History:
        where = "project_id = ? AND type = ? AND created_at >= ? AND created_at < ?"
        params = (project_id, event_name, since, until)

        def run(conn: Conn) -> History:
            found = conn.execute(
                f"SELECT * FROM events WHERE {where} ORDER BY created_at, rowid LIMIT ?",
                (*params, limit),
            )
            events = tuple(rows.event(r) for r in found)
            customers = conn.execute(
                "SELECT * FROM customers WHERE id IN"
                f" (SELECT customer_id FROM events WHERE {where})",
                params,
            )
            return History(events, {c.id: c for c in map(rows.customer, customers)})

        return await self._read(run)
