"""Async actions on SQLite: storing them, a worker's claim and lease, and each step's write."""

from __future__ import annotations

from collections.abc import Sequence

from sendout.errors import NotFound
from sendout.records import AsyncAction, Page
from sendout.storage import rows
from sendout.storage.base import ActionStep
from sendout.storage.sqlite.codes import generate_into
from sendout.storage.sqlite.connection import SqliteConnection
from sendout.storage.sqlite.queries import Conn, paged

__all__ = ["SqliteAsyncActions"]

_MARKS = ", ".join("?" * 14)
_OPEN = "status = 'ENQUEUED' OR (status = 'IN_PROGRESS' AND lease_until_ms < ?)"


class SqliteAsyncActions(SqliteConnection):
    async def create_async_action(self, action: AsyncAction) -> None:
        def run(conn: Conn) -> None:
            conn.execute(rows.ASYNC_ACTION_INSERT.format(_MARKS), rows.async_action_values(action))

        await self._write(run)

    async def get_async_action(self, project_id: str, action_id: str) -> AsyncAction:
        def run(conn: Conn) -> AsyncAction:
            row = conn.execute(
                "SELECT * FROM async_actions WHERE project_id = ? AND id = ?",
                (project_id, action_id),
            ).fetchone()
            if row is None:
                raise NotFound("async_action", action_id)
            return rows.async_action(row)

        return await self._read(run)

    async def list_async_actions(
        self, project_id: str, page: Page
    ) -> tuple[list[AsyncAction], int]:
        def run(conn: Conn) -> tuple[list[AsyncAction], int]:
            found, total = paged(
                conn, "async_actions", {"project_id": project_id}, "created_at DESC, id DESC", page
            )
            return [rows.async_action(r) for r in found], total

        return await self._read(run)

    async def claim_async_action(self, now_ms: int, lease_ms: int) -> AsyncAction | None:
        def run(conn: Conn) -> AsyncAction | None:
            row = conn.execute(
                "UPDATE async_actions SET status = 'IN_PROGRESS', lease_until_ms = ? WHERE id = ("
                f" SELECT id FROM async_actions WHERE {_OPEN} ORDER BY created_at, id LIMIT 1"
                ") RETURNING *",
                (now_ms + lease_ms, now_ms),
            ).fetchone()
            return None if row is None else rows.async_action(row)

        return await self._write(run)

    async def advance_async_action(self, step: ActionStep) -> AsyncAction | None:
        action = step.action

        def run(conn: Conn) -> AsyncAction | None:
            held = conn.execute(
                "SELECT 1 FROM async_actions WHERE id = ? AND status = 'IN_PROGRESS'"
                " AND lease_until_ms = ?",
                (action.id, action.lease_until_ms),
            ).fetchone()
            if held is None:
                return None
            added = 0
            if step.generate and action.campaign_id is not None:
                config = action.params.get("code_config")
                _, added = generate_into(
                    conn, action.project_id, action.campaign_id, step.generate, config, step.now
                )
            row = conn.execute(
                "UPDATE async_actions SET done = done + ?, status = ?, result = ?,"
                " updated_at = ?, lease_until_ms = ?, processing_ms = ? WHERE id = ? RETURNING *",
                (
                    added,
                    step.status,
                    None if step.result is None else rows.to_json(step.result),
                    step.now,
                    step.lease_until_ms,
                    step.processing_ms,
                    action.id,
                ),
            ).fetchone()
            return rows.async_action(row)

        return await self._write(run)

    async def generating_campaigns(self, project_id: str, campaign_ids: Sequence[str]) -> set[str]:
        if not campaign_ids:
            return set()
        marks = ", ".join("?" * len(campaign_ids))

        def run(conn: Conn) -> set[str]:
            found = conn.execute(
                "SELECT DISTINCT campaign_id FROM async_actions WHERE project_id = ?"
                f" AND campaign_id IN ({marks}) AND type = 'CAMPAIGN.VOUCHERS_GENERATE'"
                " AND status IN ('ENQUEUED', 'IN_PROGRESS')",
                (project_id, *campaign_ids),
            )
            return {r[0] for r in found}

        return await self._read(run)
