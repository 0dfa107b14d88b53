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
        return await self._read(self._default_project)

    async def create_default_project(self, project: Project) -> Project:
        def run(conn: Conn) -> Project:
            conn.execute(
                rows.PROJECT_INSERT.format(_MARKS) + " ON CONFLICT DO NOTHING",
                rows.project_values(project, True, self._sealer),
            )
            found = self._default_project(conn)
            if found is None:
                raise refusals.app_id_taken(project.app_id)
            return found

        return await self._write(run)

    async def create_project(self, project: Project, *, is_default: bool) -> Project:
        def run(conn: Conn) -> Project:
            conn.execute(
                rows.PROJECT_INSERT.format(_MARKS),
                rows.project_values(project, is_default, self._sealer),
            )
            return project

        return await self._write(run)

    async def update_project_credentials(
        self, project_id: str, *, app_id: str, app_token_sha256: str, webhook_secret: str
    ) -> Project:
        sealed = self._sealer.seal(webhook_secret, project_id)
        return await self._update(
            "UPDATE projects SET app_id = ?, app_token_sha256 = ?, webhook_secret = ? WHERE id = ?"
            " RETURNING *",
            (app_id, app_token_sha256, sealed, project_id),
        )

    async def put_voucherify_secrets(
        self, project_id: str, current: str, staged: str | None
    ) -> Project:
        seal = self._sealer
        return await self._update(
            "UPDATE projects SET voucherify_secret = ?, staged_voucherify_secret = ? WHERE id = ?"
            " RETURNING *",
            (seal.seal(current, project_id), seal.seal_optional(staged, project_id), project_id),
        )

    async def project_by_app_id(self, app_id: str) -> Project | None:
        def run(conn: Conn) -> Project | None:
            row = conn.execute("SELECT * FROM projects WHERE app_id = ?", (app_id,)).fetchone()
            return None if row is None else rows.project(row, self._sealer)

        return await self._read(run)

    async def get_project(self, project_id: str) -> Project:
        def run(conn: Conn) -> Project:
            row = conn.execute("SELECT * FROM projects WHERE id = ?", (project_id,)).fetchone()
            if row is None:
                raise NotFound("project", project_id)
            return rows.project(row, self._sealer)

        return await self._read(run)

    async def list_projects(self) -> list[Project]:
        def run(conn: Conn) -> list[Project]:
            return [
                rows.project(r, self._sealer)
                for r in conn.execute("SELECT * FROM projects ORDER BY created_at, id")
            ]

        return await self._read(run)

    async def rotate_webhook_secret(
        self, project_id: str, new_secret: str, previous_expires_ms: int
    ) -> Project:
        return await self._update(
            "UPDATE projects SET previous_webhook_secret = webhook_secret,"
            " previous_secret_expires_ms = ?, webhook_secret = ? WHERE id = ? RETURNING *",
            (previous_expires_ms, self._sealer.seal(new_secret, project_id), project_id),
        )

    async def seal_stored_secrets(self) -> int:
        def run(conn: Conn) -> int:
            sealed = 0
            for row in conn.execute("SELECT * FROM projects").fetchall():
                values = rows.resealed(row, self._sealer)
                if values is not None:
                    conn.execute(_RESEAL, (*values, row["id"]))
                    sealed += 1
            return sealed

        return await self._write(run)

    async def _update(self, sql: str, params: tuple[object, ...]) -> Project:
        """One ``UPDATE … WHERE id = ? RETURNING *`` of a project (its id is the last value)."""

        def run(conn: Conn) -> Project:
            row = conn.execute(sql, params).fetchone()
            if row is None:
                raise NotFound("project", str(params[-1]))
            return rows.project(row, self._sealer)

        return await self._write(run)

    def _default_project(self, conn: Conn) -> Project | None:
        row = conn.execute("SELECT * FROM projects WHERE is_default = 1").fetchone()
        return None if row is None else rows.project(row, self._sealer)


_MARKS = ", ".join("?" * 11)
_RESEAL = (
    "UPDATE projects SET " + ", ".join(f"{c} = ?" for c in rows.SECRET_COLUMNS) + " WHERE id = ?"
)
