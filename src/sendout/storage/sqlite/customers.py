"""Customers on SQLite: finding them by id or ``source_id``, upserting, listing."""

from __future__ import annotations

from sendout import ids
from sendout.errors import NotFound
from sendout.records import Customer, CustomerFields, Page
from sendout.storage import rows
from sendout.storage.base import CustomerRef
from sendout.storage.sqlite.connection import SqliteConnection
from sendout.storage.sqlite.queries import Conn, where_clause

__all__ = [
    "SqliteCustomers",
    "apply_customer_fields",
    "find_customer",
    "require_customer",
    "upsert_customer",
]


class SqliteCustomers(SqliteConnection):
    async def upsert_customer(
        self, project_id: str, ref: CustomerRef, fields: CustomerFields, now: str
    ) -> Customer:
        return await self._write(upsert_customer, project_id, ref, fields, now)

    async def get_customer(self, project_id: str, id_or_source_id: str) -> Customer:
        return await self._read(require_customer, project_id, id_or_source_id)

    async def update_customer(
        self, project_id: str, id_or_source_id: str, fields: CustomerFields, now: str
    ) -> Customer:
        def run(conn: Conn) -> Customer:
            current = require_customer(conn, project_id, id_or_source_id)
            return apply_customer_fields(conn, current, fields, now)

        return await self._write(run)

    async def delete_customer(self, project_id: str, id_or_source_id: str) -> None:
        def run(conn: Conn) -> None:
            current = require_customer(conn, project_id, id_or_source_id)
            conn.execute("DELETE FROM customers WHERE id = ?", (current.id,))
            conn.execute("DELETE FROM distribution_entries WHERE customer_id = ?", (current.id,))

        await self._write(run)

    async def list_customers(
        self, project_id: str, page: Page, *, email: str | None, name: str | None, order: str
    ) -> tuple[list[Customer], int]:
        where, params = where_clause({"project_id": project_id, "email": email, "name": name})
        order_by = _CUSTOMER_ORDERS[order]

        def run(conn: Conn) -> tuple[list[Customer], int]:
            total = conn.execute(f"SELECT COUNT(*) FROM customers WHERE {where}", params).fetchone()
            found = conn.execute(
                f"SELECT * FROM customers WHERE {where} ORDER BY {order_by}, id LIMIT ? OFFSET ?",
                (*params, page.limit, page.offset),
            )
            return [rows.customer(r) for r in found], int(total[0])

        return await self._read(run)


_CUSTOMER_ORDERS = {
    "created_at": "created_at ASC",
    "-created_at": "created_at DESC",
    "updated_at": "updated_at ASC",
    "-updated_at": "updated_at DESC",
    "source_id": "source_id ASC",
    "-source_id": "source_id DESC",
}


def find_customer(conn: Conn, project_id: str, key: str) -> Customer | None:
    row = conn.execute(
        "SELECT * FROM customers WHERE project_id = ? AND (id = ? OR source_id = ?)"
        " ORDER BY id = ? DESC LIMIT 1",
        (project_id, key, key, key),
    ).fetchone()
    return None if row is None else rows.customer(row)


def require_customer(conn: Conn, project_id: str, key: str) -> Customer:
    found = find_customer(conn, project_id, key)
    if found is None:
        raise NotFound("customer", key)
    return found


def _customer_by(conn: Conn, project_id: str, column: str, value: str) -> Customer | None:
    row = conn.execute(
        f"SELECT * FROM customers WHERE project_id = ? AND {column} = ?", (project_id, value)
    ).fetchone()
    return None if row is None else rows.customer(row)


def upsert_customer(
    conn: Conn, project_id: str, ref: CustomerRef, fields: CustomerFields, now: str
) -> Customer:
    current = None
    if ref.id is not None:
        current = _customer_by(conn, project_id, "id", ref.id)
    if current is None and ref.source_id is not None:
        current = _customer_by(conn, project_id, "source_id", ref.source_id)
    if current is None and ref.id is not None:
        raise NotFound("customer", ref.id)
    if current is not None:
        return apply_customer_fields(conn, current, fields, now)
    return _insert_customer(conn, project_id, ref.source_id, fields, now)


def _insert_customer(
    conn: Conn, project_id: str, source_id: str | None, fields: CustomerFields, now: str
) -> Customer:
    row = conn.execute(
        "INSERT INTO customers (id, project_id, source_id, name, description, email, phone,"
        " birthdate, address, metadata, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " RETURNING *",
        (
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
        ),
    ).fetchone()
    return rows.customer(row)


def apply_customer_fields(
    conn: Conn, current: Customer, fields: CustomerFields, now: str
) -> Customer:
    changes = {k: v for k, v in fields.present().items() if getattr(current, k) != v}
    if not changes:
        return current
    values = {k: rows.to_json(v) if k in ("address", "metadata") else v for k, v in changes.items()}
    assignments = ", ".join(f"{k} = ?" for k in values)
    row = conn.execute(
        f"UPDATE customers SET {assignments}, updated_at = ? WHERE id = ? RETURNING *",
        (*values.values(), now, current.id),
    ).fetchone()
    return rows.customer(row)
