"""Batched tracking on PostgreSQL: :class:`~sendout.storage.tx.Batches` in two statements.

One read finds the triggers and customers of every event waiting at one moment; one write
stores their new customers, events and deliveries, atomic by itself, with one commit and
one WAL flush for all. Which events may take a batch is decided by :mod:`sendout.pipeline.batch`.
The insert statement also serves the tracking transaction (:mod:`.tx`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import orjson

from sendout.outbox.destinations import destination_of
from sendout.outbox.ordering import HELD_MS, ordered_keys
from sendout.records import Customer
from sendout.storage import rows
from sendout.storage.postgres import ordering
from sendout.storage.tx import BatchLookup, Insertion, Trigger

if TYPE_CHECKING:
    from contextlib import AbstractAsyncContextManager

    from sendout.storage.postgres.queries import Conn


__all__ = ["PgBatches", "insert_events"]

# Customers are read key by key (a lateral subquery per id or source_id) rather than by
# ``= ANY`` or ``IN (unnest …)``: a connection keeps a statement's generic plan, and one made while
# the table was small and without statistics read every customer for every batch ever after.
# ``OFFSET 0`` (here) and ``FOR KEY SHARE`` (in ``_INSERT``) keep PostgreSQL from flattening the
# subquery back into a join it may do that way; ``source_id IS NOT NULL`` lets the plan use the
# partial unique index ``customers_source_id``.
_LOOKUP = """
SELECT
  (SELECT COALESCE(json_agg(json_build_object(
      'schema', s,
      'candidates', (SELECT COALESCE(json_agg(d ORDER BY d.created_at, d.id), '[]')
                     FROM distributions d
                     WHERE d.project_id = s.project_id AND d.trigger_event = s.name
                       AND d.status = 'ACTIVE'))), '[]')
   FROM event_schemas s
   WHERE (s.project_id, s.name) IN (SELECT * FROM unnest($1::text[], $2::text[])))::text,
  (SELECT COALESCE(json_agg(c), '[]') FROM unnest($3::text[]) AS k (id)
   CROSS JOIN LATERAL (SELECT * FROM customers c WHERE c.id = k.id OFFSET 0) c)::text,
  (SELECT COALESCE(json_agg(c), '[]') FROM unnest($4::text[], $5::text[]) AS k (project_id, source_id)
   CROSS JOIN LATERAL (SELECT * FROM customers c
                       WHERE c.project_id = k.project_id AND c.source_id = k.source_id
                         AND c.source_id IS NOT NULL OFFSET 0) c)::text
