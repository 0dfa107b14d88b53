"""The batch path's decisions (``pipeline/batch.py``): which events it answers, which it leaves.

A recording fake of :class:`~sendout.storage.tx.Batches` stands in for the store: it answers
the lookup the test built and records what ``insert`` receives. Every event the batch cannot
answer exactly as the tracking transaction would must come back ``None`` and leave nothing in
``insert``. One test on each real backend shows that a burst of plain events is answered
through batches.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, cast

import pytest

from sendout.pipeline.batch import may_batch, track_batch
from sendout.pipeline.commands import TrackCommand, TrackResult
from sendout.pipeline.track import Ingest
from sendout.records import Customer, CustomerFields, Distribution, EventSchema, Page, PropertyDef
from sendout.storage.base import CustomerRef, IdempotencyKey, Storage
from sendout.storage.tx import Batches, BatchLookup, Insertion, Tx
from support.storage import NOW, NOW_MS, command, customers_in, distribution, render

SCHEMA = EventSchema("ms_1", "proj_1", "sign_up", {"plan": PropertyDef("string")}, NOW, None)


def customer(customer_id: str = "cust_known", source_id: str = "known") -> Customer:
    return Customer(
        customer_id, "proj_1", source_id, "N", None, None, None, None, None, {}, NOW, None
    )


def lookup(*candidates: Distribution) -> BatchLookup:
    """``sign_up`` with ``candidates`` (``distr_1`` by default), customer ``known`` and a
    customer of another project."""
    known = customer()
    elsewhere = replace(customer("cust_elsewhere", "elsewhere"), project_id="proj_2")
    return BatchLookup(
        triggers={("proj_1", "sign_up"): (SCHEMA, list(candidates or [distribution()]))},
        by_id={known.id: known, elsewhere.id: elsewhere},
        by_source={("proj_1", "known"): known},
    )


@dataclass
class FakeBatches:
    """Answers ``found``; ``insert`` stores every event but those named in ``lost``."""

    found: BatchLookup
    lost: set[str] = field(default_factory=set)
    fail_lookup: bool = False
    fail_insert: bool = False
    lookups: list[tuple[set[tuple[str, str]], set[str], set[tuple[str, str]]]] = field(
        default_factory=list
    )
    inserts: list[tuple[list[Insertion], list[Customer]]] = field(default_factory=list)

    async def lookup(
        self,
        names: set[tuple[str, str]],
        customer_ids: set[str],
        sources: set[tuple[str, str]],
    ) -> BatchLookup:
        self.lookups.append((names, customer_ids, sources))
        if self.fail_lookup:
            raise ConnectionError("lookup failed")
        return self.found

    async def insert(
        self, insertions: Sequence[Insertion], new_customers: Sequence[Customer]
    ) -> set[str]:
        self.inserts.append((list(insertions), list(new_customers)))
        if self.fail_insert:
            raise ConnectionError("insert failed")
        return {i.event.id for i in insertions} - self.lost

    def inserted_ids(self) -> list[str]:
        return [i.event.id for insertions, _ in self.inserts for i in insertions]


def known(event_id: str) -> TrackCommand:
    return command(event_id, "known")


async def run(batches: FakeBatches, *commands: TrackCommand) -> list[TrackResult | None]:
    return await track_batch(batches, [(c, render) for c in commands])


@pytest.mark.parametrize(
    "changes",
    [
        {"idempotency": IdempotencyKey("POST /v1/events", "k", "h", 0)},
        {"referral": {"code": "REF-1"}},
        {"loyalty": {"code": "CARD-1"}},
    ],
    ids=["idempotency_key", "referral", "loyalty"],
)
def test_an_event_with_a_key_a_referral_or_a_card_may_not_batch(changes: dict[str, Any]) -> None:
    assert may_batch(command("event_1"))
    assert not may_batch(replace(command("event_1"), **changes))


async def test_a_plain_event_of_a_known_customer_is_stored_with_one_message_per_distribution() -> (
    None
):
    batches = FakeBatches(lookup(distribution(), distribution("distr_2")))
    (result,) = await run(batches, known("event_1"))
    assert result == TrackResult("event_1", 2, b"event_1", replayed=False)
    assert batches.lookups == [({("proj_1", "sign_up")}, set(), {("proj_1", "known")})]
    ((insertion,), new) = batches.inserts[0]
    assert new == [] and insertion.event.customer_id == "cust_known"
    assert insertion.due_ms == NOW_MS and insertion.event.schema_id == "ms_1"
    assert [m.distribution_id for m in insertion.deliveries] == ["distr_1", "distr_2"]


def _unknown_name(cmd: TrackCommand) -> TrackCommand:
    return replace(cmd, event_name="nope")


def _bad_metadata(cmd: TrackCommand) -> TrackCommand:
    return replace(cmd, metadata={"plan": 1})


def _renamed(cmd: TrackCommand) -> TrackCommand:
    return replace(cmd, customer_fields=CustomerFields(name="Other"))


def _unknown_id(cmd: TrackCommand) -> TrackCommand:
    return replace(cmd, customer=CustomerRef(id="cust_nobody"))


def _other_project(cmd: TrackCommand) -> TrackCommand:
    return replace(cmd, customer=CustomerRef(id="cust_elsewhere"))


def _anonymous(cmd: TrackCommand) -> TrackCommand:
    return replace(cmd, customer=CustomerRef())


@pytest.mark.parametrize(
    "change",
    [_unknown_name, _bad_metadata, _renamed, _unknown_id, _other_project, _anonymous],
    ids=lambda f: f.__name__.strip("_"),
)
async def test_an_event_the_batch_cannot_answer_falls_back_and_inserts_nothing(
    change: Callable[[TrackCommand], TrackCommand],
) -> None:
    batches = FakeBatches(lookup())
    results = await run(batches, change(known("event_odd")), known("event_ok"))
    assert results[0] is None and results[1] is not None
    assert batches.inserted_ids() == ["event_ok"]


async def test_an_event_triggering_a_promotion_purpose_falls_back() -> None:
    promo = replace(
        distribution("distr_2"), action={"type": "publish_unique_code", "campaign_id": "c"}
    )
    batches = FakeBatches(lookup(distribution(), promo))
    assert await run(batches, known("event_1")) == [None]
    assert batches.inserts == []


async def test_a_paused_distribution_among_the_candidates_gets_no_message() -> None:
    batches = FakeBatches(lookup(distribution(), distribution("distr_2", status="PAUSED")))
    (result,) = await run(batches, known("event_1"))
    assert result is not None and result.enqueued == 1
    ((insertion,), _) = batches.inserts[0]
    assert [m.distribution_id for m in insertion.deliveries] == ["distr_1"]


async def test_two_events_of_one_new_source_id_create_one_customer() -> None:
    batches = FakeBatches(lookup())
    results = await run(batches, command("event_1", "fresh"), command("event_2", "fresh"))
    assert all(r is not None for r in results)
    ((first, second), new) = batches.inserts[0]
    assert [c.source_id for c in new] == ["fresh"] and new[0].name == "N"
    assert first.event.customer_id == second.event.customer_id == new[0].id


async def test_a_failing_lookup_sends_every_event_to_the_transaction() -> None:
    batches = FakeBatches(lookup(), fail_lookup=True)
    assert await run(batches, known("event_1"), known("event_2")) == [None, None]
    assert batches.inserts == []


async def test_a_failing_insert_sends_every_event_to_the_transaction() -> None:
    batches = FakeBatches(lookup(), fail_insert=True)
    results = await run(batches, known("event_1"), _unknown_name(known("event_2")))
    assert results == [None, None]


async def test_an_event_the_insert_did_not_store_falls_back() -> None:
    batches = FakeBatches(lookup(), lost={"event_2"})
    results = await run(batches, known("event_1"), known("event_2"))
    assert results[0] is not None and results[0].event_id == "event_1"
    assert results[1] is None


async def test_an_event_whose_rendering_fails_falls_back_alone() -> None:
    def crash(event: Any, holder: Customer) -> bytes:
        raise RuntimeError("a bug while rendering")

    batches = FakeBatches(lookup())
    results = await track_batch(batches, [(known("event_1"), crash), (known("event_2"), render)])
    assert results[0] is None and results[1] is not None
    assert batches.inserted_ids() == ["event_2"]


async def test_a_new_customer_whose_only_event_falls_back_is_not_created() -> None:
    def crash(event: Any, holder: Customer) -> bytes:
        raise RuntimeError("a bug while rendering")

    batches = FakeBatches(lookup())
    await track_batch(batches, [(command("event_1", "fresh"), crash), (known("event_2"), render)])
    ((insertion,), new) = batches.inserts[0]
    assert insertion.event.id == "event_2" and new == []


# --- on PostgreSQL --------------------------------------------------------------------------------


@dataclass
class Watched:
    """A store whose batches and transactions are counted (what :class:`Ingest` uses of it)."""

    store: Storage
    batch_sizes: list[int] = field(default_factory=list)
    transactions: int = 0

    @property
    def batches(self) -> Batches:
        real = self.store.batches
        assert real is not None
        watched = self

        class Counting:
            async def lookup(self, *args: Any) -> BatchLookup:
                return await real.lookup(*args)

            async def insert(
                self, insertions: Sequence[Insertion], new: Sequence[Customer]
            ) -> set[str]:
                watched.batch_sizes.append(len(insertions))
                return await real.insert(insertions, new)

        return Counting()

    async def transaction(
        self, project_id: str, now: str, work: Callable[[Tx], Coroutine[Any, Any, Any]]
    ) -> Any:
        self.transactions += 1
        return await self.store.transaction(project_id, now, work)


async def test_a_burst_of_plain_events_is_answered_through_batches(store: Storage) -> None:
    watched = Watched(store)
    ingest = Ingest(cast(Storage, watched))
    try:
        results = await asyncio.gather(
            *(ingest.track(command(f"event_{i}", f"c{i % 5}"), render) for i in range(20))
        )
    finally:
        await ingest.close()
    assert [r.response for r in results] == [f"event_{i}".encode() for i in range(20)]
    assert watched.transactions == 0, "no event needed a transaction of its own"
    assert sum(watched.batch_sizes) == 20 and max(watched.batch_sizes) > 1
    _, total = await store.list_events("proj_1", Page(10, 1), customer_id=None, event_name=None)
    assert total == 20 and await customers_in(store) == 5


async def test_an_event_that_fails_a_distributions_conditions_takes_the_transaction() -> None:
    """The outcome it records is a write, which only the tracking transaction makes."""
    pro_only = replace(
        distribution("distr_2"),
        conditions={"junction": "AND", "event.metadata.plan": {"conditions": {"$is": ["pro"]}}},
    )
    batches = FakeBatches(lookup(distribution(), pro_only))
    assert await run(batches, known("event_1")) == [None]  # command() sends plan "p"
    assert batches.inserted_ids() == []
    met = replace(command("event_2", "known"), metadata={"plan": "pro"})
    (result,) = await run(batches, met)
    assert result is not None and result.enqueued == 2


async def test_an_event_for_a_distribution_with_a_reentry_limit_takes_the_transaction() -> None:
    """Counting and recording sends needs the customer held: only the transaction does that."""
    once = replace(distribution("distr_2"), reentry={"mode": "once_per_customer"})
    batches = FakeBatches(lookup(distribution(), once))
    assert await run(batches, known("event_1")) == [None]
    assert batches.inserted_ids() == []
