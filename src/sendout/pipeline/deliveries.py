"""③ and ④ of tracking: what each matching distribution's purpose adds, and the deliveries.

``perform`` runs the purposes (publishing a code, checking a tier) through the transaction;
``deliveries`` is pure: one ``customer.custom_event`` envelope per channel of each distribution
that sends, all sharing one activity id. The referral and loyalty records the promotions step
hands back are rendered here (``data.referral`` / ``data.loyalty``), above both the promotions
domain and the payload layer.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sendout import ids
from sendout.actions.purposes import purpose_extras
from sendout.jsonutil import dumps
from sendout.matching.conditions import facts_of, unmet
from sendout.matching.match import matching_distributions
from sendout.matching.reentry import window
from sendout.outbox.ordering import order_key
from sendout.payloads.custom_event import build_data, build_envelope
from sendout.payloads.designer import render
from sendout.payloads.promotions import loyalty_data, referral_data
from sendout.pipeline.commands import TrackCommand
from sendout.promotions.rewards import Rewards
from sendout.records import Customer, Distribution, Event, EventSchema, NewDelivery
from sendout.storage.tx import Tx

__all__ = [
    "CONDITIONS_NOT_MET",
    "REENTRY_LIMIT",
    "Held",
    "Performed",
    "deliveries",
    "held_by_conditions",
    "held_by_reentry",
    "perform",
    "rewards_data",
]

CONDITIONS_NOT_MET = "conditions_not_met"
REENTRY_LIMIT = "reentry_limit"

Performed = tuple[Distribution, dict[str, Any]]  # a distribution that sends, with its extras
Held = tuple[str, str]  # (outcome, details): why a distribution sends nothing for an event


async def perform(
    tx: Tx, candidates: Sequence[Distribution], event: Event, customer: Customer, now_ms: int
) -> list[Performed]:
    """Each distribution the event triggers with the keys its purpose adds to ``data``; those
    whose conditions do not hold, whose re-entry limit is reached, or whose purpose sends
    nothing are left out (each with an outcome recorded)."""
    performed: list[Performed] = []
    facts: dict[str, Any] | None = None  # built once, and only for a distribution with conditions
    for distribution in matching_distributions(candidates, event.type):
        if facts is None and distribution.conditions:
            facts = facts_of(event.metadata, customer)
        held = await _held_back(tx, distribution, customer, facts or {}, now_ms)
        if held is not None:
            result, details = held
            await tx.record_outcome(
                distribution_id=distribution.id,
                event_id=event.id,
                customer_id=customer.id,
                campaign_id=distribution.action.get("campaign_id"),
                result=result,
                details=details,
            )
            continue
        extras = await purpose_extras(tx, distribution, event, customer)
        if extras is None:
            continue
        if distribution.reentry is not None:
            await tx.enter(distribution.id, customer.id, event.id, now_ms)
        performed.append((distribution, extras))
    return performed


async def _held_back(
    tx: Tx, distribution: Distribution, customer: Customer, facts: dict[str, Any], now_ms: int
) -> Held | None:
    """``(outcome, details)`` when the distribution may not send for this event."""
    held = held_by_conditions(distribution, facts)
    if held is None and (limit := window(distribution.reentry, now_ms)) is not None:
        since_ms, most = limit
        held = held_by_reentry(
            distribution, await tx.entries(distribution.id, customer.id, since_ms), most
        )
    return held


def held_by_conditions(distribution: Distribution, facts: dict[str, Any]) -> Held | None:
    """The outcome when the distribution's conditions do not hold for these facts."""
    failed = unmet(distribution.conditions, facts)
    return None if failed is None else (CONDITIONS_NOT_MET, f"conditions not met: {failed}")


def held_by_reentry(distribution: Distribution, sent: int, most: int) -> Held | None:
    """The outcome when ``sent`` (the customer's sends in the re-entry window) reached ``most``."""
    if sent < most:
        return None
    return REENTRY_LIMIT, f"re-entry limit reached: {_rule_text(distribution)}"


def _rule_text(distribution: Distribution) -> str:
    rule = distribution.reentry or {}
    if rule.get("mode") == "limited":
        return f"{rule['limit']} send(s) per {rule['period']} to one customer"
    return "once per customer"


def rewards_data(rewards: Rewards) -> dict[str, Any]:
    """``data.referral`` / ``data.loyalty`` for the rewards an event carried; {} for none."""
    data: dict[str, Any] = {}
    if rewards.referral is not None:
        referred = rewards.referral
        data["referral"] = referral_data(referred.referrer, referred.voucher, referred.campaign)
    if rewards.loyalty is not None:
        data["loyalty"] = loyalty_data(rewards.loyalty.card, rewards.loyalty.campaign)
    return data


def deliveries(
    cmd: TrackCommand,
    event: Event,
    schema: EventSchema,
    customer: Customer,
    rewards: Rewards,
    performed: Sequence[Performed],
) -> list[NewDelivery]:
    """One delivery per channel of each distribution that sends."""
    base = build_data(event, schema, customer, rewards_data(rewards))
    activity = ids.activity_id()
    out: list[NewDelivery] = []
    for distribution, extras in performed:
        data = {**base, **extras}
        for index, channel in enumerate(distribution.channels):
            delivery = ids.delivery_id()
            payload = channel.payload
            designed = data if payload is None else render(payload, data)
            if payload is not None and payload.get("raw"):
                body = dumps(designed)  # the whole body: no envelope
            else:
                body = dumps(
                    build_envelope(
                        delivery_id=delivery,
                        project_id=cmd.project_id,
                        created_at=cmd.created_at,
                        event_name=channel.event_name,
                        data=designed,
                        distribution_id=distribution.id,
                        target_url=channel.url,
                        activity_id=activity,
                        event=event,
                        event_source=cmd.event_source,
                    )
                )
            out.append(
                NewDelivery(
                    id=delivery,
                    distribution_id=distribution.id,
                    channel_index=index,
                    event_name=channel.event_name,
                    url=channel.url,
                    headers=channel.headers,
                    body=body,
                    order_key=order_key(channel, customer.id),
                )
            )
    return out
