"""Simulation over history (``pipeline/simulate.py``): the reads it rests on, on a real store of
each backend, and ``replay``'s counting, pure, with times taken from the events."""

from __future__ import annotations

from dataclasses import replace

import pytest

from sendout.clock import from_ms, isoformat, parse_iso, to_ms
from sendout.errors import InvalidInput
from sendout.pipeline import simulate as simulation
from sendout.pipeline.simulate import Purpose, replay, simulate
from sendout.records import Customer, Event, History
from sendout.storage.base import Storage
from support.promotion_store import campaign, publish
from support.storage import NOW, command, distribution, track


def at(hours: float) -> str:
    """``NOW`` plus some hours, as stored."""
    return isoformat(from_ms(to_ms(parse_iso(NOW)) + int(hours * 3_600_000)))


async def test_history_keeps_the_stored_order_of_events_within_one_millisecond(
    store: Storage,
) -> None:
    """Ids do not sort by time: events of one millisecond replay as stored, never by id."""
    ids = ["event_z", "event_a", "event_m", "event_b"]
    for n, event_id in enumerate(ids):
        await track(store, command(event_id, f"c{n % 2}", at(1)))

    history = await store.history("proj_1", "sign_up", at(0), at(2), 10)

    assert [e.id for e in history.events] == ids


async def test_history_is_the_range_of_one_name_oldest_first_with_customers_as_now(
    store: Storage,
) -> None:
    await store.create_event_schema("proj_1", "ms_2", "purchase", {}, NOW)
    for n, hours in enumerate((3, 1, 2, 5)):
        await track(store, command(f"event_{n}", f"c{n % 2}", at(hours)))
    other = replace(command("event_other", "c0", at(2)), event_name="purchase", metadata={})
    await track(store, other)

    history = await store.history("proj_1", "sign_up", at(1), at(5), 10)

    assert [e.id for e in history.events] == ["event_1", "event_2", "event_0"]  # [1h, 5h)
    assert sorted(c.source_id for c in history.customers.values()) == ["c0", "c1"]
    assert [e.id for e in (await store.history("proj_1", "sign_up", at(0), at(9), 2)).events] == [
        "event_1",
        "event_2",
    ]
    await store.delete_customer("proj_1", "c1")
    left = await store.history("proj_1", "sign_up", at(1), at(5), 10)
    assert [c.source_id for c in left.customers.values()] == ["c0"]
    assert len(left.events) == 3  # the events stay; replay leaves out those without a customer


async def test_campaign_holders_are_the_customers_a_code_was_published_to(
    store: Storage,
) -> None:
    made = await store.create_campaign(campaign("stock"), (), 3)
    await publish(store, "holder", campaign=made.id)
    holder = await store.get_customer("proj_1", "holder")
    assert await store.campaign_holders("proj_1", made.id) == frozenset({holder.id})
    assert (await store.code_counts("proj_1", made.id)).remaining == 2


async def test_a_range_holding_more_than_the_limit_is_refused(
    store: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(3):
        await track(store, command(f"event_{n}", "c1", at(n)))
    monkeypatch.setattr(simulation, "MAX_EVENTS", 2)
    with pytest.raises(InvalidInput) as refused:
        await simulate(store, distribution(), at(0), at(9))
    assert refused.value.key == "too_many_events"
    monkeypatch.setattr(simulation, "MAX_EVENTS", 3)
    assert (await simulate(store, distribution(), at(0), at(9))).would_send == 3


def customer(cid: str, **metadata: str) -> Customer:
    return Customer(cid, "proj_1", cid, None, None, None, None, None, None, metadata, NOW, None)


def event(n: int, cid: str, hours: float, **metadata: str) -> Event:
    return Event(
        f"event_{n}", "proj_1", "sign_up", cid, "ms_1", metadata, None, None, "v", at(hours)
    )


def test_a_limited_reentry_counts_the_sends_of_the_window_ending_at_each_event() -> None:
    once_a_day = replace(distribution(), reentry={"mode": "limited", "limit": 1, "period": "P1D"})
    timeline = [event(1, "a", 0), event(2, "a", 12), event(3, "a", 24), event(4, "a", 30)]
    result = replay(once_a_day, History(tuple(timeline), {"a": customer("a")}), Purpose())
    # 0h sends; 12h is inside its day; 24h is a full day later and sends; 30h is inside that one
    assert (result.would_send, result.skipped) == (2, {"reentry_limit": 2})


def test_conditions_see_the_customer_and_a_held_event_is_no_entry() -> None:
    vip = replace(
        distribution(),
        conditions={"customer.metadata.tier": {"conditions": {"$is": ["vip"]}}},
        reentry={"mode": "once_per_customer"},
    )
    customers = {"a": customer("a", tier="vip"), "b": customer("b", tier="basic")}
    timeline = (event(1, "b", 0), event(2, "a", 1), event(3, "a", 2), event(4, "gone", 3))
    result = replay(vip, History(timeline, customers), Purpose())
    assert (result.events, result.would_send, result.customers, result.customers_sent) == (
        3,
        1,
        2,
        1,
    )
    assert result.skipped == {"conditions_not_met": 1, "reentry_limit": 1}
