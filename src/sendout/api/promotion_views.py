"""Promotion records rendered in Voucherify's response shapes (enums kept inside the SDK's)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sendout.payloads.promotions import VOUCHER_TYPES, campaign_updated_at, publication_customer
from sendout.promotions.records import (
    Campaign,
    EarningRule,
    LoyaltyTransaction,
    PromotionOutcome,
    PromotionTier,
    Publication,
    ReferralConversion,
    Voucher,
)
from sendout.records import AsyncAction, Customer

__all__ = [
    "async_action_view",
    "campaign_view",
    "conversion_view",
    "earning_rule_view",
    "outcome_view",
    "publication_created_view",
    "publication_list_item",
    "tier_view",
    "transaction_view",
    "voucher_view",
]

JSON = dict[str, Any]

# Voucherify renders QR codes and barcodes of each code; sendout renders none (no URL to give).
NO_ASSETS: JSON = {"qr": {"id": None, "url": None}, "barcode": {"id": None, "url": None}}
# A promotion tier's counters and rule list: sendout has no redemptions or validation rules.
TIER_SUMMARY: JSON = {
    "redemptions": {"total_redeemed": 0},
    "orders": {"total_amount": 0, "total_discount_amount": 0},
}
NO_RULES: JSON = {"object": "list", "data_ref": "data", "data": [], "total": 0}


def _campaign_voucher(c: Campaign) -> JSON | None:
    if c.voucher is None:
        return None
    return {**c.voucher, "is_referral_code": c.campaign_type == "REFERRAL_PROGRAM"}


def campaign_view(
    c: Campaign, tiers: Sequence[PromotionTier] | None = None, *, generating: bool = False
) -> JSON:
    """``Campaign``: creation is synchronous (``creation_status`` is ``DONE``); codes added by
    an async action show ``vouchers_generation_status: IN_PROGRESS`` until it ends."""
    out: JSON = {
        "id": c.id,
        "name": c.name,
        "description": c.description,
        "campaign_type": c.campaign_type,
        "type": c.type,
        "voucher": _campaign_voucher(c),
        "auto_join": c.auto_join,
        "join_once": c.join_once,
        "use_voucher_metadata_schema": False,
        "vouchers_count": c.vouchers_count,
        "start_date": c.start_date,
        "expiration_date": c.expiration_date,
        "active": c.active,
        "metadata": c.metadata,
        "created_at": c.created_at,
        "updated_at": campaign_updated_at(c),
        "category": None,
        "category_id": None,
        "categories": [],
        "creation_status": "DONE",
        "vouchers_generation_status": "IN_PROGRESS" if generating else "DONE",
        "protected": False,
        "readonly": False,
        "object": "campaign",
    }
    if c.referral_program is not None:
        out["referral_program"] = c.referral_program
    if tiers is not None:
        out["promotion"] = {
            "object": "list",
            "data_ref": "tiers",
            "tiers": [tier_view(t, c) for t in tiers],
            "total": len(tiers),
            "has_more": False,
        }
    return out


def voucher_view(v: Voucher, c: Campaign) -> JSON:
    """``Voucher``."""
    template = c.voucher or {}
    quantity = (template.get("redemption") or {}).get("quantity")
    return {
        "id": v.id,
        "code": v.code,
        "campaign": c.name,
        "campaign_id": c.id,
        "category": None,
        "category_id": None,
        "type": VOUCHER_TYPES[c.campaign_type],
        "discount": template.get("discount"),
        "gift": None,
        "loyalty_card": (
            {"points": v.points, "balance": v.balance}
            if c.campaign_type == "LOYALTY_PROGRAM"
            else None
        ),
        "start_date": c.start_date,
        "expiration_date": c.expiration_date,
        "validity_timeframe": None,  # sendout has no validity windows: valid at any time
        "validity_day_of_week": None,
        "active": v.active,
        "additional_info": None,
        "metadata": v.metadata,
        "assets": NO_ASSETS,
        "is_referral_code": c.campaign_type == "REFERRAL_PROGRAM",
        "created_at": v.created_at,
        "updated_at": v.updated_at,
        "holder_id": v.holder_id,
        "referrer_id": None,
        "object": "voucher",
        "publish": {"object": "list", "count": 0 if v.holder_id is None else 1},
        "redemption": {
            "quantity": quantity,
            "redeemed_quantity": 0,
            "redeemed_points": 0,
            "object": "list",
        },
    }


def _publication_base(p: Publication, customer: Customer, channel: str) -> JSON:
    return {
        "id": p.id,
        "object": "publication",
        "created_at": p.created_at,
        "customer_id": p.customer_id,
        "tracking_id": customer.source_id,
        "metadata": p.metadata,
        "channel": channel,
        "source_id": p.source_id,
        "result": "SUCCESS",
        "customer": publication_customer(customer),
        "vouchers_id": [v.id for v in p.vouchers],
    }


def publication_created_view(p: Publication, customer: Customer, c: Campaign) -> JSON:
    """``PublicationsCreateResponseBody``. ``channel`` is ``API`` here whatever was sent: the
    SDK's model allows no other value (the stored channel shows in ``GET /v1/publications``)."""
    out = _publication_base(p, customer, "API")
    if len(p.vouchers) == 1:
        out["voucher"] = voucher_view(p.vouchers[0], c)
    else:
        out["vouchers"] = [v.code for v in p.vouchers]
    return out


