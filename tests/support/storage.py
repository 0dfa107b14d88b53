"""Values and pure helpers the storage suite shares: a fixed clock, a project, a tracking plan."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sendout.errors import InvalidInput
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
)
from sendout.storage.base import CustomerRef, TrackCommand

NOW = "2026-01-01T00:00:00.000Z"
NOW_MS = 1_767_225_600_000
SECRET = "whsec_c2VjcmV0c2VjcmV0c2VjcmV0"


def distribution(distribution_id: str = "distr_1", status: str = "ACTIVE") -> Distribution:
    return Distribution(
        distribution_id,
        "proj_1",
        "d",
        "customer.custom_event",
        "sign_up",
        {"type": "plain_message"},
        (Channel("webhook", "n", "http://127.0.0.1:1/x"),),
        status,
        NOW,
        None,
    )


class Plan:
    """A :class:`sendout.storage.base.Tracking` that enqueues ``per_event`` messages per match."""

    def __init__(self, fail: bool = False, per_event: int = 1, crash: bool = False) -> None:
        self.fail = fail  # refuse the event (a SendoutError, as invalid metadata is)
        self.crash = crash  # fail while planning with an unexpected error (a bug)
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
        if self.crash:
            raise RuntimeError("a bug while planning")
        messages = []
        for d in distributions:
            for _ in range(self.per_event):
                self.count += 1
                messages.append(
                    NewMessage(
                        f"whs_{event.id}_{self.count:04d}",
                        d.id,
                        0,
                        "n",
                        "http://127.0.0.1:1/x",
                        {},
                        b"{}",
                    )
                )
        return messages


def command(event_id: str, source_id: str = "c1", created_at: str = NOW) -> TrackCommand:
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
        created_at,
        NOW_MS,
    )
