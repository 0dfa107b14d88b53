"""The promotion objects of a ``customer.custom_event`` webhook, shaped like Voucherify's
examples (``SimpleCampaign``, ``SimpleVoucher``, the publication, ``SimplePromotionTier``). Pure.

Where Voucherify's own examples send ``null`` (campaign ``category``, ``start_date``,
``expiration_date``, ``voucher.gift``/``loyalty_card``…), so do we.
"""

from __future__ import annotations

from typing import Any

from sendout.payloads.custom_event import simple_customer
from sendout.promotions.records import Campaign, PromotionTier, Publication, Voucher
from sendout.records import Customer

__all__ = [
    "VOUCHER_TYPES",
    "campaign_updated_at",
    "loyalty_data",
    "publication_customer",
    "publication_item",
    "referral_data",
    "simple_campaign",
    "simple_promotion_tier",
    "simple_voucher",
]

JSON = dict[str, Any]

VOUCHER_TYPES = {
    "DISCOUNT_COUPONS": "DISCOUNT_VOUCHER",
    "REFERRAL_PROGRAM": "DISCOUNT_VOUCHER",
    "LOYALTY_PROGRAM": "LOYALTY_CARD",
}


def _redemption(template: JSON) -> JSON:
    quantity = (template.get("redemption") or {}).get("quantity")
    return {"quantity": quantity, "redeemed_quantity": 0}


def _campaign_voucher(c: Campaign) -> JSON:
    template = c.voucher or {}
    out: JSON = {"type": VOUCHER_TYPES[c.campaign_type]}
    if "discount" in template:
        out["discount"] = template["discount"]
    out["gift"] = None
    out["loyalty_card"] = template.get("loyalty_card")
    out["redemption"] = _redemption(template)
    out["code_config"] = template["code_config"]
    return out


def campaign_updated_at(c: Campaign) -> str:
    """When the campaign was last written: its creation (codes included) until it changes."""
    return c.updated_at or c.created_at


def simple_campaign(c: Campaign) -> JSON:
    out: JSON = {
        "id": c.id,
        "name": c.name,
        "campaign_type": c.campaign_type,
        "type": c.type,
        "is_referral_code": c.campaign_type == "REFERRAL_PROGRAM",
    }
    if c.has_codes:
        out["voucher"] = _campaign_voucher(c)
    if c.referral_program is not None:
        out["referral_program"] = c.referral_program
    out.update(
        {
            "auto_join": c.auto_join,
            "join_once": c.join_once,
            "active": c.active,
            "category_id": None,
            "category": None,
            "metadata": c.metadata,
            "start_date": c.start_date,
            "expiration_date": c.expiration_date,
        }
    )
    if c.description is not None:
        out["description"] = c.description
    out["created_at"] = c.created_at
    out["updated_at"] = campaign_updated_at(c)
    out["object"] = "campaign"
    return out


def simple_voucher(v: Voucher, c: Campaign) -> JSON:
    template = c.voucher or {}
    out: JSON = {"id": v.id, "code": v.code}
    if "discount" in template:
        out["discount"] = template["discount"]
    if c.campaign_type == "LOYALTY_PROGRAM":
        out["loyalty_card"] = {"points": v.points, "balance": v.balance}
    out.update(
        {
            "type": VOUCHER_TYPES[c.campaign_type],
            "campaign": c.name,
            "campaign_id": c.id,
            "is_referral_code": c.campaign_type == "REFERRAL_PROGRAM",
        }
    )
    if v.holder_id is not None:
        out["holder_id"] = v.holder_id
    out.update({"category_id": None, "active": v.active, "created_at": v.created_at})
    if v.updated_at is not None:
        out["updated_at"] = v.updated_at
    out.update(
        {
            "redemption": _redemption(template),
            "start_date": c.start_date,
            "expiration_date": c.expiration_date,
            "metadata": v.metadata,
            "object": "voucher",
        }
    )
    return out


def publication_customer(c: Customer) -> JSON:
    """The customer inside a publication, abbreviated as in Voucherify's example."""
    return {
        "id": c.id,
        "source_id": c.source_id,
        "name": c.name,
        "address": c.address,
        "summary": None,
        "loyalty": None,
        "referrals": None,
        "metadata": c.metadata,
        "object": "customer",
    }


def publication_item(p: Publication, customer: Customer) -> JSON:
    """``PublicationsDistributionItemBase`` (``data.publication``)."""
    out: JSON = {
        "id": p.id,
        "object": "publication",
        "created_at": p.created_at,
        "customer_id": p.customer_id,
    }
    if customer.source_id is not None:
        out["tracking_id"] = customer.source_id
    out.update(
        {
            "metadata": p.metadata,
            "channel": p.channel,
            "source_id": p.source_id,
            "result": "SUCCESS",
            "customer": publication_customer(customer),
            "vouchers_id": [v.id for v in p.vouchers],
        }
    )
    return out


def simple_promotion_tier(t: PromotionTier) -> JSON:
    return {
        "id": t.id,
        "name": t.name,
        "banner": t.banner,
        "campaign": {"id": t.campaign_id},
        "metadata": t.metadata,
    }


def referral_data(referrer: Customer, voucher: Voucher, campaign: Campaign) -> JSON:
    """``data.referral``: who referred, with which code, in which program."""
    return {
        "referrer": simple_customer(referrer),
        "voucher": simple_voucher(voucher, campaign),
        "campaign": simple_campaign(campaign),
    }


def loyalty_data(card: Voucher, campaign: Campaign) -> JSON:
    """``data.loyalty``: the card (points and balance after this event) and its program."""
    return {"voucher": simple_voucher(card, campaign), "campaign": simple_campaign(campaign)}
