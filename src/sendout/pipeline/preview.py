"""Previewing a distribution: what it would do for one event, with nothing written.

The preview runs the same steps as tracking (:mod:`sendout.pipeline.track`) for the one
distribution, inside a write transaction that is then rolled back: the customer upsert, the
rewards, the conditions, the re-entry count and the purpose (a code claimed for a
``publish_unique_code``) are all real, and all undone. What comes out is the decision (``send``,
or the outcome tracking would record) and the exact deliveries.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from sendout.matching.match import matching_distributions
from sendout.pipeline.commands import TrackCommand
from sendout.pipeline.deliveries import deliveries, perform
from sendout.pipeline.track import prepare
from sendout.records import Distribution, NewDelivery
from sendout.storage.base import Storage
from sendout.storage.tx import Tx

__all__ = ["Preview", "preview"]

SEND = "send"


@dataclass(frozen=True, slots=True)
class Preview:
    decision: str  # "send", or the outcome tracking would record
    details: str | None
    deliveries: tuple[NewDelivery, ...]


class _Done(Exception):
    def __init__(self, result: Preview) -> None:
        self.result = result


class _Watching:
    """The transaction, remembering the outcome a step records instead of sending."""

    def __init__(self, tx: Tx) -> None:
        self._tx = tx
        self.outcome: tuple[str, str] | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._tx, name)

    async def record_outcome(self, **outcome: Any) -> None:
        self.outcome = (outcome["result"], outcome["details"])


async def preview(storage: Storage, cmd: TrackCommand, distribution: Distribution) -> Preview:
    """What ``distribution`` would do for the event ``cmd`` describes; nothing is kept."""

    async def work(tx: Tx) -> None:
        raise _Done(await _run(_Watching(tx), cmd, distribution))

    try:
        await storage.transaction(cmd.project_id, cmd.created_at, work)
    except _Done as done:
        return done.result
    raise AssertionError("the preview transaction returned instead of rolling back")


async def _run(watching: _Watching, cmd: TrackCommand, distribution: Distribution) -> Preview:
    tx = cast(Tx, watching)
    p = await prepare(tx, cmd)
    if not matching_distributions([distribution], p.event.type):
        return _not_triggered(distribution, p.event.type)
    performed = await perform(tx, [distribution], p.event, p.customer, cmd.created_at_ms)
    if not performed:
        result, details = watching.outcome or ("not_sent", "the purpose sends nothing")
        return Preview(result, details, ())
    queued = deliveries(cmd, p.event, p.schema, p.customer, p.rewards, performed)
    return Preview(SEND, None, tuple(queued))


def _not_triggered(distribution: Distribution, event_name: str) -> Preview:
    if distribution.status != "ACTIVE":
        return Preview("distribution_paused", "the distribution is paused", ())
    return Preview(
        "not_triggered",
        f"the distribution is triggered by '{distribution.trigger_event}', not '{event_name}'",
        (),
    )
