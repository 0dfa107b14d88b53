"""SQLite backend: the embedded default, one module per thing it stores.

:class:`SqliteStorage` is the :class:`~sendout.storage.base.Storage` interface put together from
those modules; :mod:`.connection` holds the threads and the plumbing they all share, :mod:`.tx`
the pipeline's write transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from sendout.storage.sqlite.async_actions import SqliteAsyncActions
from sendout.storage.sqlite.batches import SqliteBatches
from sendout.storage.sqlite.customers import SqliteCustomers
from sendout.storage.sqlite.distributions import SqliteDistributions
from sendout.storage.sqlite.events import SqliteEvents
from sendout.storage.sqlite.outbox import SqliteOutbox
from sendout.storage.sqlite.projects import SqliteProjects
from sendout.storage.sqlite.promotions import SqlitePromotions
from sendout.storage.sqlite.queries import Conn
from sendout.storage.sqlite.schemas import SqliteSchemas
from sendout.storage.sqlite.tx import SqliteTx
from sendout.storage.tx import Tx

__all__ = ["SqliteStorage"]

T = TypeVar("T")


class SqliteStorage(
    SqliteAsyncActions,
    SqliteProjects,
    SqliteCustomers,
    SqliteSchemas,
    SqliteEvents,
    SqliteDistributions,
    SqliteOutbox,
    SqlitePromotions,
):
    """Every storage verb on one SQLite file."""

    async def transaction(
        self, project_id: str, now: str, work: Callable[[Tx], Coroutine[Any, Any, T]]
    ) -> T:
        async def run(conn: Conn) -> T:
            return await work(SqliteTx(conn, project_id, now, self._triggers))

        return await self._write_async(run)

    @property
    def batches(self) -> SqliteBatches:
        return self._batches
