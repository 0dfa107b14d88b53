"""Distributions and their channels' health on PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from sendout.errors import NotFound
from sendout.records import Distribution, Page
from sendout.storage import refusals, rows
from sendout.storage.postgres.connection import PostgresConnection
from sendout.storage.postgres.customers import for_update
from sendout.storage.postgres.queries import Record
from sendout.storage.postgres.schemas import require_trigger_schema

if TYPE_CHECKING:
    from sendout.storage.postgres.queries import Conn


__all__ = [
    "PostgresDistributions",
    "insert_distribution",
    "require_distribution",
    "resume",
    "with_states",
]

_INSERT = (
    f"INSERT INTO distributions ({', '.join(rows.DISTRIBUTION_COLUMNS)})"
    f" VALUES ({', '.join(f'${i}' for i, _ in enumerate(rows.DISTRIBUTION_COLUMNS, 1))})"
)
_N = len(rows.DISTRIBUTION_CHANGES)
_UPDATE = (
    "UPDATE distributions SET "
    + ", ".join(f"{c} = ${i}" for i, c in enumerate(rows.DISTRIBUTION_CHANGES, 1))
    + f" WHERE project_id = ${_N + 1} AND id = ${_N + 2} RETURNING id"
)


class PostgresDistributions(PostgresConnection):
    async def create_distribution(self, distribution: Distribution) -> Distribution:
        await self._write(insert_distribution, distribution)
        return distribution

    async def get_distribution(self, project_id: str, distribution_id: str) -> Distribution:
        return await self._read(require_distribution, project_id, distribution_id)

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
            return await with_states(conn, found), int(total)

        return await self._read(run)

    async def replace_distribution(self, distribution: Distribution) -> Distribution:
        d = distribution
        async with self._tx() as conn:
            current = await require_distribution(conn, d.project_id, d.id, lock=True)
            if current.trigger_event != d.trigger_event:
                await require_trigger_schema(conn, d.project_id, d.trigger_event)
            if current.channels != d.channels:
                await conn.execute("DELETE FROM channel_states WHERE distribution_id = $1", d.id)
            updated = await conn.fetchval(
                _UPDATE, *rows.distribution_changes(d), d.project_id, d.id
            )
            if updated is None:
                raise NotFound("distribution", d.id)
        if d.status == "ACTIVE":  # a resumed distribution may have deliveries waiting
            self._poke_workers()
        return d

    async def delete_distribution(self, project_id: str, distribution_id: str, now: str) -> None:
        async def run(conn: Conn) -> None:
            await require_distribution(conn, project_id, distribution_id, lock=True)
            await conn.execute(
                "UPDATE deliveries SET status = 'canceled' WHERE distribution_id = $1"
                " AND status = 'pending'",
                distribution_id,
            )
            await conn.execute("DELETE FROM distributions WHERE id = $1", distribution_id)
            await conn.execute(
                "DELETE FROM channel_states WHERE distribution_id = $1", distribution_id
            )
            await conn.execute(
                "DELETE FROM distribution_entries WHERE distribution_id = $1", distribution_id
            )

        await self._write(run)

    async def resume_distribution(
        self, project_id: str, distribution_id: str, now: str, now_ms: int
    ) -> Distribution:
        resumed = await self._write(resume, project_id, distribution_id, now, now_ms)
        self._poke_workers()
        return resumed


async def insert_distribution(conn: Conn, d: Distribution) -> None:
    await require_trigger_schema(conn, d.project_id, d.trigger_event)
    await conn.execute(_INSERT, *rows.distribution_values(d))


async def require_distribution(
    conn: Conn, project_id: str, distribution_id: str, lock: bool = False
) -> Distribution:
    row = await conn.fetchrow(
        "SELECT * FROM distributions WHERE project_id = $1 AND id = $2" + for_update(lock),
        project_id,
        distribution_id,
    )
    if row is None:
        raise NotFound("distribution", distribution_id)
    return (await with_states(conn, [row]))[0]


async def with_states(conn: Conn, found: Sequence[Record]) -> list[Distribution]:
    """Distributions with the health of each of their channels."""
    if not found:
        return []
    states = await conn.fetch(
        "SELECT * FROM channel_states WHERE distribution_id = ANY($1::text[])",
        [r["id"] for r in found],
    )
    return rows.distributions_with_states(found, states)


async def resume(
    conn: Conn, project_id: str, distribution_id: str, now: str, now_ms: int
) -> Distribution:
    current = await require_distribution(conn, project_id, distribution_id, lock=True)
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
        "UPDATE deliveries SET next_attempt_at = $1 WHERE distribution_id = $2"
        f" AND status = 'pending' AND next_attempt_at > $1 AND {rows.NOT_HELD}",
        now_ms,
        distribution_id,
    )
    return await require_distribution(conn, project_id, distribution_id)
