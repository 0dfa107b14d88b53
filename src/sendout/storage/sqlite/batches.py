"""Batched tracking on SQLite: :class:`~sendout.storage.tx.Batches` as two jobs of the writer.

One job reads the triggers and customers of every event waiting at one moment; the other,
inside the group commit like any transaction, stores their new customers, events and
deliveries with one ``executemany`` per table. Between the two, other transactions may commit:
the insert checks, in its own transaction, that each event's customer still exists and that
nobody created its new customer first, and leaves out the events for which either fails (the
pipeline then tracks them alone). Which events may take a batch is decided by
:mod:`sendout.pipeline.batch`. The insert statements also serve the tracking transaction
(:mod:`.tx`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import orjson

from sendout.outbox.destinations import destination_of
from sendout.outbox.ordering import HELD_MS, ordered_keys
from sendout.records import Customer
from sendout.storage import rows
from sendout.storage.sqlite.catalog import TriggerCache
from sendout.storage.sqlite.ordering import advance
from sendout.storage.sqlite.queries import Conn
from sendout.storage.sqlite.writer import GroupCommitWriter
from sendout.storage.tx import BatchLookup, Insertion, Trigger

__all__ = ["SqliteBatches", "insert_events"]

_EVENT = (
    "INSERT INTO events (id, project_id, type, customer_id, schema_id, metadata, referral,"
    " loyalty, request_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_DELIVERY = (
    "INSERT INTO deliveries (id, project_id, distribution_id, event_id, channel_index,"
    " event_name, url, destination, headers, body, status, next_attempt_at, created_at,"
    " order_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?)"
)
_CUSTOMER = (
    "INSERT INTO customers (id, project_id, source_id, name, description, email, phone,"
    " birthdate, address, metadata, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
# The keys arrive as one JSON array: no limit on their number, one statement each.
_BY_ID = "SELECT * FROM customers WHERE id IN (SELECT value FROM json_each(?))"
_LIVE = "SELECT id FROM customers WHERE id IN (SELECT value FROM json_each(?))"
_BY_SOURCE = (
    "SELECT * FROM customers WHERE source_id IS NOT NULL AND (project_id, source_id) IN"
    " (SELECT value ->> 0, value ->> 1 FROM json_each(?))"
)


class SqliteBatches:
    """:class:`~sendout.storage.tx.Batches` on the writer thread's connection."""

    def __init__(self, writer: GroupCommitWriter, triggers: TriggerCache) -> None:
        self._writer = writer
        self._triggers = triggers  # the writer thread's cache: only used in its jobs

    async def lookup(
        self,
        names: set[tuple[str, str]],
        customer_ids: set[str],
        sources: set[tuple[str, str]],
    ) -> BatchLookup:
        def run(conn: Conn) -> BatchLookup:
            conn.execute("BEGIN")  # one snapshot for all three reads
            try:
                return _lookup(conn, self._triggers, names, customer_ids, sources)
            finally:
                conn.execute("COMMIT")

        return await self._writer.call(run, transaction=False)

    async def insert(
        self, insertions: Sequence[Insertion], new_customers: Sequence[Customer]
    ) -> set[str]:
        return await self._writer.call(lambda conn: _insert(conn, insertions, new_customers))


def _lookup(
    conn: Conn,
    cache: TriggerCache,
    names: set[tuple[str, str]],
    customer_ids: set[str],
    sources: set[tuple[str, str]],
) -> BatchLookup:
    triggers: dict[tuple[str, str], Trigger] = {}
    for project_id, name in names:
        found = cache.trigger(conn, project_id, name)
        if found is not None:
            triggers[(project_id, name)] = found
    by_id = {c.id: c for c in _customers(conn, _BY_ID, list(customer_ids))}
    by_source = {
        (c.project_id, c.source_id): c
        for c in _customers(conn, _BY_SOURCE, [list(s) for s in sources])
        if c.source_id is not None
    }
    return BatchLookup(triggers, by_id, by_source)


def _customers(conn: Conn, sql: str, keys: list[object]) -> Iterable[Customer]:
    if not keys:
        return []
    return [rows.customer(r) for r in conn.execute(sql, (orjson.dumps(keys).decode(),))]


def _insert(
    conn: Conn, insertions: Sequence[Insertion], new_customers: Sequence[Customer]
) -> set[str]:
    """Store what the batch planned, where its customers allow; the ids of the events stored."""
    new = {c.id for c in new_customers}
    wanted = [i.event.customer_id for i in insertions if i.event.customer_id not in new]
    live = {r[0] for r in conn.execute(_LIVE, (orjson.dumps(wanted).decode(),))}
    taken = {
        (c.project_id, c.source_id)
        for c in _customers(conn, _BY_SOURCE, [[c.project_id, c.source_id] for c in new_customers])
    }
    created = [c for c in new_customers if (c.project_id, c.source_id) not in taken]
    conn.executemany(_CUSTOMER, [rows.customer_values(c) for c in created])
    live.update(c.id for c in created)
    stored = [i for i in insertions if i.event.customer_id in live]
    insert_events(conn, stored)
    return {i.event.id for i in stored}


def insert_events(conn: Conn, insertions: Sequence[Insertion]) -> None:
    """Store events and their deliveries (an ordered delivery held until its key is free)."""
    conn.executemany(_EVENT, [rows.event_values(i.event) for i in insertions])
    conn.executemany(
        _DELIVERY,
        [
            (
                m.id,
                i.event.project_id,
                m.distribution_id,
                i.event.id,
                m.channel_index,
                m.event_name,
                m.url,
                destination_of(m.url),
                rows.to_json(m.headers),
                m.body,
                i.due_ms if m.order_key is None else HELD_MS,
                i.event.created_at,
                m.order_key,
            )
            for i in insertions
            for m in i.deliveries
        ],
    )
    for i in insertions:
        keys = ordered_keys(i.deliveries)
        if keys:
            advance(conn, keys, i.due_ms)
