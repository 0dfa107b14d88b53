"""Tracking in batches (where storage offers :class:`~sendout.storage.tx.Batches`).

The usual event names a known customer and changes nothing about them (or names a new customer
by ``source_id``), carries no referral code, loyalty card or ``Idempotency-Key``, and triggers
only distributions of the ``plain_message`` purpose. Such an event needs no lock beyond its
customer's key and no transaction of its own: the events waiting at one moment are looked up
together and written together (new customers, events and deliveries in one atomic write, one
commit for all).

Everything else (a changed customer, a promotion purpose, an unknown event name, conditions
that do not hold, metadata that does not validate, a statement that fails) is answered ``None``
here, and the caller runs :func:`sendout.pipeline.track.track` for that event alone, which
answers exactly as it always does. So a batch never decides a refusal: it only takes the easy
cases off the slow path.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import structlog

from sendout import ids
from sendout.actions.purposes import uses_promotions
from sendout.events.metadata import check_metadata
from sendout.matching.conditions import facts_of, unmet
from sendout.matching.match import matching_distributions
from sendout.pipeline.commands import RenderEvent, TrackCommand, TrackResult
from sendout.pipeline.deliveries import Performed, deliveries
from sendout.promotions.rewards import Rewards
from sendout.records import Customer, Distribution, EventSchema
from sendout.storage.tx import Batches, BatchLookup, Insertion, Trigger

__all__ = ["Item", "may_batch", "track_batch"]

log = structlog.get_logger("sendout.pipeline")
Item = tuple[TrackCommand, RenderEvent]


def may_batch(cmd: TrackCommand) -> bool:
    """Could this event take a batch? (Whether it does depends on what the store holds.)"""
    return cmd.idempotency is None and cmd.referral is None and cmd.loyalty is None


@dataclass(slots=True)
class _Customers:
    """The customers a batch found, and those it creates."""

    found: BatchLookup
    new: dict[str, Customer] = field(default_factory=dict)  # created by this batch, by id

    def of(self, cmd: TrackCommand) -> Customer | None:
        """The customer the tracking transaction would end up with, where the event changes
        nothing about an existing one or creates a new one from a ``source_id``."""
        ref = cmd.customer
        if ref.id is not None:
            current = self.found.by_id.get(ref.id)
            if current is None or current.project_id != cmd.project_id:
                return None
        elif ref.source_id is not None:
            current = self.found.by_source.get((cmd.project_id, ref.source_id))
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
        self.found.by_source[(cmd.project_id, source_id)] = customer
        self.new[customer.id] = customer
        return customer


@dataclass(frozen=True, slots=True)
class _Sends:
    """What every event of one trigger (project, event name) shares in a batch: its schema and
    the distributions it sends, worked out once for all of them."""

    schema: EventSchema
    matched: list[Distribution]
    conditional: bool  # some distribution has conditions, to check against each event

    @classmethod
    def of(cls, trigger: Trigger, event_name: str) -> _Sends | None:
        """``None`` where its events must take the tracking transaction: a promotion purpose
        (codes, tiers), or a re-entry limit (which counts and records sends)."""
        schema, candidates = trigger
        if any(uses_promotions(d) for d in candidates):
            return None
        matched = matching_distributions(candidates, event_name)
        if any(d.reentry is not None for d in matched):
            return None
        return cls(schema, matched, any(d.conditions for d in matched))


@dataclass(frozen=True, slots=True)
class _Planned:
    insertion: Insertion
    response: bytes


async def track_batch(batches: Batches, items: Sequence[Item]) -> list[TrackResult | None]:
    """Each item's result, or ``None`` where it must take the tracking transaction instead.

    Never raises for one event's sake: whatever goes wrong here sends the events concerned to
    the tracking transaction, which answers each of them alone (and so one bad event cannot
    fail the others batched with it).
    """
    try:
        customers = _Customers(await _lookup(batches, [cmd for cmd, _ in items]))
    except Exception:  # nothing was written
        log.warning("tracking.batch_lookup_failed", events=len(items), exc_info=True)
        return [None] * len(items)
    sends = {key: _sends_or_none(t, key[1]) for key, t in customers.found.triggers.items()}
    plans = [_plan_or_none(cmd, render, customers, sends) for cmd, render in items]
    chosen = [p for p in plans if p is not None]
    inserted: set[str] = set()
    if chosen:
        used = {p.insertion.event.customer_id for p in chosen}
        new = [c for i, c in customers.new.items() if i in used]
        try:
            inserted = await batches.insert([p.insertion for p in chosen], new)
        except Exception:  # the statement failed as a whole (or its answer was lost)
            log.warning("tracking.batch_insert_failed", events=len(chosen), exc_info=True)
            return [None] * len(items)
    return [
        None
        if p is None or p.insertion.event.id not in inserted
        else TrackResult(
            event_id=p.insertion.event.id,
            enqueued=len(p.insertion.deliveries),
            response=p.response,
            replayed=False,
        )
        for p in plans
    ]


async def _lookup(batches: Batches, commands: Sequence[TrackCommand]) -> BatchLookup:
    return await batches.lookup(
        {(c.project_id, c.event_name) for c in commands},
        {c.customer.id for c in commands if c.customer.id is not None},
        {
            (c.project_id, c.customer.source_id)
            for c in commands
            if c.customer.id is None and c.customer.source_id is not None
        },
    )


def _sends_or_none(trigger: Trigger, event_name: str) -> _Sends | None:
    try:
        return _Sends.of(trigger, event_name)
    except Exception:  # its events take the tracking transaction, which meets it alone
        return None


def _plan_or_none(
    cmd: TrackCommand,
    render: RenderEvent,
    customers: _Customers,
    sends: dict[tuple[str, str], _Sends | None],
) -> _Planned | None:
    try:
        return _plan(cmd, render, customers, sends.get((cmd.project_id, cmd.event_name)))
    except Exception:  # the tracking transaction will meet the same problem, for this one alone
        return None


def _plan(
    cmd: TrackCommand, render: RenderEvent, customers: _Customers, sends: _Sends | None
) -> _Planned | None:
    if sends is None:  # an unknown event name, or distributions the transaction must run
        return None
    check_metadata(sends.schema, cmd.metadata)  # a refusal: the tracking transaction words it
    customer = customers.of(cmd)
    if customer is None:
        return None
    # No referral, no loyalty card, no promotion purpose: every matching distribution sends
    # a plain message, adding nothing to ``data``.
    rewards = Rewards()
    event = cmd.event(sends.schema.id, customer.id, rewards)
    if sends.conditional:
        facts = facts_of(event.metadata, customer)
        if any(unmet(d.conditions, facts) is not None for d in sends.matched):
            return None  # an unmet condition records an outcome: the transaction's to write
    performed: list[Performed] = [(d, {}) for d in sends.matched]
    insertion = Insertion(
        event, deliveries(cmd, event, sends.schema, customer, rewards, performed), cmd.created_at_ms
    )
    return _Planned(insertion, render(event, customer))
