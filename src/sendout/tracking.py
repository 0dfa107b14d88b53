"""What tracking one custom event decides: is it valid, and which webhooks does it cause."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sendout import ids
from sendout.actions.purposes import purpose_extras
from sendout.errors import InvalidInput
from sendout.events.metadata import metadata_problems
from sendout.jsonutil import dumps
from sendout.matching.match import matching_distributions
from sendout.payloads.custom_event import build_data, build_envelope
from sendout.promotions.rewards import Rewards, apply_rewards
from sendout.promotions.tx import PromotionTx
from sendout.records import Customer, Distribution, Event, EventSchema, NewMessage

__all__ = ["EventTracking"]


@dataclass(frozen=True, slots=True)
class EventTracking:
    """The pure half of ``POST /v1/events``, called inside the storage transaction."""

    project_id: str
    metadata: dict[str, Any]
    event_source: dict[str, Any]
    created_at: str
    view: Callable[[Event, Customer], dict[str, Any]]

    def render(self, event: Event, customer: Customer) -> bytes:
        return dumps(self.view(event, customer))

    def validate(self, schema: EventSchema) -> None:
        problems = metadata_problems(schema.properties, self.metadata)
        if problems:
            raise InvalidInput(
                f"Metadata of event '{schema.name}' does not match its schema: "
                + "; ".join(problems),
                key="metadata_validation_failed",
                message="Metadata validation failed",
                resource_id=schema.id,
                resource_type="custom_event_schema",
            )

    async def reward(
        self,
        promotions: PromotionTx,
        customer: Customer,
        *,
        event_id: str,
        event_name: str,
        referral: dict[str, Any] | None,
        loyalty: dict[str, Any] | None,
    ) -> Rewards:
        """Check the event's referral code and loyalty card; convert and credit them."""
        return await apply_rewards(
            promotions,
            customer,
            event_id=event_id,
            event_name=event_name,
            metadata=self.metadata,
            referral=referral,
            loyalty=loyalty,
        )

    async def plan(
        self,
        event: Event,
        schema: EventSchema,
        customer: Customer,
        distributions: Sequence[Distribution],
        promotions: PromotionTx,
        rewards: Rewards,
    ) -> list[NewMessage]:
        base = build_data(event, schema, customer, rewards.data)
        activity = ids.activity_id()
        messages: list[NewMessage] = []
        for distribution in matching_distributions(distributions, event.type):
            extras = await purpose_extras(promotions, distribution, event, customer)
            if extras is None:
                continue
            data = {**base, **extras}
            for index, channel in enumerate(distribution.channels):
                delivery = ids.delivery_id()
                envelope = build_envelope(
                    delivery_id=delivery,
                    project_id=self.project_id,
                    created_at=self.created_at,
                    event_name=channel.event_name,
                    data=data,
                    distribution_id=distribution.id,
                    target_url=channel.url,
                    activity_id=activity,
                    event=event,
                    event_source=self.event_source,
                )
                messages.append(
                    NewMessage(
                        id=delivery,
                        distribution_id=distribution.id,
                        channel_index=index,
                        event_name=channel.event_name,
                        url=channel.url,
                        headers=channel.headers,
                        body=dumps(envelope),
                    )
                )
        return messages
