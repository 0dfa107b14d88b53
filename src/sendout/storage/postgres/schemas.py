"""Custom event schemas on PostgreSQL."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sendout.errors import NotFound
from sendout.records import EventSchema, PropertyDef
from sendout.storage import refusals, rows
from sendout.storage.postgres.connection import PostgresConnection
from sendout.storage.postgres.customers import for_update

if TYPE_CHECKING:
    from sendout.storage.postgres.queries import Conn


__all__ = ["PostgresSchemas", "require_schema", "require_trigger_schema"]


class PostgresSchemas(PostgresConnection):
    async def create_event_schema(
        self,
        project_id: str,
        schema_id: str,
        name: str,
        properties: dict[str, PropertyDef],
        now: str,
    ) -> EventSchema:
        row = await self._fetchrow(
            "INSERT INTO event_schemas (id, project_id, name, properties, created_at)"
            " VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING *",
            schema_id,
            project_id,
            name,
            rows.properties_json(properties),
            now,
        )
        if row is None:
            raise refusals.duplicate_schema(name)
        return rows.event_schema(row)

    async def get_event_schema(self, project_id: str, schema_id: str) -> EventSchema:
        return await self._one(require_schema, project_id, schema_id)

    async def list_event_schemas(self, project_id: str) -> list[EventSchema]:
        async with self._conn() as conn:
            found = await conn.fetch(
                "SELECT * FROM event_schemas WHERE project_id = $1 ORDER BY created_at, id",
                project_id,
            )
        return [rows.event_schema(r) for r in found]

    async def update_event_schema(
        self, project_id: str, schema_id: str, properties: dict[str, PropertyDef], now: str
    ) -> EventSchema:
        row = await self._fetchrow(
            "UPDATE event_schemas SET properties = $1, updated_at = $2"
            " WHERE project_id = $3 AND id = $4 RETURNING *",
            rows.properties_json(properties),
            now,
            project_id,
            schema_id,
        )
        if row is None:
            raise NotFound("custom_event_schema", schema_id)
        return rows.event_schema(row)

    async def delete_event_schema(self, project_id: str, schema_id: str) -> None:
        async def run(conn: Conn) -> None:
            schema = await require_schema(conn, project_id, schema_id, lock=True)
            used = await conn.fetchval(
                "SELECT id FROM distributions WHERE project_id = $1 AND trigger_event = $2 LIMIT 1",
                project_id,
                schema.name,
            )
            if used is not None:
                raise refusals.in_use(
                    f"Custom event schema '{schema.name}'", "custom_event_schema", schema_id, used
                )
            await conn.execute("DELETE FROM event_schemas WHERE id = $1", schema_id)

        await self._write(run)

    async def event_schema_exists(self, project_id: str, name: str) -> bool:
        row = await self._fetchrow(
            "SELECT 1 FROM event_schemas WHERE project_id = $1 AND name = $2", project_id, name
        )
        return row is not None


async def require_trigger_schema(conn: Conn, project_id: str, name: str) -> None:
    """Held (``FOR KEY SHARE``) until commit: deleting the schema waits, then sees the
    distribution that uses it and refuses; a schema deleted first is refused here."""
    found = await conn.fetchval(
        "SELECT 1 FROM event_schemas WHERE project_id = $1 AND name = $2 FOR KEY SHARE",
        project_id,
        name,
    )
    if found is None:
        raise refusals.unknown_trigger_event(name)


async def require_schema(
    conn: Conn, project_id: str, schema_id: str, lock: bool = False
) -> EventSchema:
    row = await conn.fetchrow(
        "SELECT * FROM event_schemas WHERE project_id = $1 AND id = $2" + for_update(lock),
        project_id,
        schema_id,
    )
    if row is None:
        raise NotFound("custom_event_schema", schema_id)
    return rows.event_schema(row)
