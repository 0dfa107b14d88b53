"""``notify_promotion``: tell the customer about a promotion tier (adds ``campaign`` and
``promotion_tier`` to the webhook)."""

from __future__ import annotations

from typing import Any

from sendout.payloads.promotions import simple_campaign, simple_promotion_tier
from sendout.promotions.tx import PromotionTx
from sendout.records import Customer, Distribution, Event

__all__ = ["extras"]

RESULT_INACTIVE = "promotion_tier_inactive"


async def extras(
    tx: PromotionTx, distribution: Distribution, event: Event, customer: Customer
) -> dict[str, Any] | None:
    """The purpose's keys, or ``None`` (outcome recorded) when the tier or campaign is off."""
    campaign = await tx.campaign(distribution.action["campaign_id"])
    tier = await tx.promotion_tier(distribution.action["promotion_tier_id"])
    if campaign is None or tier is None or not (campaign.active and tier.active):
        await tx.record_outcome(
            distribution_id=distribution.id,
            event_id=event.id,
            customer_id=customer.id,
            campaign_id=distribution.action["campaign_id"],
            result=RESULT_INACTIVE,
            details="the promotion tier or its campaign is disabled or gone; nothing sent",
        )
        return None
    return {"campaign": simple_campaign(campaign), "promotion_tier": simple_promotion_tier(tier)}
