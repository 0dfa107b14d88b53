"""Customers on PostgreSQL: finding them by id or ``source_id``, upserting them under a row lock
(two events of one new customer create it once), applying fields."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sendout import ids
from sendout.errors import NotFound
from sendout.records import Customer, CustomerFields
from sendout.storage import rows
from sendout.storage.base import CustomerRef

if TYPE_CHECKING:
    from asyncpg import Record
    from asyncpg.pool import PoolConnectionProxy

    Conn = PoolConnectionProxy[Record]

__all__ = ["apply_fields", "find", "for_update", "require", "upsert"]


def for_update(lock: bool) -> str:
    return " FOR UPDATE" if lock else ""


async def find(conn: Conn, project_id: str, key: str, lock: bool) -> Customer | None:
    row = await conn.fetchrow(
        "SELECT * FROM customers WHERE project_id = $1 AND (id = $2 OR source_id = $2)"
        " ORDER BY (id = $2) DESC LIMIT 1" + for_update(lock),
        project_id,
        key,
    )
    return None if row is None else rows.customer(row)


async def require(conn: Conn, project_id: str, key: str, lock: bool = False) -> Customer:
    found = await find(conn, project_id, key, lock)
    if found is None:
        raise NotFound("customer", key)
    return found


async def _by(conn: Conn, project_id: str, column: str, value: str) -> Customer | None:
    # NO KEY UPDATE: events of one customer still take turns here, but batched tracking's
    # FOR KEY SHARE on the same row (it only needs the row to stay) does not wait for them.
    row = await conn.fetchrow(
        f"SELECT * FROM customers WHERE project_id = $1 AND {column} = $2 FOR NO KEY UPDATE",
        project_id,
        value,
    )
    return None if row is None else rows.customer(row)


async def upsert(
    conn: Conn, project_id: str, ref: CustomerRef, fields: CustomerFields, now: str
) -> Customer:
    current = None
    if ref.id is not None:
        current = await _by(conn, project_id, "id", ref.id)
    if current is None and ref.source_id is not None:
        current = await _by(conn, project_id, "source_id", ref.source_id)
    if current is None and ref.id is not None:
        raise NotFound("customer", ref.id)
    if current is None:
        current = await _insert(conn, project_id, ref.source_id, fields, now)
        if current is not None:
            return current
        # Another transaction inserted this source_id after our look-up: update that one.
        assert ref.source_id is not None
        current = await _by(conn, project_id, "source_id", ref.source_id)
        assert current is not None
    return await apply_fields(conn, current, fields, now)


async def _insert(
    conn: Conn, project_id: str, source_id: str | None, fields: CustomerFields, now: str
) -> Customer | None:
    row = await conn.fetchrow(
        "INSERT INTO customers (id, project_id, source_id, name, description, email, phone,"
        " birthdate, address, metadata, created_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        " ON CONFLICT (project_id, source_id) WHERE source_id IS NOT NULL DO NOTHING"
        " RETURNING *",
        ids.customer_id(),
        project_id,
        source_id,
        fields.name,
        fields.description,
        fields.email,
        fields.phone,
        fields.birthdate,
        rows.json_or_null(fields.address),
        rows.to_json(fields.metadata or {}),
        now,
    )
    return None if row is None else rows.customer(row)


async def apply_fields(conn: Conn, current: Customer, fields: CustomerFields, now: str) -> Customer:
    changes = {k: v for k, v in fields.present().items() if getattr(current, k) != v}
    if not changes:
        return current
    values = {k: rows.to_json(v) if k in ("address", "metadata") else v for k, v in changes.items()}
    assignments = ", ".join(f"{k} = ${i}" for i, k in enumerate(values, start=1))
    n = len(values)
    row = await conn.fetchrow(
        f"UPDATE customers SET {assignments}, updated_at = ${n + 1} WHERE id = ${n + 2}"
        " RETURNING *",
        *values.values(),
        now,
        current.id,
    )
    assert row is not None, "the customer is locked by this transaction"
    return rows.customer(row)
