"""Ordered delivery on SQLite: advancing order keys (see :mod:`sendout.outbox.ordering`).

The one writer connection runs every write in turn, so an advance needs no lock of its own.
"""

from __future__ import annotations

from collections.abc import Iterable

from sendout.outbox.ordering import OrderKey
from sendout.storage import rows
from sendout.storage.sqlite.queries import Conn

__all__ = ["advance"]

_ADVANCE = rows.advance_order_sql("?1", "?2", "?3", "?4", "rowid")


def advance(conn: Conn, keys: Iterable[OrderKey], now_ms: int) -> None:
    """Make each key's oldest held delivery due now, where none of the key is free."""
    conn.executemany(_ADVANCE, [(now_ms, d, c, k) for d, c, k in keys])
