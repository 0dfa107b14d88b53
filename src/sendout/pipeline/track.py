"""Tracking one custom event (``POST /v1/events``): the whole order, in one place.

Inside one write transaction: ① answer a repeated ``Idempotency-Key`` with its first response;
look up the event's schema and the distributions it triggers; validate the metadata; upsert
the customer; check and convert the referral code, credit the loyalty card; store the event;
② match, hold back what its conditions or re-entry limit exclude, and ③ perform each
distribution's purpose; ④ store one delivery per channel (in the channel's designed shape);
render the answer and remember it under the idempotency key. A refusal anywhere rolls all of it
back.

Events that need none of the promotion steps take :mod:`sendout.pipeline.batch` instead (both
backends offer batches); the answers and rows are the same.

With tracing on, :meth:`Ingest.track` is the ``sendout.track`` span: from handing the event in
to its commit. A batched event's span includes the wait for its batch, and the spans of the
events of one batch overlap and end at the same commit.
"""

from __future__ import annotations

from dataclasses import dataclass

from sendout import tracing
from sendout.events.metadata import check_metadata
from sendout.pipeline import batch
from sendout.pipeline.batcher import MicroBatcher
from sendout.pipeline.commands import RenderEvent, TrackCommand, TrackResult
from sendout.pipeline.deliveries import deliveries, perform
from sendout.promotions.rewards import Rewards, apply_rewards
from sendout.records import Customer, Distribution, Event, EventSchema
from sendout.storage import refusals
from sendout.storage.base import Storage
from sendout.storage.tx import Insertion, Tx

__all__ = ["Ingest", "Prepared", "prepare", "track"]


async def track(tx: Tx, cmd: TrackCommand, render: RenderEvent) -> TrackResult:
    """Track one event in the transaction ``tx``."""
    if cmd.idempotency is not None:
        replay = await tx.idempotent_replay(cmd.idempotency)
        if replay is not None:
            return TrackResult(event_id="", enqueued=0, response=replay, replayed=True)
    p = await prepare(tx, cmd)
    performed = await perform(tx, p.candidates, p.event, p.customer, cmd.created_at_ms)
    queued = deliveries(cmd, p.event, p.schema, p.customer, p.rewards, performed)
    await tx.insert_event(Insertion(p.event, queued, cmd.created_at_ms))
    response = render(p.event, p.customer)
    if cmd.idempotency is not None:
        await tx.remember(cmd.idempotency, response, cmd.created_at_ms)
    return TrackResult(event_id=p.event.id, enqueued=len(queued), response=response, replayed=False)


@dataclass(frozen=True, slots=True)
class Prepared:
    """An event ready for its distributions: validated, its customer upserted, rewarded."""

    schema: EventSchema
    candidates: list[Distribution]
    customer: Customer
    rewards: Rewards
    event: Event


async def prepare(tx: Tx, cmd: TrackCommand) -> Prepared:
    """The steps before the distributions: schema, metadata, customer, referral and loyalty."""
    trigger = await tx.trigger(cmd.event_name)
    if trigger is None:
        raise refusals.unknown_event(cmd.event_name)
    schema, candidates = trigger
    check_metadata(schema, cmd.metadata)
    customer = await tx.upsert_customer(cmd.customer, cmd.customer_fields)
    rewards = await apply_rewards(
        tx,
        customer,
        event_id=cmd.event_id,
        event_name=cmd.event_name,
        metadata=cmd.metadata,
        referral=cmd.referral,
        loyalty=cmd.loyalty,
    )
    return Prepared(
        schema, candidates, customer, rewards, cmd.event(schema.id, customer.id, rewards)
    )


def _attributes(cmd: TrackCommand) -> dict[str, tracing.Value]:
    if not tracing.enabled():
        return {}
    return {
        "sendout.event_id": cmd.event_id,
        "sendout.project_id": cmd.project_id,
        "sendout.event_name": cmd.event_name,
        "sendout.request_id": cmd.request_id,
    }


class Ingest:
    """Tracks events on one storage: in batches where the backend has them and the event
    allows, in a transaction of its own otherwise."""

    def __init__(self, storage: Storage) -> None:
        self._storage = storage
        batches = storage.batches
        self._batcher: MicroBatcher[batch.Item, TrackResult | None] | None = None
        if batches is not None:
            self._batcher = MicroBatcher(lambda items: batch.track_batch(batches, items))

    async def track(self, cmd: TrackCommand, render: RenderEvent) -> TrackResult:
        with tracing.span("sendout.track", "internal", _attributes(cmd)) as span:
            result, batched = await self._track(cmd, render)
            span.set_attributes(
                {
                    "sendout.batched": batched,
                    "sendout.enqueued": result.enqueued,
                    "sendout.replayed": result.replayed,
                }
            )
            return result

    async def _track(self, cmd: TrackCommand, render: RenderEvent) -> tuple[TrackResult, bool]:
        """The result, and whether it was committed in a batch."""
        if self._batcher is not None and batch.may_batch(cmd):
            result = await self._batcher.submit((cmd, render))
            if result is not None:
                return result, True
        transaction = await self._storage.transaction(
            cmd.project_id, cmd.created_at, lambda tx: track(tx, cmd, render)
        )
        return transaction, False

    async def close(self) -> None:
        """Wait for the batches already handed in."""
        if self._batcher is not None:
            await self._batcher.close()
