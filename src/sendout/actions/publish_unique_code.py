"""``publish_unique_code``: publish one code of the campaign to the customer, in the event's
transaction, and send it (adds ``campaign``, ``voucher`` and ``publication``)."""

from __future__ import annotations

from typing import Any

from sendout.errors import InvalidInput, NotFound
from sendout.payloads.promotions import publication_item, simple_campaign, simple_voucher
from sendout.promotions.publishing import PublishRequest, publish_from_campaign
from sendout.promotions.tx import PromotionTx
from sendout.records import Customer, Distribution, Event

__all__ = ["CHANNEL", "extras"]

CHANNEL = "Automation"


async def extras(
    tx: PromotionTx, distribution: Distribution, event: Event, customer: Customer
) -> dict[str, Any] | None:
    """The purpose's keys, or ``None`` (outcome recorded) when no code can be published."""
    campaign_id = distribution.action["campaign_id"]
    request = PublishRequest(
        customer_id=customer.id,
        channel=CHANNEL,
        metadata={
            "source_type": "distribution",
            "source_id": distribution.id,
            "distribution_id": distribution.id,
        },
    )
    try:
        campaign = await tx.campaign(campaign_id)
        if campaign is None:
            raise NotFound("campaign", campaign_id)
        publication = await publish_from_campaign(
            tx, campaign, request, distribution_id=distribution.id, event_id=event.id
        )
    except (InvalidInput, NotFound) as refusal:
        await tx.record_outcome(
            distribution_id=distribution.id,
            event_id=event.id,
            customer_id=customer.id,
            campaign_id=campaign_id,
            result=refusal.key,
            details=refusal.details,
        )
        return None
    return {
        "campaign": simple_campaign(campaign),
        "voucher": simple_voucher(publication.vouchers[0], campaign),
        "publication": publication_item(publication, customer),
    }
