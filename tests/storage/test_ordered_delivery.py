"""Ordered delivery on every backend: a channel with ``"ordering": "per_customer"`` hands out one
customer's deliveries one at a time, in event order, and a delivery that keeps failing holds
back only its own customer's later ones.

Each test tracks events through the real pipeline into a fresh store, then plays the worker:
claim, and record what each attempt did.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace

import asyncpg
import pytest

from sendout.outbox.ordering import lock_name
from sendout.records import ClaimedDelivery, Delivery, Outcome, Page
from sendout.storage.base import DeliveryFilter, Storage
from support.postgres import one_waits_for_a_lock
from support.storage import NOW, NOW_MS, SOON_MS, command, distribution, track
from support.storage_fixtures import OpenStore

LEASE = 30_000


async def ordered(store: Storage) -> None:
    """Make ``distr_1``'s one channel ordered per customer."""
    d = distribution()
    await store.replace_distribution(
        replace(d, channels=(replace(d.channels[0], ordering="per_customer"),))
    )


async def track_all(store: Storage, *events: tuple[str, str]) -> None:
    """Track ``(event id, customer source id)`` pairs one after another."""
    for event_id, source in events:
        await track(store, command(event_id, source))


def event_of(m: ClaimedDelivery) -> str:
    return str(json.loads(m.body)["data"]["event"]["id"])


async def claim(store: Storage, now_ms: int = NOW_MS) -> dict[str, ClaimedDelivery]:
    """Everything due now, first attempts and retries, by event id."""
    first = await store.claim_due(now_ms, 100, LEASE, retries=False)
    again = await store.claim_due(now_ms, 100, LEASE, retries=True)
    return {event_of(m): m for m in [*first, *again]}


def outcome(m: ClaimedDelivery, at_ms: int, *, delivered: bool, retry_at: int | None) -> Outcome:
    code = 200 if delivered else 500
    return Outcome(
        m.id, m.distribution_id, m.channel_index, at_ms, code, 1.0, None, None, delivered,
        retry_at, order_key=m.order_key,
    )  # fmt: skip


async def finish(store: Storage, *claimed: ClaimedDelivery, at_ms: int = NOW_MS) -> None:
    outcomes = [outcome(m, at_ms, delivered=True, retry_at=None) for m in claimed]
    await store.record_outcomes(outcomes, pause_after=100, now=NOW)


async def deliveries_by_event(store: Storage) -> dict[str, Delivery]:
    found, _ = await store.list_deliveries("proj_1", Page(100, 1), DeliveryFilter())
    return {d.event_id: d for d in found}


async def test_one_customer_is_delivered_in_event_order(store: Storage) -> None:
    await ordered(store)
    await track_all(store, ("e1", "ann"), ("e2", "ann"), ("e3", "bob"), ("e4", "ann"))
    shown = await deliveries_by_event(store)
    assert [e for e, d in sorted(shown.items()) if d.held] == ["e2", "e4"]
    assert shown["e2"].status == "pending" and shown["e2"].next_attempt_at is None
    assert not shown["e1"].held and shown["e1"].next_attempt_at is not None

    first = await claim(store)
    assert sorted(first) == ["e1", "e3"]  # one per customer: ann's oldest, bob's only
    assert first["e1"].order_key is not None and first["e3"].order_key != first["e1"].order_key
    await finish(store, first["e1"])
    second = await claim(store)
    assert sorted(second) == ["e2"]  # bob's e3 is still leased, not claimed twice
    await finish(store, second["e2"], first["e3"])
    assert sorted(await claim(store)) == ["e4"]


async def test_a_failing_delivery_holds_back_only_its_own_customer(store: Storage) -> None:
    await ordered(store)
    await track_all(store, ("e1", "ann"), ("e2", "ann"), ("e3", "bob"), ("e4", "bob"))
    first = await claim(store)
    retry_at = NOW_MS + 5_000
    await store.record_outcomes(
        [
            outcome(first["e1"], NOW_MS, delivered=False, retry_at=retry_at),
            outcome(first["e3"], NOW_MS, delivered=True, retry_at=None),
        ],
        pause_after=100,
        now=NOW,
    )
    assert sorted(await claim(store)) == ["e4"]  # ann's e2 waits behind e1's retry
    retried = await claim(store, retry_at)
    assert sorted(retried) == ["e1"]
    # Failed for good: the next of ann's deliveries goes.
    await store.record_outcomes(
        [outcome(retried["e1"], retry_at, delivered=False, retry_at=None)],
        pause_after=100,
        now=NOW,
    )
    assert sorted(await claim(store, retry_at)) == ["e2"]
    assert (await deliveries_by_event(store))["e1"].status == "failed"


async def test_unordered_channels_are_not_held(store: Storage) -> None:
    await track_all(store, ("e1", "ann"), ("e2", "ann"))
    claimed = await claim(store)
    assert sorted(claimed) == ["e1", "e2"]
    assert all(m.order_key is None for m in claimed.values())


async def test_a_resent_delivery_waits_for_its_turn(store: Storage) -> None:
    await ordered(store)
    await track_all(store, ("e1", "ann"), ("e2", "ann"), ("e3", "ann"))
    first = await claim(store)
    await finish(store, first["e1"])  # e2 is free now, e3 held
    resent = await store.resend_delivery("proj_1", first["e1"].id, NOW_MS)
    assert resent.status == "pending" and resent.held and resent.next_attempt_at is None
    second = await claim(store)
    assert sorted(second) == ["e2"]
    await finish(store, second["e2"])
    assert sorted(await claim(store)) == ["e1"]  # the older of the held ones, before e3


