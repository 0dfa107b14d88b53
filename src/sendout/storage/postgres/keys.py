"""Keys on PostgreSQL: advisory locks that serialize racing requests, and idempotency records."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sendout.storage import refusals
from sendout.storage.base import IdempotencyKey

if TYPE_CHECKING:
    from sendout.storage.postgres.queries import Conn


__all__ = ["idempotent_replay", "remember", "serialize"]


async def serialize(conn: Conn, *key: str) -> None:
    """Wait for any other transaction holding this key, then hold it until commit."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", "\x1f".join(key))


async def idempotent_replay(conn: Conn, project_id: str, key: IdempotencyKey) -> bytes | None:
    """The stored response of an earlier request with this key, if any (and the same body).

    Takes the key's advisory lock first: a concurrent request with the same key waits for this
    transaction and then replays its response, instead of doing the work a second time.
    """
    await serialize(conn, "idempotency", project_id, key.route, key.key)
    row = await conn.fetchrow(
        "SELECT request_hash, response, created_ms FROM idempotency_keys"
        " WHERE project_id = $1 AND route = $2 AND key = $3",
        project_id,
        key.route,
        key.key,
    )
    if row is None or row["created_ms"] < key.not_before_ms:
        return None
    if row["request_hash"] != key.request_hash:
        raise refusals.idempotency_key_reused(key.key)
    return bytes(row["response"])


async def remember(
    conn: Conn, project_id: str, key: IdempotencyKey, response: bytes, now_ms: int
) -> None:
    await conn.execute(
        "INSERT INTO idempotency_keys (project_id, route, key, request_hash, status_code,"
        " response, created_ms) VALUES ($1, $2, $3, $4, 200, $5, $6)"
        " ON CONFLICT (project_id, route, key) DO UPDATE SET request_hash = excluded.request_hash,"
        " response = excluded.response, created_ms = excluded.created_ms",
        project_id,
        key.route,
        key.key,
        key.request_hash,
        response,
        now_ms,
    )
