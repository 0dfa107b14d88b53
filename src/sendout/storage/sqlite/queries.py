"""SQL fragments and paging shared by the SQLite modules."""

from __future__ import annotations

import sqlite3
from typing import Any, TypeVar

from sendout.records import Page

__all__ = ["Conn", "paged", "where_clause"]

Conn = sqlite3.Connection
R = TypeVar("R")


def where_clause(filters: dict[str, Any]) -> tuple[str, tuple[Any, ...]]:
    """``col = ?`` for every filter given; the column names are ours, never the caller's."""
    present = {k: v for k, v in filters.items() if v is not None}
    return " AND ".join(f"{k} = ?" for k in present), tuple(present.values())


def paged(
    conn: Conn, table: str, filters: dict[str, Any], order_by: str, page: Page
) -> tuple[list[sqlite3.Row], int]:
    """One page of ``table``'s rows whose columns equal ``filters`` (a ``None`` value is no
    filter), and how many match in all."""
    present = {k: v for k, v in filters.items() if v is not None}
    where = " AND ".join(f"{column} = ?" for column in present)
    params = tuple(present.values())
    total = conn.execute(f"SELECT COUNT(*) FROM {table} WHERE {where}", params).fetchone()[0]
    found = conn.execute(
        f"SELECT * FROM {table} WHERE {where} ORDER BY {order_by} LIMIT ? OFFSET ?",
        (*params, page.limit, page.offset),
    ).fetchall()
    return found, int(total)
