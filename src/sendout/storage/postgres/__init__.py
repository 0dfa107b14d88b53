"""PostgreSQL backend: many API and worker processes on one server, one module per thing it stores.

Where the dialects differ the SQL differs: claims lock with ``FOR UPDATE SKIP LOCKED``, races
SQLite's single writer rules out are settled by ``ON CONFLICT`` and advisory locks, and a commit
that enqueued deliveries ``NOTIFY``s idle workers. Rows become records through
:mod:`sendout.storage.rows`, shared with SQLite. :class:`PostgresStorage` is the
:class:`~sendout.storage.base.Storage` interface put together from the modules' verb classes.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from sendout.storage.postgres.async_actions import PostgresAsyncActions
from sendout.storage.postgres.batches import PgBatches
from sendout.storage.postgres.connection import LISTENER, OUTBOX_CHANNEL
from sendout.storage.postgres.customers import PostgresCustomers
from sendout.storage.postgres.distributions import PostgresDistributions
from sendout.storage.postgres.events import PostgresEvents
from sendout.storage.postgres.outbox import PostgresOutbox
from sendout.storage.postgres.projects import PostgresProjects
from sendout.storage.postgres.promotions import PostgresPromotions
from sendout.storage.postgres.schemas import PostgresSchemas
from sendout.storage.postgres.tx import PgTx
from sendout.storage.sealing import Sealer
from sendout.storage.tx import Tx

__all__ = ["LISTENER", "OUTBOX_CHANNEL", "PostgresStorage"]

T = TypeVar("T")


class PostgresStorage(
    PostgresAsyncActions,
    PostgresProjects,
    PostgresCustomers,
    PostgresSchemas,
    PostgresEvents,
    PostgresDistributions,
    PostgresOutbox,
    PostgresPromotions,
):
    """Every storage verb on one PostgreSQL database."""

    def __init__(self, dsn: str, *, pool_size: int = 10, sealer: Sealer | None = None) -> None:
        super().__init__(dsn, pool_size=pool_size, sealer=sealer)
        self._batches = PgBatches(self._conn, functools.partial(self._poke_workers, retries=False))

    async def transaction(
        self, project_id: str, now: str, work: Callable[[Tx], Coroutine[Any, Any, T]]
    ) -> T:
        async with self._tx() as conn:
            tx = PgTx(conn, project_id, now)
            result = await work(tx)
        if tx.enqueued:  # an event's new deliveries: first attempts only
            self._poke_workers(retries=False)
        return result

    @property
    def batches(self) -> PgBatches:
        return self._batches
