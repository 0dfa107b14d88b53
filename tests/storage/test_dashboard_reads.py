"""The reads the dashboard and `sendout status` add, on every backend: deliveries and events by
time, the request a delivery posts, counts per minute and hour, the oldest pending delivery, the
queue of each distribution."""

from __future__ import annotations

import pytest

from sendout.errors import NotFound
from sendout.records import Outcome, Page, QueueCounts
from sendout.storage.base import DeliveryFilter, Storage
from support.storage import NOW, NOW_MS, command, enqueue


async def test_deliveries_filter_by_creation_time(store: Storage) -> None:
    for i, at in enumerate(["2026-01-01T00:00:00.000Z", "2026-01-01T01:00:00.000Z"]):
        await enqueue(store, command(f"event_{i}", f"c{i}", created_at=at))
    everything = DeliveryFilter()
    since = DeliveryFilter(since="2026-01-01T00:30:00.000Z")
    until = DeliveryFilter(until="2026-01-01T00:30:00.000Z", status="pending")
    assert (await store.list_deliveries("proj_1", Page(10, 1), everything))[1] == 2
    late, total = await store.list_deliveries("proj_1", Page(10, 1), since)
    assert total == 1 and late[0].event_id == "event_1"
    early, total = await store.list_deliveries("proj_1", Page(10, 1), until)
    assert total == 1 and early[0].event_id == "event_0"


async def test_a_delivery_request_is_its_url_headers_and_exact_body(store: Storage) -> None:
    await enqueue(store, command("event_0"))
    [delivery], _ = await store.list_deliveries("proj_1", Page(10, 1), DeliveryFilter())
    request = await store.get_delivery_request("proj_1", delivery.id)
    assert (request.url, request.headers, request.body) == ("http://127.0.0.1:1/x", {}, b"{}")
    with pytest.raises(NotFound):
        await store.get_delivery_request("proj_other", delivery.id)


async def test_events_filter_by_creation_time(store: Storage) -> None:
    for i, at in enumerate(["2026-01-01T00:00:00.000Z", "2026-01-01T01:00:00.000Z"]):
        await enqueue(store, command(f"event_{i}", f"c{i}", created_at=at))
    page = Page(10, 1)
    late, total = await store.list_events(
        "proj_1", page, customer_id=None, event_name="sign_up", since="2026-01-01T00:30:00.000Z"
    )
    assert total == 1 and [e.id for e in late] == ["event_1"]
    early, total = await store.list_events(
        "proj_1", page, customer_id=None, event_name=None, until="2026-01-01T00:30:00.000Z"
    )
    assert total == 1 and [e.id for e in early] == ["event_0"]


async def test_events_and_deliveries_are_counted_per_minute_and_hour(store: Storage) -> None:
    times = ["2026-01-01T00:00:10.000Z", "2026-01-01T00:00:50.000Z", "2026-01-01T00:02:00.000Z"]
    for i, at in enumerate(times):
        await enqueue(store, command(f"event_{i}", f"c{i}", created_at=at))
    [claimed, *_] = await store.claim_due(NOW_MS + 10**9, 1, 30_000, retries=False)
    done = Outcome(claimed.id, "distr_1", 0, NOW_MS, 200, 1.0, None, None, True, None)
    await store.record_outcomes([done], pause_after=12, now=NOW)

    since = "2026-01-01T00:00:00.000Z"
    assert await store.events_per_bucket("proj_1", since, 16) == [
        ("2026-01-01T00:00", 2),
        ("2026-01-01T00:02", 1),
    ]
    assert await store.events_per_bucket("proj_1", since, 13) == [("2026-01-01T00", 3)]
    assert await store.events_per_bucket("proj_1", "2026-01-01T00:01:00.000Z", 16) == [
        ("2026-01-01T00:02", 1)
    ]
    assert await store.events_per_bucket("proj_other", since, 16) == []
    assert await store.deliveries_per_bucket("proj_1", since, 13) == [
        ("2026-01-01T00", "delivered", 1),
        ("2026-01-01T00", "pending", 2),
    ]


async def test_the_oldest_pending_delivery_is_the_one_due_first(store: Storage) -> None:
    assert await store.oldest_pending("proj_1") is None
    for i in range(2):
        await enqueue(store, command(f"event_{i}", f"c{i}"))
    first = await store.oldest_pending("proj_1")
    assert first is not None and first.status == "pending"
    [claimed] = await store.claim_due(NOW_MS + 10**9, 1, 30_000, retries=False)
    done = Outcome(claimed.id, "distr_1", 0, NOW_MS, 200, 1.0, None, None, True, None)
    await store.record_outcomes([done], pause_after=12, now=NOW)
    left = await store.oldest_pending("proj_1")
    assert left is not None and left.id != claimed.id
    assert await store.oldest_pending("proj_other") is None


async def test_queue_counts_are_pending_due_oldest_and_failed_lately(store: Storage) -> None:
    assert await store.queue_counts("proj_1", NOW_MS, NOW_MS) == []
    for i in range(3):
        await enqueue(store, command(f"event_{i}", f"c{i}"))
    [claimed] = await store.claim_due(NOW_MS + 10**9, 1, 30_000, retries=False)
    gave_up = Outcome(claimed.id, "distr_1", 0, NOW_MS + 5, 500, 1.0, None, None, False, None)
    await store.record_outcomes([gave_up], pause_after=12, now=NOW)

    due_now = await store.queue_counts("proj_1", NOW_MS, NOW_MS + 5)
    assert due_now == [QueueCounts("distr_1", pending=2, due=2, oldest_due_ms=NOW_MS, failed=1)]
    earlier = await store.queue_counts("proj_1", NOW_MS - 1, NOW_MS + 6)
    assert earlier == [QueueCounts("distr_1", pending=2, due=0, oldest_due_ms=NOW_MS, failed=0)]
    assert await store.queue_counts("proj_other", NOW_MS, 0) == []
