"""Distributions and their channels' health on SQLite."""

from __future__ import annotations

from typing import Any

from sendout.errors import NotFound
from sendout.records import Distribution, Page
from sendout.storage import refusals, rows
from sendout.storage.sqlite.connection import SqliteConnection
from sendout.storage.sqlite.queries import Conn
from sendout.storage.sqlite.schemas import require_trigger_schema

__all__ = ["SqliteDistributions", "require_distribution", "with_states"]

_INSERT = (
    f"INSERT INTO distributions ({', '.join(rows.DISTRIBUTION_COLUMNS)})"
    f" VALUES ({', '.join('?' for _ in rows.DISTRIBUTION_COLUMNS)})"
)
_UPDATE = (
    f"UPDATE distributions SET {', '.join(f'{c} = ?' for c in rows.DISTRIBUTION_CHANGES)}"
    " WHERE id = ?"
)


class SqliteDistributions(SqliteConnection):
    async def create_distribution(self, distribution: Distribution) -> Distribution:
        def run(conn: Conn) -> Distribution:
            d = distribution
            require_trigger_schema(conn, d.project_id, d.trigger_event)
            conn.execute(_INSERT, rows.distribution_values(d))
            return d

        return await self._write(run)

    async def get_distribution(self, project_id: str, distribution_id: str) -> Distribution:
        return await self._read(require_distribution, project_id, distribution_id)

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
            return with_states(conn, found.fetchall()), int(total[0])

        return await self._read(run)

    async def replace_distribution(self, distribution: Distribution) -> Distribution:
        def run(conn: Conn) -> Distribution:
            d = distribution
            current = require_distribution(conn, d.project_id, d.id)
            if current.trigger_event != d.trigger_event:
                require_trigger_schema(conn, d.project_id, d.trigger_event)
            if current.channels != d.channels:
                conn.execute("DELETE FROM channel_states WHERE distribution_id = ?", (d.id,))
            conn.execute(_UPDATE, (*rows.distribution_changes(d), d.id))
            return d

        return await self._write(run)

    async def delete_distribution(self, project_id: str, distribution_id: str, now: str) -> None:
        def run(conn: Conn) -> None:
            require_distribution(conn, project_id, distribution_id)
            conn.execute(
                "UPDATE deliveries SET status = 'canceled' WHERE distribution_id = ?"
                " AND status = 'pending'",
                (distribution_id,),
            )
            conn.execute("DELETE FROM distributions WHERE id = ?", (distribution_id,))
            conn.execute("DELETE FROM channel_states WHERE distribution_id = ?", (distribution_id,))
            conn.execute(
                "DELETE FROM distribution_entries WHERE distribution_id = ?", (distribution_id,)
            )

        await self._write(run)

    async def resume_distribution(
        self, project_id: str, distribution_id: str, now: str, now_ms: int
    ) -> Distribution:
        def run(conn: Conn) -> Distribution:
            current = require_distribution(conn, project_id, distribution_id)
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
                "UPDATE deliveries SET next_attempt_at = ? WHERE distribution_id = ?"
                f" AND status = 'pending' AND next_attempt_at > ? AND {rows.NOT_HELD}",
                (now_ms, distribution_id, now_ms),
            )
            return require_distribution(conn, project_id, distribution_id)

        return await self._write(run)


def require_distribution(conn: Conn, project_id: str, distribution_id: str) -> Distribution:
    row = conn.execute(
        "SELECT * FROM distributions WHERE project_id = ? AND id = ?",
        (project_id, distribution_id),
    ).fetchone()
    if row is None:
        raise NotFound("distribution", distribution_id)
    return with_states(conn, [row])[0]


def with_states(conn: Conn, found: list[Any]) -> list[Distribution]:
    """Distributions with the health of each of their channels."""
    if not found:
        return []
    ids_ = [r["id"] for r in found]
    marks = ", ".join("?" for _ in ids_)
    states = conn.execute(f"SELECT * FROM channel_states WHERE distribution_id IN ({marks})", ids_)
    return rows.distributions_with_states(found, states)
