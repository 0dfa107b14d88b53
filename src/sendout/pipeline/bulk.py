"""Tracking many events of one request (``POST /v1/events/bulk``): each on its own, in order per
customer, all at once across customers.

Every event is tracked exactly as a single ``POST /v1/events`` would track it (its own
transaction, or its own savepoint of SQLite's group commit, or a batch), so one
refused event leaves the others untouched. Events naming the same customer (the same ``id`` or
``source_id``) are tracked one after the other in the order given, so their customer updates,
re-entry counts and deliveries follow that order; events of different customers run together,
which is what lets SQLite commit a whole request in a few group commits.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import structlog

from sendout.errors import SendoutError
from sendout.pipeline.commands import RenderEvent, TrackCommand, TrackResult
from sendout.pipeline.track import Ingest
from sendout.storage.base import CustomerRef

__all__ = ["Outcome", "track_all"]

log = structlog.get_logger(__name__)

Outcome = TrackResult | SendoutError  # what became of one event of the request


async def track_all(
    ingest: Ingest, commands: Sequence[TrackCommand | SendoutError], render: RenderEvent
) -> list[Outcome]:
    """Track each command (an item already refused stays as its refusal); one outcome per item,
    in the order given."""
    outcomes: list[Outcome | None] = [c if isinstance(c, SendoutError) else None for c in commands]
    chains: dict[CustomerRef, list[int]] = {}
    for index, command in enumerate(commands):
        if not isinstance(command, SendoutError):
            chains.setdefault(command.customer, []).append(index)

    async def run(chain: list[int]) -> None:
        for index in chain:
            command = commands[index]
            assert not isinstance(command, SendoutError)
            outcomes[index] = await _track_one(ingest, command, render)

    await asyncio.gather(*(run(chain) for chain in chains.values()))
    done = [o for o in outcomes if o is not None]
    assert len(done) == len(commands), "every item has its outcome"
    return done


async def _track_one(ingest: Ingest, command: TrackCommand, render: RenderEvent) -> Outcome:
    try:
        return await ingest.track(command, render)
    except SendoutError as refusal:
        return refusal
    except Exception:
        # A bug or a store that fails: said for this event alone, and logged in full; the
        # events that were tracked stay tracked and say so.
        log.exception("events.bulk_item_failed", event_id=command.event_id)
        return SendoutError(
            "The event could not be tracked; nothing of it was kept. Retry it.",
            key="internal_error",
            message="Internal error",
            status=500,
        )
