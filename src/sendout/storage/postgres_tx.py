"""The pipeline's write transaction on PostgreSQL: :class:`~sendout.storage.tx.Tx` over one
connection in an open READ COMMITTED transaction.

The customer row is locked by :func:`~sendout.storage.postgres_customers.upsert` until commit,
so two events of one customer take turns; an ``Idempotency-Key`` takes an advisory lock, so a
request sent twice at once waits for the first and replays its answer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sendout.records import Customer, CustomerFields
from sendout.storage import postgres_customers as customers
from sendout.storage import postgres_keys as keys
from sendout.storage import rows
from sendout.storage.base import CustomerRef, IdempotencyKey
from sendout.storage.postgres_promotions import PgPromotionTx
from sendout.storage.postgres_tracking import insert_events
from sendout.storage.tx import Insertion, Trigger

if TYPE_CHECKING:
    from asyncpg import Record
    from asyncpg.pool import PoolConnectionProxy

    Conn = PoolConnectionProxy[Record]

__all__ = ["PgTx"]

# The schema an event names and the active distributions it triggers, in one round trip. The
# distributions come as JSON objects (not a row-type array, whose decoding asyncpg caches per
# connection and a later migration could change under a running process).
_TRIGGER = """
SELECT s.*, (
    SELECT COALESCE(json_agg(d ORDER BY d.created_at, d.id), '[]')::text FROM distributions d
    WHERE d.project_id = s.project_id AND d.trigger_event = s.name AND d.status = 'ACTIVE'
) AS candidates
FROM event_schemas s WHERE s.project_id = $1 AND s.name = $2
"""


class PgTx(PgPromotionTx):
    def __init__(self, conn: Conn, project_id: str, now: str) -> None:
        super().__init__(conn, project_id, now)
        self.enqueued = 0  # outbox messages stored: the workers are woken after commit

    async def idempotent_replay(self, key: IdempotencyKey) -> bytes | None:
        return await keys.idempotent_replay(self._conn, self._project_id, key)

    async def remember(self, key: IdempotencyKey, response: bytes, now_ms: int) -> None:
        await keys.remember(self._conn, self._project_id, key, response, now_ms)

    async def trigger(self, event_name: str) -> Trigger | None:
        found = await self._conn.fetchrow(_TRIGGER, self._project_id, event_name)
        if found is None:
            return None
        candidates = [rows.distribution(d) for d in rows.from_json(found["candidates"])]
        return rows.event_schema(found), candidates

    async def upsert_customer(self, ref: CustomerRef, fields: CustomerFields) -> Customer:
        return await customers.upsert(self._conn, self._project_id, ref, fields, self._now)

    async def insert_event(self, insertion: Insertion) -> None:
        stored = await insert_events(self._conn, [insertion])
        assert stored == {insertion.event.id}, "the customer row is locked by this transaction"
        self.enqueued += len(insertion.messages)