async def test_a_resent_delivery_alone_goes_at_once(store: Storage) -> None:
    await ordered(store)
    await track_all(store, ("e1", "ann"))
    await finish(store, *(await claim(store)).values())
    resent = await store.resend_delivery(
        "proj_1", (await deliveries_by_event(store))["e1"].id, NOW_MS
    )
    assert not resent.held and resent.next_attempt_at is not None
    assert sorted(await claim(store)) == ["e1"]


async def test_replayed_deliveries_go_again_in_event_order(store: Storage) -> None:
    await ordered(store)
    await track_all(store, ("e1", "ann"), ("e2", "ann"), ("e3", "bob"))
    for _ in range(2):  # ann's two and bob's one fail for good
        claimed = await claim(store)
        await store.record_outcomes(
            [outcome(m, NOW_MS, delivered=False, retry_at=None) for m in claimed.values()],
            pause_after=100,
            now=NOW,
        )
    assert {d.status for d in (await deliveries_by_event(store)).values()} == {"failed"}
    assert await store.replay_deliveries("proj_1", "distr_1", NOW, NOW_MS) == 3
    first = await claim(store)
    assert sorted(first) == ["e1", "e3"]
    await finish(store, *first.values())
    assert sorted(await claim(store)) == ["e2"]


async def test_resuming_a_paused_channel_keeps_later_deliveries_held(store: Storage) -> None:
    await ordered(store)
    await track_all(store, ("e1", "ann"), ("e2", "ann"))
    first = await claim(store)
    await store.record_outcomes(  # the channel pauses after one failure
        [outcome(first["e1"], NOW_MS, delivered=False, retry_at=NOW_MS + 60_000)],
        pause_after=1,
        now=NOW,
    )
    assert (await store.get_distribution("proj_1", "distr_1")).paused
    await store.resume_distribution("proj_1", "distr_1", NOW, NOW_MS + 1)
    assert sorted(await claim(store, NOW_MS + 1)) == ["e1"]  # due again, e2 still held
    assert (await deliveries_by_event(store))["e2"].held


async def test_the_queue_counts_held_deliveries_as_waiting_not_late(store: Storage) -> None:
    await ordered(store)
    await track_all(store, ("e1", "ann"), ("e2", "ann"))
    [counts] = await store.queue_counts("proj_1", NOW_MS, NOW_MS)
    assert (counts.pending, counts.due, counts.oldest_due_ms) == (2, 1, NOW_MS)
    assert await store.next_due_ms(SOON_MS) == NOW_MS
    await finish(store, *(await claim(store)).values())
    await finish(store, *(await claim(store)).values())
    assert await store.next_due_ms(SOON_MS) is None


async def test_racing_writers_never_free_two_of_one_customer(
    store: Storage, open_store: OpenStore
) -> None:
    """Two stores (as two processes) track one customer's events at once, then claim and finish
    in turns while the other tracks more: never two of the customer's deliveries out at once,
    and they go in the order the events were stored."""
    await ordered(store)
    stores = [store, await open_store()]
    events = [f"e{n:02d}" for n in range(24)]
    await asyncio.gather(*(track(stores[n % 2], command(e, "ann")) for n, e in enumerate(events)))
    delivered: list[str] = []
    for turn in range(3 * len(events)):
        claimed = await claim(stores[turn % 2])
        assert len(claimed) <= 1
        if not claimed:
            break
        delivered.extend(claimed)
        done = finish(stores[turn % 2], *claimed.values())
        if turn < 12:  # another event of the customer, stored meanwhile through the other store
            await asyncio.gather(
                done, track(stores[(turn + 1) % 2], command(f"m{turn:02d}", "ann"))
            )
        else:
            await done
    history = await store.history("proj_1", "sign_up", NOW, "2026-01-02T00:00:00.000Z", 100)
    stored_order = [e.id for e in history.events]
    assert len(stored_order) == len(events) + 12
    assert delivered == stored_order


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)  # SQLite has one writer
async def test_writers_of_one_customer_take_turns(
    store: Storage, backend: str, database_url: str
) -> None:
    """Storing a customer's ordered delivery, and finishing one, waits for any other writer of
    that customer (here a session holding the customer's lock), then sees what it committed."""
    await ordered(store)
    await track_all(store, ("e1", "ann"))
    [head] = (await claim(store)).values()
    assert head.order_key is not None
    other = await asyncpg.connect(database_url)
    try:
        holding = other.transaction()
        await holding.start()
        name = "\x1f".join(lock_name(("distr_1", 0, head.order_key)))
        await other.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", name)
        tracking = asyncio.create_task(track(store, command("e2", "ann")))
        await one_waits_for_a_lock(other)
        finishing = asyncio.create_task(finish(store, head))
        await asyncio.sleep(0.2)
        assert not tracking.done() and not finishing.done()
        await holding.commit()
        await asyncio.gather(tracking, finishing)
    finally:
        await other.close()
    assert sorted(await claim(store)) == ["e2"]