"""


# New customers (unless another transaction created the same source_id first), the events whose
# customer exists (held by FOR KEY SHARE until the statement commits, so a concurrent delete
# waits) or was just created, and the deliveries of exactly those events.
_INSERT = """
WITH live AS (
    SELECT c.id FROM unnest($1::text[]) AS k (id)
    CROSS JOIN LATERAL (SELECT id FROM customers WHERE id = k.id FOR KEY SHARE) c
), created AS (
    INSERT INTO customers (id, project_id, source_id, name, description, email, phone, birthdate,
                           address, metadata, created_at)
    SELECT * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                         $7::text[], $8::text[], $9::text[], $10::text[], $11::text[],
                         $12::text[])
    ON CONFLICT (project_id, source_id) WHERE source_id IS NOT NULL DO NOTHING
    RETURNING id
), inserted AS (
    INSERT INTO events (id, project_id, type, customer_id, schema_id, metadata, referral,
                        loyalty, request_id, created_at)
    SELECT e.* FROM unnest($13::text[], $14::text[], $15::text[], $16::text[], $17::text[],
                           $18::text[], $19::text[], $20::text[], $21::text[], $22::text[])
         AS e (id, project_id, type, customer_id, schema_id, metadata, referral, loyalty,
               request_id, created_at)
    WHERE e.customer_id IN (SELECT id FROM live UNION ALL SELECT id FROM created)
    RETURNING id
), queued AS (
    INSERT INTO deliveries (id, project_id, distribution_id, event_id, channel_index, event_name,
                          url, headers, body, status, next_attempt_at, created_at, destination,
                          order_key)
    SELECT m.id, m.project_id, m.distribution_id, m.event_id, m.channel_index, m.event_name,
           m.url, m.headers, m.body, 'pending', m.next_attempt_at, m.created_at, m.destination,
           m.order_key
    FROM unnest($23::text[], $24::text[], $25::text[], $26::text[], $27::int[], $28::text[],
                $29::text[], $30::text[], $31::bytea[], $32::bigint[], $33::text[], $34::text[],
                $35::text[])
         AS m (id, project_id, distribution_id, event_id, channel_index, event_name, url,
               headers, body, next_attempt_at, created_at, destination, order_key)
    WHERE m.event_id IN (SELECT id FROM inserted)
)
SELECT id FROM inserted
"""


class PgBatches:
    """:class:`~sendout.storage.tx.Batches` on pooled connections in autocommit."""

    def __init__(
        self,
        connect: Callable[[], AbstractAsyncContextManager[Conn]],
        enqueued: Callable[[], None],
    ) -> None:
        self._connect = connect
        self._enqueued = enqueued  # wakes the workers once deliveries are stored

    async def lookup(
        self,
        names: set[tuple[str, str]],
        customer_ids: set[str],
        sources: set[tuple[str, str]],
    ) -> BatchLookup:
        async with self._connect() as conn:
            row = await conn.fetchrow(
                _LOOKUP,
                [p for p, _ in names],
                [n for _, n in names],
                list(customer_ids),
                [p for p, _ in sources],
                [s for _, s in sources],
            )
        assert row is not None
        triggers: dict[tuple[str, str], Trigger] = {}
        for entry in orjson.loads(row[0]):
            schema = rows.event_schema(entry["schema"])
            candidates = [rows.distribution(d) for d in entry["candidates"]]
            triggers[(schema.project_id, schema.name)] = (schema, candidates)
        by_id = {c.id: c for c in map(rows.customer, orjson.loads(row[1]))}
        by_source = {
            (c.project_id, c.source_id): c
            for c in map(rows.customer, orjson.loads(row[2]))
            if c.source_id is not None
        }
        return BatchLookup(triggers, by_id, by_source)

    async def insert(
        self, insertions: Sequence[Insertion], new_customers: Sequence[Customer]
    ) -> set[str]:
        async with self._connect() as conn:
            stored = await insert_events(conn, insertions, new_customers)
        if any(i.deliveries for i in insertions if i.event.id in stored):
            self._enqueued()
        return stored


async def insert_events(
    conn: Conn, insertions: Sequence[Insertion], new_customers: Sequence[Customer] = ()
) -> set[str]:
    """Store events, their deliveries and the customers they create, in one statement; the ids
    of the events stored (an event whose customer is gone, or was created by another
    transaction first, is not). Ordered deliveries add their keys' locks before and their
    advance after, in a transaction."""
    events = [i.event for i in insertions]
    new = {c.id for c in new_customers}
    queued = [(i, m) for i in insertions for m in i.deliveries]
    args: list[list[Any]] = [
        list({e.customer_id for e in events if e.customer_id not in new}),
        [c.id for c in new_customers],
        [c.project_id for c in new_customers],
        [c.source_id for c in new_customers],
        [c.name for c in new_customers],
        [c.description for c in new_customers],
        [c.email for c in new_customers],
        [c.phone for c in new_customers],
        [c.birthdate for c in new_customers],
        [rows.json_or_null(c.address) for c in new_customers],
        [rows.to_json(c.metadata) for c in new_customers],
        [c.created_at for c in new_customers],
        [e.id for e in events],
        [e.project_id for e in events],
        [e.type for e in events],
        [e.customer_id for e in events],
        [e.schema_id for e in events],
        [rows.to_json(e.metadata) for e in events],
        [rows.json_or_null(e.referral) for e in events],
        [rows.json_or_null(e.loyalty) for e in events],
        [e.request_id for e in events],
        [e.created_at for e in events],
        [m.id for _, m in queued],
        [i.event.project_id for i, _ in queued],
        [m.distribution_id for _, m in queued],
        [i.event.id for i, _ in queued],
        [m.channel_index for _, m in queued],
        [m.event_name for _, m in queued],
        [m.url for _, m in queued],
        [rows.to_json(m.headers) for _, m in queued],
        [m.body for _, m in queued],
        [i.due_ms if m.order_key is None else HELD_MS for i, m in queued],
        [i.event.created_at for i, _ in queued],
        [destination_of(m.url) for _, m in queued],
        [m.order_key for _, m in queued],
    ]
    keys = ordered_keys(m for _, m in queued)
    if not keys:
        return {r["id"] for r in await conn.fetch(_INSERT, *args)}
    async with contextlib.AsyncExitStack() as stack:
        if not conn.is_in_transaction():  # a batch: one statement in autocommit, unless ordered
            await stack.enter_async_context(conn.transaction())
        await ordering.lock(conn, keys)
        stored = {r["id"] for r in await conn.fetch(_INSERT, *args)}
        await ordering.advance(conn, keys, min(i.due_ms for i in insertions))
    return stored
