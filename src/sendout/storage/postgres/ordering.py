"""Ordered delivery on PostgreSQL: advancing order keys (see :mod:`sendout.outbox.ordering`).

Two transactions advancing one key at once could each see the other's change too late and leave
a key with nothing free and something held, for ever. So every write that stores, finishes or
sends again an ordered delivery first takes its keys' advisory locks, in one order (by lock id),
and holds them until it commits; the advance then sees what the others committed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from sendout.outbox.ordering import OrderKey, lock_name
from sendout.storage import rows

if TYPE_CHECKING:
    from sendout.storage.postgres.queries import Conn

__all__ = ["advance", "lock"]

_ADVANCE = rows.advance_order_sql("$1", "$2", "$3", "$4", "seq")

# Sorted by lock id, not by name: two names with one hash then still cannot deadlock.
_LOCK = """
SELECT pg_advisory_xact_lock(h) FROM (
    SELECT DISTINCT hashtextextended(n, 0) AS h FROM unnest($1::text[]) AS n ORDER BY h
) AS ids
"""


async def lock(conn: Conn, keys: Sequence[OrderKey]) -> None:
    """Hold these keys until the transaction ends (waiting for any other holder first)."""
    if keys:
        await conn.execute(_LOCK, ["\x1f".join(lock_name(k)) for k in keys])


async def advance(conn: Conn, keys: Sequence[OrderKey], now_ms: int) -> None:
    """Make each key's oldest held delivery due now, where none of the key is free. The keys
    must be locked (:func:`lock`) in this transaction."""
    if keys:
        await conn.executemany(_ADVANCE, [(now_ms, d, c, k) for d, c, k in keys])
