"""Turn database rows (any mapping of column name to value) into records."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import orjson

from sendout.records import (
    Attempt,
    Channel,
    Customer,
    Distribution,
    Event,
    EventSchema,
    Project,
    PropertyDef,
)

__all__ = [
    "attempt",
    "channels_json",
    "customer",
    "distribution",
    "event",
    "event_schema",
    "from_json",
    "project",
    "properties_json",
    "to_json",
]


class Row(Protocol):
    """A row by column name: ``sqlite3.Row``, ``asyncpg.Record`` or a plain mapping."""

    def __getitem__(self, key: str, /) -> Any: ...


def to_json(value: Any) -> str:
    return orjson.dumps(value).decode("utf-8")


def from_json(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, dict | list):
        return value
    return orjson.loads(value)


def project(row: Row) -> Project:
    return Project(
        id=row["id"],
        name=row["name"],
        app_id=row["app_id"],
        app_token=row["app_token"],
        webhook_secret=row["webhook_secret"],
        created_at=row["created_at"],
    )


def customer(row: Row) -> Customer:
    return Customer(
        id=row["id"],
        project_id=row["project_id"],
        source_id=row["source_id"],
        name=row["name"],
        description=row["description"],
        email=row["email"],
        phone=row["phone"],
        birthdate=row["birthdate"],
        address=from_json(row["address"]),
        metadata=from_json(row["metadata"]) or {},
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def properties_json(properties: Mapping[str, PropertyDef]) -> str:
    return to_json(
        {
            name: {"type": p.type, "optional": p.optional, "deleted": p.deleted}
            for name, p in properties.items()
        }
    )


def event_schema(row: Row) -> EventSchema:
    raw: dict[str, dict[str, Any]] = from_json(row["properties"])
    return EventSchema(
        id=row["id"],
        project_id=row["project_id"],
        name=row["name"],
        properties={name: PropertyDef(**spec) for name, spec in raw.items()},
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def event(row: Row) -> Event:
    return Event(
        id=row["id"],
        project_id=row["project_id"],
        type=row["type"],
        customer_id=row["customer_id"],
        schema_id=row["schema_id"],
        metadata=from_json(row["metadata"]),
        referral=from_json(row["referral"]),
        loyalty=from_json(row["loyalty"]),
        request_id=row["request_id"],
        created_at=row["created_at"],
    )


def channels_json(channels: tuple[Channel, ...]) -> str:
    return to_json(
        [
            {"type": c.type, "event_name": c.event_name, "url": c.url, "headers": c.headers}
            for c in channels
        ]
    )


def distribution(row: Row) -> Distribution:
    return Distribution(
        id=row["id"],
        project_id=row["project_id"],
        name=row["name"],
        trigger_type=row["trigger_type"],
        trigger_event=row["trigger_event"],
        action=from_json(row["action"]),
        channels=tuple(Channel(**c) for c in from_json(row["channels"])),
        status=row["status"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def attempt(row: Row) -> Attempt:
    return Attempt(
        attempted_at=row["attempted_at"],
        status_code=row["status_code"],
        latency_ms=row["latency_ms"],
        error=row["error"],
        response_excerpt=row["response_excerpt"],
    )
