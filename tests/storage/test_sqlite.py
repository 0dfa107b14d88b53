"""SQLite storage verbs on a real file: claims, leases, outcomes, all-or-nothing tracking."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from sendout.errors import InvalidInput, NotFound
from sendout.promotions.rewards import Rewards
from sendout.promotions.tx import PromotionTx
from sendout.records import (
    Channel,
    Customer,
    CustomerFields,
    Distribution,
    Event,
    EventSchema,
    NewMessage,
    Outcome,
    Page,
    Project,
    PropertyDef,
)
from sendout.storage.base import CustomerRef, DeliveryFilter, TrackCommand
from sendout.storage.sqlite import SqliteStorage

NOW = "2026-01-01T00:00:00.000Z"
NOW_MS = 1_767_225_600_000


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStorage]:
    s = SqliteStorage(str(tmp_path / "s.db"))
    await s.open()
    assert (await s.migrate())[:2] == ["0001_initial", "0002_promotions"]
    assert await s.migrate() == []
    await s.create_project(
        Project("proj_1", "P", "app", "tok", "whsec_c2VjcmV0c2VjcmV0c2VjcmV0", NOW), is_default=True
    )
    await s.create_event_schema("proj_1", "ms_1", "sign_up", {"plan": PropertyDef("string")}, NOW)
    await s.create_distribution(
        Distribution(
            "distr_1",
            "proj_1",
            "d",
            "customer.custom_event",
            "sign_up",
            {"type": "plain_message"},
            (Channel("webhook", "n", "http://127.0.0.1:1/x"),),
            "ACTIVE",
            NOW,
            None,
        )
    )
    yield s
    await s.close()


class Plan:
    def __init__(self, fail: bool = False, per_event: int = 1) -> None:
        self.fail = fail
        self.per_event = per_event
        self.count = 0

    def validate(self, schema: EventSchema) -> None:
        if self.fail:
            raise InvalidInput("nope", key="metadata_validation_failed")

    def render(self, event: Event, customer: Customer) -> bytes:
        return event.id.encode()

    async def reward(self, promotions: PromotionTx, customer: Customer, **event: Any) -> Rewards:
        return Rewards()

    async def plan(
        self,
        event: Event,
        schema: EventSchema,
        customer: Customer,
        distributions: Sequence[Distribution],
        promotions: PromotionTx,
        rewards: Rewards,
    ) -> list[NewMessage]:
        messages = []
        for d in distributions:
            for _ in range(self.per_event):
                self.count += 1
                messages.append(
                    NewMessage(
                        f"whs_{event.id}_{self.count}",
                        d.id,
                        0,
                        "n",
                        "http://127.0.0.1:1/x",
                        {},
                        b"{}",
                    )
                )
        return messages


def command(event_id: str, source_id: str = "c1") -> TrackCommand:
    return TrackCommand(
        "proj_1",
        event_id,
        "sign_up",
        CustomerRef(source_id=source_id),
        CustomerFields(name="N"),
        {"plan": "p"},
        None,
        None,
        "v-1",
        NOW,
        NOW_MS,
    )


async def test_tracking_is_all_or_nothing(store: SqliteStorage) -> None:
    with pytest.raises(InvalidInput):
        await store.track_event(command("event_1"), Plan(fail=True))
    assert await store.count_customers("proj_1") == 0
    result = await store.track_event(command("event_2"), Plan())
    assert result.enqueued == 1 and result.response == b"event_2" and not result.replayed
    customer = await store.get_customer("proj_1", "c1")
    assert customer.name == "N"
    events, total = await store.list_events(
        "proj_1", Page(10, 1), customer_id=None, event_name=None
    )
    assert total == 1 and events[0].id == "event_2"


async def test_two_claimers_never_share_a_message(store: SqliteStorage) -> None:
    for i in range(20):
        await store.track_event(command(f"event_{i}", f"c{i}"), Plan(per_event=5))
    a, b = await asyncio.gather(
        store.claim_due(NOW_MS, 60, 30_000, retries=False),
        store.claim_due(NOW_MS, 60, 30_000, retries=False),
    )
    ids_a, ids_b = {m.id for m in a}, {m.id for m in b}
    assert not ids_a & ids_b and len(ids_a | ids_b) == 100
    assert await store.claim_due(NOW_MS, 10, 30_000, retries=False) == []


async def test_expired_leases_are_claimed_again(store: SqliteStorage) -> None:
    await store.track_event(command("event_1"), Plan())
    [first] = await store.claim_due(NOW_MS, 10, 1_000, retries=False)
    assert await store.claim_due(NOW_MS + 999, 10, 1_000, retries=False) == []
    assert await store.next_due_ms() == NOW_MS + 1_000
    [again] = await store.claim_due(NOW_MS + 1_000, 10, 1_000, retries=False)
    assert again.id == first.id and again.secrets[0].startswith("whsec_")


async def test_outcomes_move_messages_through_their_states(store: SqliteStorage) -> None:
    for i in range(3):
        await store.track_event(command(f"event_{i}", f"c{i}"), Plan())
    m1, m2, m3 = await store.claim_due(NOW_MS, 10, 30_000, retries=False)
    await store.record_outcomes(
        [
            Outcome(m1.id, "distr_1", 0, NOW_MS, 200, 1.0, None, "ok", True, None),
            Outcome(m2.id, "distr_1", 0, NOW_MS, 500, 1.0, None, "no", False, NOW_MS + 5_000),
            Outcome(m3.id, "distr_1", 0, NOW_MS, None, 1.0, "timeout", None, False, None),
        ],
        pause_after=12,
        now=NOW,
    )
    by_status = {}
    for status in ("delivered", "pending", "failed"):
        found, total = await store.list_deliveries(
            "proj_1", Page(10, 1), DeliveryFilter(status=status)
        )
        by_status[status] = [d.id for d in found]
    assert by_status == {"delivered": [m1.id], "pending": [m2.id], "failed": [m3.id]}
    assert await store.claim_due(NOW_MS + 4_999, 10, 30_000, retries=True) == []
    assert await store.claim_due(NOW_MS + 5_000, 10, 30_000, retries=False) == []
    [retry] = await store.claim_due(NOW_MS + 5_000, 10, 30_000, retries=True)
    assert retry.id == m2.id and retry.attempts == 1
    delivery = await store.get_delivery("proj_1", m3.id)
    assert delivery.attempts[0].error == "timeout" and delivery.attempts_count == 1


async def test_paused_and_deleted_distributions_hold_their_messages(store: SqliteStorage) -> None:
    await store.track_event(command("event_1"), Plan())
    d = await store.get_distribution("proj_1", "distr_1")
    paused = Distribution(**{**{f: getattr(d, f) for f in d.__slots__}, "status": "PAUSED"})
    await store.replace_distribution(paused)
    assert await store.claim_due(NOW_MS, 10, 30_000, retries=False) == []
    assert await store.next_due_ms() is None
    await store.delete_distribution("proj_1", "distr_1", NOW)
    found, _ = await store.list_deliveries("proj_1", Page(10, 1), DeliveryFilter())
    assert [x.status for x in found] == ["canceled"]


async def test_customers_resolve_by_id_or_source_id(store: SqliteStorage) -> None:
    c = await store.upsert_customer(
        "proj_1", CustomerRef(source_id="s1"), CustomerFields(email="a@b"), NOW
    )
    assert (await store.get_customer("proj_1", "s1")).id == c.id
    assert (await store.get_customer("proj_1", c.id)).email == "a@b"
    with pytest.raises(NotFound):
        await store.upsert_customer("proj_1", CustomerRef(id="cust_nope"), CustomerFields(), NOW)
    with pytest.raises(NotFound):
        await store.get_customer("proj_other", "s1")
