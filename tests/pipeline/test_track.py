"""The tracking pipeline (``pipeline/track.py``) on a real store of each backend.

Each event is tracked both through :class:`~sendout.pipeline.track.Ingest` (batches where
PostgreSQL allows) and through ``store.transaction`` running :func:`track` alone; the rows it
leaves (customer, event, one outbox message per channel of each matching active distribution)
and the refusals that leave none are the same either way.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from typing import Any

import pytest

from sendout.errors import Conflict, InvalidInput
from sendout.pipeline.commands import RenderEvent, TrackCommand, TrackResult
from sendout.pipeline.track import Ingest, track
from sendout.promotions.campaigns import voucher_template
from sendout.records import Channel, Customer, CustomerFields, Event, Page, PropertyDef
from sendout.storage.base import DeliveryFilter, IdempotencyKey, PublicationFilter, Storage
from support.promotion_store import campaign
from support.storage import NOW, NOW_MS, command, customers_in, distribution, render

Track = Callable[[TrackCommand, RenderEvent], Awaitable[TrackResult]]
URL = "http://127.0.0.1:1/x"
LATER = "2026-01-01T00:00:01.000Z"


@pytest.fixture(params=["ingest", "transaction"])
async def tracking(request: pytest.FixtureRequest, store: Storage) -> AsyncIterator[Track]:
    """Track one event through ``Ingest``, or through ``track`` in a transaction of its own."""
    if request.param == "transaction":

        async def alone(cmd: TrackCommand, render: RenderEvent) -> TrackResult:
            return await store.transaction(
                cmd.project_id, cmd.created_at, lambda tx: track(tx, cmd, render)
            )

        yield alone
        return
    ingest = Ingest(store)
    yield ingest.track
    await ingest.close()


async def send(tracking: Track, cmd: TrackCommand, render: RenderEvent = render) -> TrackResult:
    return await tracking(cmd, render)


async def nothing_stored(store: Storage) -> bool:
    _, events = await store.list_events("proj_1", Page(10, 1), customer_id=None, event_name=None)
    _, deliveries = await store.list_deliveries("proj_1", Page(10, 1), DeliveryFilter())
    return (await customers_in(store), events, deliveries) == (0, 0, 0)


async def envelopes(store: Storage) -> list[dict[str, Any]]:
    """The bodies of every message due now."""
    claimed = await store.claim_due(NOW_MS, 100, 30_000, retries=False)
    return [json.loads(m.body) for m in claimed]


async def test_an_event_sends_one_message_per_channel_of_each_active_matching_distribution(
    store: Storage, tracking: Track
) -> None:
    two = (Channel("webhook", "first", URL), Channel("webhook", "second", URL))
    await store.create_distribution(
        replace(distribution("distr_2"), channels=two, created_at=LATER)
    )
    await store.create_distribution(distribution("distr_paused", status="PAUSED"))
    await store.create_event_schema("proj_1", "ms_2", "purchase", {}, NOW)
    await store.create_distribution(replace(distribution("distr_other"), trigger_event="purchase"))

    result = await send(tracking, command("event_1"))

    assert result == TrackResult("event_1", 3, b"event_1", replayed=False)
    customer = await store.get_customer("proj_1", "c1")
    events, _ = await store.list_events("proj_1", Page(10, 1), customer_id=None, event_name=None)
    assert [(e.id, e.customer_id, e.schema_id) for e in events] == [
        ("event_1", customer.id, "ms_1")
    ]
    sent = await envelopes(store)
    assert sorted((e["source"]["id"], e["type"]) for e in sent) == [
        ("distr_1", "n"),
        ("distr_2", "first"),
        ("distr_2", "second"),
    ]
    assert {e["data"]["event"]["id"] for e in sent} == {"event_1"}
    assert {e["data"]["customer"]["id"] for e in sent} == {customer.id}
    activities = {e["event"]["id"] for e in sent}
    assert len(activities) == 1, "one activity id shared by every message of the event"
    assert len({e["id"] for e in sent}) == 3


async def test_a_paused_distribution_or_one_on_another_event_sends_nothing(
    store: Storage, tracking: Track
) -> None:
    await store.replace_distribution(distribution(status="PAUSED"))
    await store.create_event_schema("proj_1", "ms_2", "purchase", {}, NOW)
    await store.create_distribution(replace(distribution("distr_2"), trigger_event="purchase"))
    result = await send(tracking, command("event_1"))
    assert result.enqueued == 0
    _, deliveries = await store.list_deliveries("proj_1", Page(10, 1), DeliveryFilter())
    assert deliveries == 0
    _, events = await store.list_events("proj_1", Page(10, 1), customer_id=None, event_name=None)
    assert events == 1, "the event itself is stored"


async def test_invalid_metadata_is_refused_and_stores_nothing(
    store: Storage, tracking: Track
) -> None:
    with pytest.raises(InvalidInput) as refused:
        await send(tracking, replace(command("event_1"), metadata={"plan": 1}))
    assert refused.value.key == "metadata_validation_failed"
    assert await nothing_stored(store)


async def test_an_unknown_event_name_is_refused_and_stores_nothing(
    store: Storage, tracking: Track
) -> None:
    with pytest.raises(InvalidInput) as refused:
        await send(tracking, replace(command("event_1"), event_name="nope"))
    assert refused.value.key == "unknown_event"
    assert await nothing_stored(store)


async def test_a_repeated_idempotency_key_replays_the_first_answer_and_writes_nothing(
    store: Storage, tracking: Track
) -> None:
    key = IdempotencyKey("POST /v1/events", "k-1", "hash-1", 0)
    first = await send(tracking, replace(command("event_1"), idempotency=key))
    again = await send(tracking, replace(command("event_2", "c2"), idempotency=key))
    assert again == TrackResult("", 0, first.response, replayed=True)
    assert first.response == b"event_1"
    with pytest.raises(Conflict):
        await send(
            tracking, replace(command("event_3"), idempotency=replace(key, request_hash="x"))
        )
    _, events = await store.list_events("proj_1", Page(10, 1), customer_id=None, event_name=None)
    _, deliveries = await store.list_deliveries("proj_1", Page(10, 1), DeliveryFilter())
    assert (events, deliveries, await customers_in(store)) == (1, 1, 1)


async def publishing_distribution(store: Storage, codes: int) -> None:
    """``distr_2`` publishes a code of campaign ``spring`` (holding ``codes`` codes)."""
    await store.create_campaign(campaign("spring"), [], codes)
    action = {"type": "publish_unique_code", "campaign_id": "camp_spring"}
    await store.create_distribution(replace(distribution("distr_2"), action=action))


async def test_a_publishing_distribution_publishes_one_code_and_sends_it(
    store: Storage, tracking: Track
) -> None:
    await publishing_distribution(store, 2)
    result = await send(tracking, command("event_1"))
    assert result.enqueued == 2
    customer = await store.get_customer("proj_1", "c1")
    publications, total = await store.list_publications("proj_1", Page(10, 1), PublicationFilter())
    assert total == 1
    publication, holder, _ = publications[0]
    assert holder.id == customer.id and len(publication.vouchers) == 1
    code = publication.vouchers[0].code
    by_distribution = {e["source"]["id"]: e["data"] for e in await envelopes(store)}
    assert by_distribution["distr_2"]["voucher"]["code"] == code
    assert by_distribution["distr_2"]["publication"]["id"] == publication.id
    assert "voucher" not in by_distribution["distr_1"]


async def test_a_refused_publication_records_an_outcome_and_only_that_distribution_stays_silent(
    store: Storage, tracking: Track
) -> None:
    await publishing_distribution(store, 0)
    result = await send(tracking, command("event_1"))
    assert result.enqueued == 1
    assert [e["source"]["id"] for e in await envelopes(store)] == ["distr_1"]
    outcomes, total = await store.list_distribution_outcomes(
        "proj_1", Page(10, 1), distribution_id="distr_2", result=None
    )
    assert total == 1 and outcomes[0].result == "no_voucher_suitable_for_publication"
    assert outcomes[0].event_id == "event_1" and outcomes[0].campaign_id == "camp_spring"


async def test_the_publication_is_rolled_back_with_an_event_that_fails_later(
    store: Storage, tracking: Track
) -> None:
    def crash(event: Event, customer: Customer) -> bytes:
        raise RuntimeError("a bug while rendering")

    await publishing_distribution(store, 1)
    with pytest.raises(RuntimeError):
        await send(tracking, command("event_1"), crash)
    _, total = await store.list_publications("proj_1", Page(10, 1), PublicationFilter())
    voucher_list, _ = await store.list_vouchers(
        "proj_1", Page(10, 1), campaign="spring", holder_id=None
    )
    assert total == 0 and [v.holder_id for v, _ in voucher_list] == [None]
    assert await nothing_stored(store)


async def test_a_refused_referral_code_rolls_back_the_customer_upsert(
    store: Storage, tracking: Track
) -> None:
    await send(tracking, command("event_0"))
    renamed = replace(command("event_1"), customer_fields=CustomerFields(name="Renamed"))
    for cmd in (
        replace(renamed, referral={"code": "NOPE"}),
        replace(command("event_2", "new"), referral={"code": "NOPE"}),
    ):
        with pytest.raises(InvalidInput) as refused:
            await send(tracking, cmd)
        assert refused.value.key == "referral_code_not_found"
    assert (await store.get_customer("proj_1", "c1")).name == "N"
    assert await customers_in(store) == 1
    _, events = await store.list_events("proj_1", Page(10, 1), customer_id=None, event_name=None)
    assert events == 1


async def test_an_earning_event_through_the_pipeline_credits_the_card_and_echoes_it(
    store: Storage, tracking: Track
) -> None:
    await store.create_event_schema(
        "proj_1", "ms_2", "purchase", {"amount": PropertyDef("number")}, NOW
    )
    await store.create_distribution(replace(distribution("distr_2"), trigger_event="purchase"))
    template = voucher_template("LOYALTY_PROGRAM", {"type": "LOYALTY_CARD"})
    cards = campaign("cards", campaign_type="LOYALTY_PROGRAM", voucher=template)
    await store.create_campaign(cards, [], 0)
    await store.add_voucher("proj_1", "cards", "CARD-1", {}, NOW)
    rule = {"event": "purchase", "loyalty": {"type": "FIXED", "points": 5}}
    await store.create_earning_rules("proj_1", "cards", [rule], NOW)
    cmd = replace(
        command("event_1"),
        event_name="purchase",
        metadata={"amount": 3},
        loyalty={"code": "CARD-1"},
    )
    assert (await send(tracking, cmd)).enqueued == 1
    (sent,) = await envelopes(store)
    assert sent["data"]["event"]["loyalty"] == {"code": "CARD-1"}
    assert sent["data"]["loyalty"]["voucher"]["loyalty_card"] == {"points": 5, "balance": 5}
