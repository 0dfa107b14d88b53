"""What the API hands the pipeline for one tracked event, and what it gets back."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sendout.promotions.rewards import Rewards
from sendout.records import Customer, CustomerFields, Event
from sendout.storage.base import CustomerRef, IdempotencyKey

__all__ = ["RenderEvent", "TrackCommand", "TrackResult"]

RenderEvent = Callable[[Event, Customer], bytes]  # the 200 body, stored with an idempotency key


@dataclass(frozen=True, slots=True)
class TrackCommand:
    project_id: str
    event_id: str
    event_name: str
    customer: CustomerRef
    customer_fields: CustomerFields
    metadata: dict[str, Any]
    referral: dict[str, Any] | None
    loyalty: dict[str, Any] | None
    request_id: str
    created_at: str
    created_at_ms: int
    event_source: dict[str, Any]  # the webhook's ``source``: how the event came in
    idempotency: IdempotencyKey | None = None

    def event(self, schema_id: str, customer_id: str, rewards: Rewards) -> Event:
        """The event this command stores."""
        return Event(
            id=self.event_id,
            project_id=self.project_id,
            type=self.event_name,
            customer_id=customer_id,
            schema_id=schema_id,
            metadata=self.metadata,
            referral=rewards.event_referral,
            loyalty=rewards.event_loyalty,
            request_id=self.request_id,
            created_at=self.created_at,
        )


@dataclass(frozen=True, slots=True)
class TrackResult:
    event_id: str
    enqueued: int
    response: bytes  # the rendered 200 body
    replayed: bool  # True: an earlier request with the same key answered this, nothing new
