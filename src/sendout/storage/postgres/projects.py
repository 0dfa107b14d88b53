"""Instance settings and projects on PostgreSQL."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sendout.errors import NotFound
from sendout.records import Project
from sendout.storage import refusals, rows
from sendout.storage.postgres.connection import PostgresConnection

if TYPE_CHECKING:
    from sendout.storage.postgres.queries import Conn


__all__ = ["PostgresProjects"]


class PostgresProjects(PostgresConnection):
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
        return None if row is None else rows.project(row, self._sealer)

    async def create_default_project(self, project: Project) -> Project:
        async def run(conn: Conn) -> Project:
            await conn.execute(
                rows.PROJECT_INSERT.format(_MARKS) + " ON CONFLICT DO NOTHING",
                *rows.project_values(project, True, self._sealer),
            )
            row = await conn.fetchrow("SELECT * FROM projects WHERE is_default")
            if row is None:
                raise refusals.app_id_taken(project.app_id)
            return rows.project(row, self._sealer)

        return await self._one(run)

    async def create_project(self, project: Project, *, is_default: bool) -> Project:
        await self._fetchrow(
            rows.PROJECT_INSERT.format(_MARKS),
            *rows.project_values(project, is_default, self._sealer),
        )
        return project

    async def update_project_credentials(
        self, project_id: str, *, app_id: str, app_token_sha256: str, webhook_secret: str
    ) -> Project:
        return await self._update(
            "UPDATE projects SET app_id = $1, app_token_sha256 = $2, webhook_secret = $3"
            " WHERE id = $4 RETURNING *",
            app_id,
            app_token_sha256,
            self._sealer.seal(webhook_secret, project_id),
            project_id,
        )

    async def put_voucherify_secrets(
        self, project_id: str, current: str, staged: str | None
    ) -> Project:
        return await self._update(
            "UPDATE projects SET voucherify_secret = $1, staged_voucherify_secret = $2"
            " WHERE id = $3 RETURNING *",
            self._sealer.seal(current, project_id),
            self._sealer.seal_optional(staged, project_id),
            project_id,
        )

    async def project_by_app_id(self, app_id: str) -> Project | None:
        row = await self._fetchrow("SELECT * FROM projects WHERE app_id = $1", app_id)
        return None if row is None else rows.project(row, self._sealer)

    async def get_project(self, project_id: str) -> Project:
        row = await self._fetchrow("SELECT * FROM projects WHERE id = $1", project_id)
        if row is None:
            raise NotFound("project", project_id)
        return rows.project(row, self._sealer)

    async def rotate_webhook_secret(
        self, project_id: str, new_secret: str, previous_expires_ms: int
    ) -> Project:
        return await self._update(
            "UPDATE projects SET previous_webhook_secret = webhook_secret,"
            " previous_secret_expires_ms = $1, webhook_secret = $2 WHERE id = $3 RETURNING *",
            previous_expires_ms,
            self._sealer.seal(new_secret, project_id),
            project_id,
        )

    async def list_projects(self) -> list[Project]:
        async with self._conn() as conn:
            found = await conn.fetch("SELECT * FROM projects ORDER BY created_at, id")
        return [rows.project(r, self._sealer) for r in found]

    async def seal_stored_secrets(self) -> int:
        async with self._tx() as conn:
            sealed = 0
            for row in await conn.fetch("SELECT * FROM projects FOR UPDATE"):
                values = rows.resealed(row, self._sealer)
                if values is not None:
                    await conn.execute(_RESEAL, *values, row["id"])
                    sealed += 1
            return sealed

    async def _update(self, sql: str, *params: object) -> Project:
        """One ``UPDATE … WHERE id = $n RETURNING *`` of a project (its id is the last value)."""
        row = await self._fetchrow(sql, *params)
        if row is None:
            raise NotFound("project", str(params[-1]))
        return rows.project(row, self._sealer)


_MARKS = ", ".join(f"${n}" for n in range(1, 12))
_RESEAL = (
    "UPDATE projects SET "
    + ", ".join(f"{c} = ${n}" for n, c in enumerate(rows.SECRET_COLUMNS, 1))
    + f" WHERE id = ${len(rows.SECRET_COLUMNS) + 1}"
)
