"""Tracking on PostgreSQL in batches: concurrent events share two round trips.

The usual event names a known customer and changes nothing about them (or names a new customer
by ``source_id``), carries no referral code, loyalty card or ``Idempotency-Key``, and triggers
plain messages only. Such events need no locks beyond their customer's key and no transaction
of their own: the events waiting at one moment are looked up together (schemas, active
distributions, customers: one statement) and written together (new customers, events and
outbox messages: one statement, atomic by itself, one commit and one WAL flush for all).

Everything else (a changed customer, a promotion purpose, an unknown event name,
metadata that does not validate, a statement that fails) is answered ``None`` here, and the
caller runs the full tracking transaction for that event alone, which answers exactly as it
always does. So the batch never decides a refusal, it only takes the easy cases off the slow
path.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import asyncpg
import orjson
import structlog

from sendout import ids
from sendout.actions.purposes import uses_promotions
from sendout.outbox.destinations import destination_of
from sendout.records import Customer, Distribution, Event, EventSchema, NewMessage
from sendout.storage import rows
from sendout.storage.base import TrackCommand, Tracking, TrackResult
from sendout.storage.postgres_promotions import PgPromotionTx

__all__ = ["Insertion", "batchable", "insert_events", "track_batch"]

if TYPE_CHECKING:
    from asyncpg.pool import PoolConnectionProxy

    Conn = PoolConnectionProxy[asyncpg.Record]

log = structlog.get_logger("sendout.storage")
Item = tuple[TrackCommand, Tracking]

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
  (SELECT COALESCE(json_agg(c), '[]') FROM customers c WHERE c.id = ANY($3::text[]))::text,
  (SELECT COALESCE(json_agg(c), '[]') FROM customers c
   WHERE (c.project_id, c.source_id) IN (SELECT * FROM unnest($4::text[], $5::text[])))::text
"""

# New customers (unless another transaction created the same source_id first), the events whose
# customer exists (held by FOR KEY SHARE until the statement commits, so a concurrent delete
# waits) or was just created, and the outbox messages of exactly those events.
_INSERT = """
WITH live AS (
    SELECT id FROM customers WHERE id = ANY($1::text[]) FOR KEY SHARE
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
    INSERT INTO messages (id, project_id, distribution_id, event_id, channel_index, event_name,
                          url, headers, body, status, next_attempt_at, created_at, destination)
    SELECT m.id, m.project_id, m.distribution_id, m.event_id, m.channel_index, m.event_name,
           m.url, m.headers, m.body, 'pending', m.next_attempt_at, m.created_at, m.destination
    FROM unnest($23::text[], $24::text[], $25::text[], $26::text[], $27::int[], $28::text[],
                $29::text[], $30::text[], $31::bytea[], $32::bigint[], $33::text[], $34::text[])
         AS m (id, project_id, distribution_id, event_id, channel_index, event_name, url,
               headers, body, next_attempt_at, created_at, destination)
    WHERE m.event_id IN (SELECT id FROM inserted)
)
SELECT id FROM inserted
"""


def batchable(command: TrackCommand) -> bool:
    """Could this event take the batch? (Whether it does depends on what the store holds.)"""
    return command.idempotency is None and command.referral is None and command.loyalty is None


@dataclass(slots=True)
class _Found:
    schemas: dict[tuple[str, str], tuple[EventSchema, list[Distribution]]]
    by_id: dict[str, Customer]
    by_source: dict[tuple[str, str], Customer]
    new: dict[str, Customer] = field(default_factory=dict)  # created by this batch, by id

    def customer(self, cmd: TrackCommand) -> Customer | None:
        """The customer the tracking transaction would end up with, where the event changes
        nothing about an existing one or creates a new one from a ``source_id``."""
        ref = cmd.customer
        if ref.id is not None:
            current = self.by_id.get(ref.id)
            if current is None or current.project_id != cmd.project_id:
                return None
        elif ref.source_id is not None:
            current = self.by_source.get((cmd.project_id, ref.source_id))
            if current is None:
                return self._create(cmd, ref.source_id)
        else:
            return None
        fields = cmd.customer_fields.present().items()
        return None if any(getattr(current, k) != v for k, v in fields) else current

    def _create(self, cmd: TrackCommand, source_id: str) -> Customer:
        f = cmd.customer_fields
        customer = Customer(
            id=ids.customer_id(),
            project_id=cmd.project_id,
            source_id=source_id,
            name=f.name,
            description=f.description,
            email=f.email,
            phone=f.phone,
            birthdate=f.birthdate,
            address=f.address,
            metadata=f.metadata or {},
            created_at=cmd.created_at,
            updated_at=None,
        )
        self.by_source[(cmd.project_id, source_id)] = customer
        self.new[customer.id] = customer
        return customer


@dataclass(frozen=True, slots=True)
class Insertion:
    """One event to store, with its outbox messages."""

    event: Event
    messages: Sequence[NewMessage]
    due_ms: int  # when the messages are first due


