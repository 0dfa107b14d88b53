"""Customers on PostgreSQL: finding them by id or ``source_id``, upserting them under a row lock
(two events of one new customer create it once), applying fields, listing."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sendout import ids
from sendout.errors import NotFound
from sendout.records import Customer, CustomerFields, Page
from sendout.storage import rows
from sendout.storage.base import CustomerRef
from sendout.storage.postgres.connection import PostgresConnection
from sendout.storage.postgres.queries import where_clause

if TYPE_CHECKING:
    from sendout.storage.postgres.queries import Conn


__all__ = [
    "PostgresCustomers",
    "apply_customer_fields",
    "find_customer",
    "for_update",
    "require_customer",
    "upsert_customer",
]


class PostgresCustomers(PostgresConnection):
    async def upsert_customer(
        self, project_id: str, ref: CustomerRef, fields: CustomerFields, now: str
    ) -> Customer:
        return await self._write(upsert_customer, project_id, ref, fields, now)

    async def get_customer(self, project_id: str, id_or_source_id: str) -> Customer:
        return await self._one(require_customer, project_id, id_or_source_id)

    async def update_customer(
        self, project_id: str, id_or_source_id: str, fields: CustomerFields, now: str
    ) -> Customer:
        async def run(conn: Conn) -> Customer:
            current = await require_customer(conn, project_id, id_or_source_id, lock=True)
            return await apply_customer_fields(conn, current, fields, now)

        return await self._write(run)

    async def delete_customer(self, project_id: str, id_or_source_id: str) -> None:
        async def run(conn: Conn) -> None:
            current = await require_customer(conn, project_id, id_or_source_id, lock=True)
            await conn.execute("DELETE FROM customers WHERE id = $1", current.id)
            await conn.execute(
                "DELETE FROM distribution_entries WHERE customer_id = $1", current.id
            )

        await self._write(run)

    async def list_customers(
        self, project_id: str, page: Page, *, email: str | None, name: str | None, order: str
    ) -> tuple[list[Customer], int]:
        where, params = where_clause({"project_id": project_id, "email": email, "name": name})
        order_by = _CUSTOMER_ORDERS[order]
        n = len(params)

        async def run(conn: Conn) -> tuple[list[Customer], int]:
            total = await conn.fetchval(f"SELECT COUNT(*) FROM customers WHERE {where}", *params)
            found = await conn.fetch(
                f"SELECT * FROM customers WHERE {where} ORDER BY {order_by}, id"
                f" LIMIT ${n + 1} OFFSET ${n + 2}",
                *params,
                page.limit,
                page.offset,
            )
            return [rows.customer(r) for r in found], int(total)

        return await self._read(run)


# SQLite sorts NULL first ascending and last descending; PostgreSQL the other way round.
_CUSTOMER_ORDERS = {
    "created_at": "created_at ASC",
    "-created_at": "created_at DESC",
    "updated_at": "updated_at ASC NULLS FIRST",
    "-updated_at": "updated_at DESC NULLS LAST",
    "source_id": "source_id ASC NULLS FIRST",
    "-source_id": "source_id DESC NULLS LAST",
}


def for_update(lock: bool) -> str:
    return " FOR UPDATE" if lock else ""


async def find_customer(conn: Conn, project_id: str, key: str, lock: bool) -> Customer | None:
    row = await conn.fetchrow(
        "SELECT * FROM customers WHERE project_id = $1 AND (id = $2 OR source_id = $2)"
        " ORDER BY (id = $2) DESC LIMIT 1" + for_update(lock),
        project_id,
        key,
    )
    return None if row is None else rows.customer(row)


async def require_customer(conn: Conn, project_id: str, key: str, lock: bool = False) -> Customer:
    found = await find_customer(conn, project_id, key, lock)
    if found is None:
        raise NotFound("customer", key)
    return found


async def _customer_by(conn: Conn, project_id: str, column: str, value: str) -> Customer | None:
    # NO KEY UPDATE: events of one customer still take turns here, but batched tracking's
    # FOR KEY SHARE on the same row (it only needs the row to stay) does not wait for them.
    row = await conn.fetchrow(
        f"SELECT * FROM customers WHERE project_id = $1 AND {column} = $2 FOR NO KEY UPDATE",
        project_id,
        value,
    )
    return None if row is None else rows.customer(row)


async def upsert_customer(
    conn: Conn, project_id: str, ref: CustomerRef, fields: CustomerFields, now: str
) -> Customer:
    current = None
    if ref.id is not None:
        current = await _customer_by(conn, project_id, "id", ref.id)
    if current is None and ref.source_id is not None:
        current = await _customer_by(conn, project_id, "source_id", ref.source_id)
    if current is None and ref.id is not None:
        raise NotFound("customer", ref.id)
    if current is None:
        current = await _insert_customer(conn, project_id, ref.source_id, fields, now)
        if current is not None:
            return current
        # Another transaction inserted this source_id after our look-up: update that one.
        assert ref.source_id is not None
        current = await _customer_by(conn, project_id, "source_id", ref.source_id)
        assert current is not None
    return await apply_customer_fields(conn, current, fields, now)


async def _insert_customer(
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


async def apply_customer_fields(
    conn: Conn, current: Customer, fields: CustomerFields, now: str
) -> Customer:
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
