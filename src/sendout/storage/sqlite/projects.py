"""Instance settings and projects on SQLite."""

from __future__ import annotations

from sendout.errors import NotFound
from sendout.records import Project
from sendout.storage import refusals, rows
from sendout.storage.sqlite.connection import SqliteConnection
from sendout.storage.sqlite.queries import Conn

__all__ = ["SqliteProjects"]


class SqliteProjects(SqliteConnection):
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

    async def put_setting_if_absent(self, key: str, value: str) -> str:
        def run(conn: Conn) -> str:
            conn.execute(
                "INSERT INTO instance_settings (key, value) VALUES (?, ?) ON CONFLICT DO NOTHING",
                (key, value),
            )
            row = conn.execute(
                "SELECT value FROM instance_settings WHERE key = ?", (key,)
            ).fetchone()
            return str(row[0])

        return await self._write(run)

    async def default_project(self) -> Project | None:
        return await self._read(_default_project)

    async def create_default_project(self, project: Project) -> Project:
        def run(conn: Conn) -> Project:
            conn.execute(
                "INSERT INTO projects (id, name, app_id, app_token, webhook_secret, is_default,"
                " created_at, description, timezone, currency)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                rows.project_values(project, is_default=True),
            )
            found = _default_project(conn)
            if found is None:
                raise refusals.app_id_taken(project.app_id)
            return found

        return await self._write(run)

    async def create_project(self, project: Project, *, is_default: bool) -> Project:
        def run(conn: Conn) -> Project:
            conn.execute(
                "INSERT INTO projects (id, name, app_id, app_token, webhook_secret, is_default,"
                " created_at, description, timezone, currency)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows.project_values(project, is_default),
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

    async def rotate_webhook_secret(
        self, project_id: str, new_secret: str, previous_expires_ms: int
    ) -> Project:
        def run(conn: Conn) -> Project:
            row = conn.execute(
                "UPDATE projects SET previous_webhook_secret = webhook_secret,"
                " previous_secret_expires_ms = ?, webhook_secret = ? WHERE id = ? RETURNING *",
                (previous_expires_ms, new_secret, project_id),
            ).fetchone()
            if row is None:
                raise NotFound("project", project_id)
            return rows.project(row)

        return await self._write(run)


def _default_project(conn: Conn) -> Project | None:
    row = conn.execute("SELECT * FROM projects WHERE is_default = 1").fetchone()
    return None if row is None else rows.project(row)
