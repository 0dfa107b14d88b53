"""Async actions on PostgreSQL: storing them, a worker's claim and lease (``SKIP LOCKED``, so
two workers never take the same one), and each step's write."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from sendout.errors import NotFound
from sendout.records import AsyncAction, Page
from sendout.storage import rows
from sendout.storage.base import ActionStep
from sendout.storage.postgres.codes import generate_into
from sendout.storage.postgres.connection import PostgresConnection
from sendout.storage.postgres.queries import Where, paged

if TYPE_CHECKING:
    from sendout.storage.postgres.queries import Conn

__all__ = ["PostgresAsyncActions"]

_MARKS = ", ".join(f"${n}" for n in range(1, 15))
_CLAIM = """
UPDATE async_actions SET status = 'IN_PROGRESS', lease_until_ms = $1 WHERE id = (
    SELECT id FROM async_actions
    WHERE status = 'ENQUEUED' OR (status = 'IN_PROGRESS' AND lease_until_ms < $2)
    ORDER BY created_at, id LIMIT 1 FOR UPDATE SKIP LOCKED
) RETURNING *
"""


class PostgresAsyncActions(PostgresConnection):
    async def create_async_action(self, action: AsyncAction) -> None:
        async def run(conn: Conn) -> None:
            await conn.execute(
                rows.ASYNC_ACTION_INSERT.format(_MARKS), *rows.async_action_values(action)
            )

        await self._one(run)

    async def get_async_action(self, project_id: str, action_id: str) -> AsyncAction:
        row = await self._fetchrow(
            "SELECT * FROM async_actions WHERE project_id = $1 AND id = $2", project_id, action_id
        )
        if row is None:
            raise NotFound("async_action", action_id)
        return rows.async_action(row)

    async def list_async_actions(
        self, project_id: str, page: Page
    ) -> tuple[list[AsyncAction], int]:
        async def run(conn: Conn) -> tuple[list[AsyncAction], int]:
            where = Where().add("project_id = ?", project_id)
            found, total = await paged(
                conn, "async_actions", where, "created_at DESC, id DESC", page
            )
            return [rows.async_action(r) for r in found], total

        return await self._read(run)

    async def claim_async_action(self, now_ms: int, lease_ms: int) -> AsyncAction | None:
        row = await self._fetchrow(_CLAIM, now_ms + lease_ms, now_ms)
        return None if row is None else rows.async_action(row)

    async def advance_async_action(self, step: ActionStep) -> AsyncAction | None:
        action = step.action

        async def run(conn: Conn) -> AsyncAction | None:
            held = await conn.fetchval(
                "SELECT 1 FROM async_actions WHERE id = $1 AND status = 'IN_PROGRESS'"
                " AND lease_until_ms = $2 FOR UPDATE",
                action.id,
                action.lease_until_ms,
            )
            if held is None:
                return None
            added = 0
            if step.generate and action.campaign_id is not None:
                config = action.params.get("code_config")
                _, added = await generate_into(
                    conn, action.project_id, action.campaign_id, step.generate, config, step.now
                )
            row = await conn.fetchrow(
                "UPDATE async_actions SET done = done + $1, status = $2, result = $3,"
                " updated_at = $4, lease_until_ms = $5, processing_ms = $6 WHERE id = $7"
                " RETURNING *",
                added,
                step.status,
                None if step.result is None else rows.to_json(step.result),
                step.now,
                step.lease_until_ms,
                step.processing_ms,
                action.id,
            )
            assert row is not None, "the row was locked above"
            return rows.async_action(row)

        return await self._write(run)

    async def generating_campaigns(self, project_id: str, campaign_ids: Sequence[str]) -> set[str]:
        if not campaign_ids:
            return set()

        async def run(conn: Conn) -> set[str]:
            found = await conn.fetch(
                "SELECT DISTINCT campaign_id FROM async_actions WHERE project_id = $1"
                " AND campaign_id = ANY($2::text[]) AND type = 'CAMPAIGN.VOUCHERS_GENERATE'"
                " AND status IN ('ENQUEUED', 'IN_PROGRESS')",
                project_id,
                list(campaign_ids),
            )
            return {r[0] for r in found}

        return await self._one(run)
