"""Customers on SQLite: finding them by id or ``source_id``, upserting them, applying fields."""

from __future__ import annotations

import sqlite3

from sendout import ids
from sendout.errors import NotFound
from sendout.records import Customer, CustomerFields
from sendout.storage import rows
from sendout.storage.base import CustomerRef

__all__ = ["apply_fields", "find", "require", "upsert"]

Conn = sqlite3.Connection


def find(conn: Conn, project_id: str, key: str) -> Customer | None:
    row = conn.execute(
        "SELECT * FROM customers WHERE project_id = ? AND (id = ? OR source_id = ?)"
        " ORDER BY id = ? DESC LIMIT 1",
        (project_id, key, key, key),
    ).fetchone()
    return None if row is None else rows.customer(row)


def require(conn: Conn, project_id: str, key: str) -> Customer:
    found = find(conn, project_id, key)
    if found is None:
        raise NotFound("customer", key)
    return found


def _by(conn: Conn, project_id: str, column: str, value: str) -> Customer | None:
    row = conn.execute(
        f"SELECT * FROM customers WHERE project_id = ? AND {column} = ?", (project_id, value)
    ).fetchone()
    return None if row is None else rows.customer(row)


def upsert(
    conn: Conn, project_id: str, ref: CustomerRef, fields: CustomerFields, now: str
) -> Customer:
    current = None
    if ref.id is not None:
        current = _by(conn, project_id, "id", ref.id)
    if current is None and ref.source_id is not None:
        current = _by(conn, project_id, "source_id", ref.source_id)
    if current is None and ref.id is not None:
        raise NotFound("customer", ref.id)
    if current is not None:
        return apply_fields(conn, current, fields, now)
    return _insert(conn, project_id, ref.source_id, fields, now)


def _insert(
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


def apply_fields(conn: Conn, current: Customer, fields: CustomerFields, now: str) -> Customer:
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
