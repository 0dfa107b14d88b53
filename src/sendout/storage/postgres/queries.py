"""SQL helpers shared by the PostgreSQL modules: filters, paging, statement status."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import asyncpg

from sendout.records import Page

Record = asyncpg.Record
if TYPE_CHECKING:
    from asyncpg.pool import PoolConnectionProxy

    Conn = PoolConnectionProxy[Record]

__all__ = ["Where", "affected", "execute", "inserted_count", "paged", "where_clause"]


def where_clause(filters: dict[str, Any]) -> tuple[str, tuple[Any, ...]]:
    """``col = $n`` for every filter given; the column names are ours, never the caller's."""
    present = {k: v for k, v in filters.items() if v is not None}
    clause = " AND ".join(f"{k} = ${i}" for i, k in enumerate(present, start=1))
    return clause, tuple(present.values())


class Where:
    """``AND``-ed conditions whose ``?`` placeholders become ``$n`` in the order added."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.params: list[Any] = []

    def add(self, condition: str, *values: Any) -> Where:
        for value in values:
            self.params.append(value)
            condition = condition.replace("?", f"${len(self.params)}", 1)
        self.parts.append(condition)
        return self

    @property
    def sql(self) -> str:
        return " AND ".join(self.parts)

    def next(self, k: int = 1) -> str:
        """The placeholder of the ``k``-th parameter after these (for LIMIT / OFFSET)."""
        return f"${len(self.params) + k}"


async def paged(
    conn: Conn, table: str, where: Where, order_by: str, page: Page
) -> tuple[list[Record], int]:
    """One page of ``table``'s rows matching ``where``, and how many match in all."""
    total = await conn.fetchval(f"SELECT COUNT(*) FROM {table} WHERE {where.sql}", *where.params)
    found = await conn.fetch(
        f"SELECT * FROM {table} WHERE {where.sql} ORDER BY {order_by}"
        f" LIMIT {where.next(1)} OFFSET {where.next(2)}",
        *where.params,
        page.limit,
        page.offset,
    )
    return found, int(total)


def inserted_count(status: str) -> int:
    """The row count of an ``INSERT 0 n`` / ``UPDATE n`` status."""
    return int(status.rsplit(" ", 1)[-1])


async def execute(conn: Conn, sql: str, *args: Any) -> str:
    return str(await conn.execute(sql, *args))


def affected(status: str) -> int:
    """Rows a command touched, from its status tag (``UPDATE 3``, ``DELETE 0``)."""
    return int(status.rsplit(" ", 1)[-1])