def publication_list_item(p: Publication, customer: Customer, c: Campaign) -> JSON:
    out = _publication_base(p, customer, p.channel)
    if len(p.vouchers) == 1:
        v = p.vouchers[0]
        out["voucher"] = {
            "code": v.code,
            "object": "voucher",
            "campaign": c.name,
            "discount": (c.voucher or {}).get("discount"),
            "loyalty_card": (
                {"points": v.points, "balance": v.balance}
                if c.campaign_type == "LOYALTY_PROGRAM"
                else None
            ),
            "is_referral_code": c.campaign_type == "REFERRAL_PROGRAM",
        }
    else:
        out["vouchers"] = [v.code for v in p.vouchers]
    return out


def tier_view(t: PromotionTier, c: Campaign | None = None) -> JSON:
    """``PromotionTier``."""
    campaign: JSON = {"id": t.campaign_id, "object": "campaign"}
    if c is not None:
        campaign.update(
            {"start_date": c.start_date, "expiration_date": c.expiration_date, "active": c.active}
        )
    return {
        "id": t.id,
        "created_at": t.created_at,
        "updated_at": t.updated_at,
        "name": t.name,
        "banner": t.banner,
        "action": t.action,
        "metadata": t.metadata,
        "hierarchy": t.hierarchy,
        "promotion_id": t.campaign_id,
        "campaign": campaign,
        "campaign_id": t.campaign_id,
        "active": t.active,
        "start_date": t.start_date,
        "expiration_date": t.expiration_date,
        "summary": TIER_SUMMARY,
        "validation_rule_assignments": NO_RULES,
        "category_id": None,
        "categories": [],
        "object": "promotion_tier",
    }


def earning_rule_view(r: EarningRule) -> JSON:
    return {
        "id": r.id,
        "created_at": r.created_at,
        "updated_at": r.updated_at,
        "event": r.event,
        "custom_event": {"schema_id": r.schema_id},
        "loyalty": r.loyalty,
        "source": {"object_id": r.campaign_id, "object_type": "campaign"},
        "active": r.active,
        "metadata": r.metadata,
        "automation_id": None,  # Voucherify's own use; sendout has no automations
        "object": "earning_rule",
    }


def transaction_view(t: LoyaltyTransaction) -> JSON:
    """``VoucherTransaction`` of an earning rule's accrual: sendout records no merchant
    ``source_id``, ``source`` channel or ``reason`` for it, so they are ``null``."""
    return {
        "id": t.id,
        "source_id": None,
        "voucher_id": t.voucher_id,
        "campaign_id": t.campaign_id,
        "source": None,
        "reason": None,
        "related_transaction_id": None,
        "type": "POINTS_ACCRUAL",
        "details": {
            "balance": {"type": "loyalty_card", "points": t.points, "balance": t.balance},
            "earning_rule": {"id": t.earning_rule_id},
            "event": {"id": t.event_id, "type": "customer.custom_event"},
        },
        "created_at": t.created_at,
        "object": "loyalty_transaction",
    }


def conversion_view(r: ReferralConversion) -> JSON:
    return {
        "id": r.id,
        "campaign_id": r.campaign_id,
        "voucher_id": r.voucher_id,
        "code": r.code,
        "referrer_id": r.referrer_id,
        "referee_id": r.referee_id,
        "event_id": r.event_id,
        "created_at": r.created_at,
        "object": "referral_conversion",
    }


def outcome_view(o: PromotionOutcome) -> JSON:
    return {
        "id": o.id,
        "distribution_id": o.distribution_id,
        "event_id": o.event_id,
        "customer_id": o.customer_id,
        "campaign_id": o.campaign_id,
        "result": o.result,
        "details": o.details,
        "created_at": o.created_at,
        "object": "distribution_outcome",
    }


def async_action_view(a: AsyncAction) -> JSON:
    """``AsyncActionGetResponseBody``."""
    progress = 100 if a.status == "DONE" else (a.done * 100 // a.requested if a.requested else 0)
    return {
        "id": a.id,
        "type": a.type,
        "status": a.status,
        "operation_status": {"DONE": "SUCCESS", "FAILED": "FAILED"}.get(a.status, "UNKNOWN"),
        "created_at": a.created_at,
        "updated_at": a.updated_at,
        "request_id": a.request_id,
        "processing_time": a.processing_ms,
        "progress": progress,
        "object": "async_action",
        "result": a.result,
    }
