"""Custom event schemas on SQLite."""

from __future__ import annotations

import sqlite3

from sendout.errors import NotFound
from sendout.records import EventSchema, PropertyDef
from sendout.storage import refusals, rows
from sendout.storage.sqlite.connection import SqliteConnection
from sendout.storage.sqlite.queries import Conn

__all__ = ["SqliteSchemas", "require_schema", "require_trigger_schema"]


class SqliteSchemas(SqliteConnection):
    async def create_event_schema(
        self,
        project_id: str,
        schema_id: str,
        name: str,
        properties: dict[str, PropertyDef],
        now: str,
    ) -> EventSchema:
        def run(conn: Conn) -> EventSchema:
            try:
                row = conn.execute(
                    "INSERT INTO event_schemas (id, project_id, name, properties, created_at)"
                    " VALUES (?, ?, ?, ?, ?) RETURNING *",
                    (schema_id, project_id, name, rows.properties_json(properties), now),
                ).fetchone()
            except sqlite3.IntegrityError:
                raise refusals.duplicate_schema(name) from None
            return rows.event_schema(row)

        return await self._write(run)

    async def get_event_schema(self, project_id: str, schema_id: str) -> EventSchema:
        return await self._read(require_schema, project_id, schema_id)

    async def list_event_schemas(self, project_id: str) -> list[EventSchema]:
        def run(conn: Conn) -> list[EventSchema]:
            found = conn.execute(
                "SELECT * FROM event_schemas WHERE project_id = ? ORDER BY created_at, id",
                (project_id,),
            )
            return [rows.event_schema(r) for r in found]

        return await self._read(run)

    async def update_event_schema(
        self, project_id: str, schema_id: str, properties: dict[str, PropertyDef], now: str
    ) -> EventSchema:
        def run(conn: Conn) -> EventSchema:
            require_schema(conn, project_id, schema_id)
            row = conn.execute(
                "UPDATE event_schemas SET properties = ?, updated_at = ? WHERE id = ? RETURNING *",
                (rows.properties_json(properties), now, schema_id),
            ).fetchone()
            return rows.event_schema(row)

        return await self._write(run)

    async def delete_event_schema(self, project_id: str, schema_id: str) -> None:
        def run(conn: Conn) -> None:
            schema = require_schema(conn, project_id, schema_id)
            used = conn.execute(
                "SELECT id FROM distributions WHERE project_id = ? AND trigger_event = ? LIMIT 1",
                (project_id, schema.name),
            ).fetchone()
            if used is not None:
                raise refusals.in_use(
                    f"Custom event schema '{schema.name}'",
                    "custom_event_schema",
                    schema_id,
                    used[0],
                )
            conn.execute("DELETE FROM event_schemas WHERE id = ?", (schema_id,))

        await self._write(run)

    async def event_schema_exists(self, project_id: str, name: str) -> bool:
        def run(conn: Conn) -> bool:
            row = conn.execute(
                "SELECT 1 FROM event_schemas WHERE project_id = ? AND name = ?", (project_id, name)
            ).fetchone()
            return row is not None

        return await self._read(run)


def require_schema(conn: Conn, project_id: str, schema_id: str) -> EventSchema:
    row = conn.execute(
        "SELECT * FROM event_schemas WHERE project_id = ? AND id = ?", (project_id, schema_id)
    ).fetchone()
    if row is None:
        raise NotFound("custom_event_schema", schema_id)
    return rows.event_schema(row)


def require_trigger_schema(conn: Conn, project_id: str, name: str) -> None:
    found = conn.execute(
        "SELECT 1 FROM event_schemas WHERE project_id = ? AND name = ?", (project_id, name)
    ).fetchone()
    if found is None:
        raise refusals.unknown_trigger_event(name)
