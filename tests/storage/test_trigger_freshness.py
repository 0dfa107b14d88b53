"""What an event triggers is read as it is now on every backend: a distribution or a schema
created, changed or deleted through another store (another process's connections) applies to
the very next event, though SQLite keeps what it read between transactions."""

from __future__ import annotations

from dataclasses import replace

import pytest

from sendout.errors import InvalidInput
from sendout.records import PropertyDef
from sendout.storage.base import Storage
from support.storage import NOW, command, distribution, track
from support.storage_fixtures import OpenStore


async def enqueued(store: Storage, event_id: str, event_name: str = "sign_up") -> int:
    return (await track(store, replace(command(event_id), event_name=event_name))).enqueued


async def test_distributions_changed_elsewhere_apply_to_the_next_event(
    store: Storage, open_store: OpenStore
) -> None:
    assert await enqueued(store, "e1") == 1
    other = await open_store()
    await other.create_distribution(distribution("distr_2"))
    assert await enqueued(store, "e2") == 2
    await other.replace_distribution(distribution("distr_1", status="PAUSED"))
    assert await enqueued(store, "e3") == 1
    await other.delete_distribution("proj_1", "distr_2", NOW)
    assert await enqueued(store, "e4") == 0
    await other.replace_distribution(distribution("distr_1"))
    assert await enqueued(store, "e5") == 1


async def test_schemas_changed_elsewhere_apply_to_the_next_event(
    store: Storage, open_store: OpenStore
) -> None:
    with pytest.raises(InvalidInput) as unknown:
        await enqueued(store, "e1", "order_paid")
    assert unknown.value.key == "unknown_event"
    other = await open_store()
    schema = await other.create_event_schema("proj_1", "ms_2", "order_paid", {}, NOW)
    assert await enqueued(store, "e2", "order_paid") == 0
    # command() sends {"plan": "p"}: a number is now required there, so the event is refused.
    await other.update_event_schema("proj_1", schema.id, {"plan": PropertyDef("number")}, NOW)
    with pytest.raises(InvalidInput) as refused:
        await enqueued(store, "e3", "order_paid")
    assert refused.value.key != "unknown_event"
    await other.delete_event_schema("proj_1", schema.id)
    with pytest.raises(InvalidInput) as gone:
        await enqueued(store, "e4", "order_paid")
    assert gone.value.key == "unknown_event"
