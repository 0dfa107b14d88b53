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
        return None if row is None else rows.project(row)

    async def create_default_project(self, project: Project) -> Project:
        async def run(conn: Conn) -> Project:
            await conn.execute(
                "INSERT INTO projects (id, name, app_id, app_token, webhook_secret, is_default,"
                " created_at, description, timezone, currency)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING",
                *rows.project_values(project, is_default=True),
            )
            row = await conn.fetchrow("SELECT * FROM projects WHERE is_default")
            if row is None:
                raise refusals.app_id_taken(project.app_id)
            return rows.project(row)

        return await self._one(run)

    async def create_project(self, project: Project, *, is_default: bool) -> Project:
        await self._fetchrow(
            "INSERT INTO projects (id, name, app_id, app_token, webhook_secret, is_default,"
            " created_at, description, timezone, currency)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            *rows.project_values(project, is_default),
        )
        return project

    async def update_project_credentials(
        self, project_id: str, *, app_id: str, app_token: str, webhook_secret: str
    ) -> Project:
        row = await self._fetchrow(
            "UPDATE projects SET app_id = $1, app_token = $2, webhook_secret = $3 WHERE id = $4"
            " RETURNING *",
            app_id,
            app_token,
            webhook_secret,
            project_id,
        )
        if row is None:
            raise NotFound("project", project_id)
        return rows.project(row)

    async def project_by_app_id(self, app_id: str) -> Project | None:
        row = await self._fetchrow("SELECT * FROM projects WHERE app_id = $1", app_id)
        return None if row is None else rows.project(row)

    async def get_project(self, project_id: str) -> Project:
        row = await self._fetchrow("SELECT * FROM projects WHERE id = $1", project_id)
        if row is None:
            raise NotFound("project", project_id)
        return rows.project(row)

    async def rotate_webhook_secret(
        self, project_id: str, new_secret: str, previous_expires_ms: int
    ) -> Project:
        row = await self._fetchrow(
            "UPDATE projects SET previous_webhook_secret = webhook_secret,"
            " previous_secret_expires_ms = $1, webhook_secret = $2 WHERE id = $3 RETURNING *",
            previous_expires_ms,
            new_secret,
            project_id,
        )
        if row is None:
            raise NotFound("project", project_id)
        return rows.project(row)

    async def list_projects(self) -> list[Project]:
        async with self._conn() as conn:
            found = await conn.fetch("SELECT * FROM projects ORDER BY created_at, id")
        return [rows.project(r) for r in found]