@dataclass(frozen=True, slots=True)
class _Planned:
    insertion: Insertion
    response: bytes


async def track_batch(conn: Conn, items: Sequence[Item]) -> list[TrackResult | None]:
    """Each item's result, or ``None`` where it must take the tracking transaction instead.

    Never raises for one event's sake: whatever goes wrong here sends the events concerned to
    the tracking transaction, which answers each of them alone (and so one bad event cannot
    fail the others batched with it).
    """
    try:
        found = await _lookup(conn, [cmd for cmd, _ in items])
    except Exception:  # nothing was written
        log.warning("tracking.batch_lookup_failed", events=len(items), exc_info=True)
        return [None] * len(items)
    plans = [await _plan_or_none(conn, cmd, tracking, found) for cmd, tracking in items]
    chosen = [p for p in plans if p is not None]
    inserted: set[str] = set()
    if chosen:
        used = {p.insertion.event.customer_id for p in chosen}
        new = [c for i, c in found.new.items() if i in used]
        try:
            inserted = await insert_events(conn, [p.insertion for p in chosen], new)
        except Exception:  # the statement failed as a whole (or its answer was lost)
            log.warning("tracking.batch_insert_failed", events=len(chosen), exc_info=True)
            return [None] * len(items)
    return [
        None
        if p is None or p.insertion.event.id not in inserted
        else TrackResult(
            event_id=p.insertion.event.id,
            enqueued=len(p.insertion.messages),
            response=p.response,
            replayed=False,
        )
        for p in plans
    ]


async def _lookup(conn: Conn, commands: Sequence[TrackCommand]) -> _Found:
    names = {(c.project_id, c.event_name) for c in commands}
    customer_ids = {c.customer.id for c in commands if c.customer.id is not None}
    sources = {
        (c.project_id, c.customer.source_id)
        for c in commands
        if c.customer.id is None and c.customer.source_id is not None
    }
    row = await conn.fetchrow(
        _LOOKUP,
        [p for p, _ in names],
        [n for _, n in names],
        list(customer_ids),
        [p for p, _ in sources],
        [s for _, s in sources],
    )
    assert row is not None
    schemas: dict[tuple[str, str], tuple[EventSchema, list[Distribution]]] = {}
    for entry in orjson.loads(row[0]):
        schema = rows.event_schema(entry["schema"])
        candidates = [rows.distribution(d) for d in entry["candidates"]]
        schemas[(schema.project_id, schema.name)] = (schema, candidates)
    by_id = {c.id: c for c in map(rows.customer, orjson.loads(row[1]))}
    by_source: dict[tuple[str, str], Customer] = {}
    for customer in map(rows.customer, orjson.loads(row[2])):
        if customer.source_id is not None:
            by_source[(customer.project_id, customer.source_id)] = customer
    return _Found(schemas, by_id, by_source)


async def _plan_or_none(
    conn: Conn, cmd: TrackCommand, tracking: Tracking, found: _Found
) -> _Planned | None:
    try:
        return await _plan(conn, cmd, tracking, found)
    except Exception:  # the tracking transaction will meet the same problem, for this one alone
        return None


async def _plan(
    conn: Conn, cmd: TrackCommand, tracking: Tracking, found: _Found
) -> _Planned | None:
    looked_up = found.schemas.get((cmd.project_id, cmd.event_name))
    if looked_up is None:
        return None
    schema, candidates = looked_up
    if any(uses_promotions(d) for d in candidates):
        return None
    tracking.validate(schema)  # a refusal: the tracking transaction words it
    customer = found.customer(cmd)
    if customer is None:
        return None
    # No referral, no loyalty card, no promotion purpose: nothing here reads or writes
    # campaigns, so the transaction object is never used for writing.
    promotions = PgPromotionTx(conn, cmd.project_id, cmd.created_at)
    rewards = await cmd.rewards(tracking, promotions, customer)
    event = cmd.event(schema.id, customer.id, rewards)
    messages = await tracking.plan(event, schema, customer, candidates, promotions, rewards)
    insertion = Insertion(event, messages, cmd.created_at_ms)
    return _Planned(insertion, tracking.render(event, customer))


async def insert_events(
    conn: Conn, insertions: Sequence[Insertion], new_customers: Sequence[Customer] = ()
) -> set[str]:
    """Store events, their messages and the customers they create, in one statement; the ids
    of the events stored (an event whose customer is gone, or was created by another
    transaction first, is not)."""
    events = [i.event for i in insertions]
    new = {c.id for c in new_customers}
    queued = [(i, m) for i in insertions for m in i.messages]
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
        [i.due_ms for i, _ in queued],
        [i.event.created_at for i, _ in queued],
        [destination_of(m.url) for _, m in queued],
    ]
    return {r["id"] for r in await conn.fetch(_INSERT, *args)}
