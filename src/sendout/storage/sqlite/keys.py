"""Idempotency records on SQLite: the stored answer of a request sent again with its key."""

from __future__ import annotations

from sendout.storage import refusals
from sendout.storage.base import IdempotencyKey
from sendout.storage.sqlite.queries import Conn

__all__ = ["idempotent_replay", "remember"]


def idempotent_replay(conn: Conn, project_id: str, key: IdempotencyKey) -> bytes | None:
    row = conn.execute(
        "SELECT request_hash, response, created_ms FROM idempotency_keys"
        " WHERE project_id = ? AND route = ? AND key = ?",
        (project_id, key.route, key.key),
    ).fetchone()
    if row is None or row["created_ms"] < key.not_before_ms:
        return None
    if row["request_hash"] != key.request_hash:
        raise refusals.idempotency_key_reused(key.key)
    return bytes(row["response"])


def remember(
    conn: Conn, project_id: str, key: IdempotencyKey, response: bytes, now_ms: int
) -> None:
    conn.execute(
        "INSERT INTO idempotency_keys (project_id, route, key, request_hash, status_code,"
        " response, created_ms) VALUES (?, ?, ?, ?, 200, ?, ?)"
        " ON CONFLICT (project_id, route, key) DO UPDATE SET request_hash = excluded.request_hash,"
        " response = excluded.response, created_ms = excluded.created_ms",
        (project_id, key.route, key.key, key.request_hash, response, now_ms),
    )
