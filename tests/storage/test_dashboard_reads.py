"""The reads the dashboard adds, on every backend: deliveries by time, the request a delivery
posts."""

from __future__ import annotations

import pytest

from sendout.errors import NotFound
from sendout.records import Page
from sendout.storage.base import DeliveryFilter, Storage
from support.storage import command, enqueue


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
