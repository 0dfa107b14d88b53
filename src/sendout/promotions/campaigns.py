"""What a campaign must be: to be saved (type rules, code template, discount, referral program)
and for each use once stored (codes, tiers, earning rules, referee rewards). Pure."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from sendout.errors import InvalidInput
from sendout.promotions.codes import CodeConfig, code_config
from sendout.promotions.records import CAMPAIGN_TYPES, Campaign

__all__ = [
    "MAX_VOUCHERS_COUNT",
    "check_campaign_type",
    "check_discount",
    "check_referee_reward",
    "check_referral_program",
    "check_type",
    "generation_config",
    "initial_points",
    "loyalty_program",
    "name_referee_reward",
    "promotion",
    "referee_reward_id",
    "voucher_template",
    "with_codes",
]

JSON = dict[str, Any]
MAX_VOUCHERS_COUNT = 1_000_000
_DISCOUNT_FIELDS = {
    "AMOUNT": ("amount_off", ("APPLY_TO_ORDER", "APPLY_TO_ITEMS")),
    "PERCENT": ("percent_off", ("APPLY_TO_ORDER", "APPLY_TO_ITEMS")),
    "FIXED": ("fixed_amount", ("APPLY_TO_ORDER", "APPLY_TO_ITEMS")),
}
_VOUCHER_TYPE = {
    "DISCOUNT_COUPONS": "DISCOUNT_VOUCHER",
    "REFERRAL_PROGRAM": "DISCOUNT_VOUCHER",
    "LOYALTY_PROGRAM": "LOYALTY_CARD",
}


def _bad(key: str, details: str) -> InvalidInput:
    return InvalidInput(details, key=key, message=key.replace("_", " ").capitalize())


def check_campaign_type(value: str) -> str:
    if value not in CAMPAIGN_TYPES:
        raise _bad(
            "invalid_campaign_type",
            f"campaign_type must be one of {', '.join(CAMPAIGN_TYPES)}, got '{value}'"
            " (GIFT_VOUCHERS and standalone codes are not supported)",
        )
    return value


def check_type(value: str | None, campaign_type: str) -> str:
    if campaign_type == "PROMOTION":
        return "STATIC"
    value = value or "AUTO_UPDATE"
    if value not in ("STATIC", "AUTO_UPDATE"):
        raise _bad("invalid_campaign", f"type must be STATIC or AUTO_UPDATE, got '{value}'")
    return value


def _number(raw: Mapping[str, Any], name: str) -> float | int:
    value = raw.get(name)
    if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
        raise _bad("invalid_discount", f"discount.{name} must be a non-negative number")
    return value


def check_discount(raw: Any) -> JSON:
    """A ``discount`` of type ``AMOUNT``, ``PERCENT`` or ``FIXED`` (unit discounts are not
    supported); unknown keys are dropped so responses stay parseable by the SDK."""
    if not isinstance(raw, Mapping) or raw.get("type") not in _DISCOUNT_FIELDS:
        raise _bad(
            "invalid_discount",
            "voucher.discount must be an object whose type is AMOUNT, PERCENT or FIXED",
        )
    kind = raw["type"]
    field, effects = _DISCOUNT_FIELDS[kind]
    out: JSON = {"type": kind, field: _number(raw, field)}
    if kind == "PERCENT" and out[field] > 100:
        raise _bad("invalid_discount", "discount.percent_off must be at most 100")
    if "amount_limit" in raw:
        out["amount_limit"] = _number(raw, "amount_limit")
    effect = raw.get("effect")
    if effect is not None:
        if effect not in effects:
            raise _bad("invalid_discount", f"discount.effect must be one of {', '.join(effects)}")
        out["effect"] = effect
    return out


def _redemption(raw: Any) -> JSON:
    quantity = (raw or {}).get("quantity") if isinstance(raw, Mapping) else None
    if quantity is not None and (
        not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1
    ):
        raise _bad("invalid_voucher", "voucher.redemption.quantity must be a positive integer")
    return {"quantity": quantity}


def voucher_template(campaign_type: str, raw: Mapping[str, Any] | None) -> JSON | None:
    """The campaign's ``voucher``: the code template its codes share."""
    if campaign_type == "PROMOTION":
        if raw:
            raise _bad("invalid_voucher", "a PROMOTION campaign has tiers, not a voucher")
        return None
    raw = raw or {}
    wanted = _VOUCHER_TYPE[campaign_type]
    if raw.get("type", wanted) != wanted:
        raise _bad(
            "invalid_voucher",
            f"voucher.type of a {campaign_type} campaign must be {wanted}, got '{raw['type']}'",
        )
    out: JSON = {"type": wanted}
    if campaign_type == "DISCOUNT_COUPONS" or "discount" in raw:
        out["discount"] = check_discount(raw.get("discount"))
    if campaign_type == "LOYALTY_PROGRAM":
        card = raw.get("loyalty_card") or {}
        points = card.get("points", 0) if isinstance(card, Mapping) else None
        if not isinstance(points, int) or isinstance(points, bool) or points < 0:
            raise _bad("invalid_voucher", "voucher.loyalty_card.points must be an integer >= 0")
        out["loyalty_card"] = {"points": points}
    out["redemption"] = _redemption(raw.get("redemption"))
    out["code_config"] = code_config(raw.get("code_config")).as_json()
    return out


def check_referral_program(campaign_type: str, raw: Mapping[str, Any] | None) -> JSON | None:
    """``conversion_event_type`` (``custom_event``), the conversion event by ``custom_event.name``
    and an optional ``referee_reward`` naming a DISCOUNT_COUPONS campaign."""
    if campaign_type != "REFERRAL_PROGRAM":
        if raw:
            raise _bad("invalid_referral_program", "only REFERRAL_PROGRAM campaigns have one")
        return None
    raw = raw or {}
    conversion = raw.get("conversion_event_type", "custom_event")
    if conversion not in ("custom_event", "redemption"):
        raise _bad(
            "invalid_referral_program",
            "referral_program.conversion_event_type must be custom_event or redemption",
        )
    out: JSON = {"conversion_event_type": conversion}
    event = raw.get("custom_event")
    if event is not None:
        if not isinstance(event, Mapping) or not isinstance(event.get("name"), str):
            raise _bad(
                "invalid_referral_program",
                "referral_program.custom_event must be {name: <custom event name>}",
            )
        out["custom_event"] = {k: event[k] for k in ("id", "name") if k in event}
    reward = raw.get("referee_reward")
    if reward is not None:
        parent = reward.get("related_object_parent") if isinstance(reward, Mapping) else None
        if not isinstance(parent, Mapping) or not isinstance(parent.get("id"), str):
            raise _bad(
                "invalid_referee_reward",
                "referral_program.referee_reward.related_object_parent.id must name a"
                " DISCOUNT_COUPONS campaign",
            )
        out["referee_reward"] = {
            "related_object_parent": {"id": parent["id"], "object": "CAMPAIGN"}
        }
    return out


# --- what a stored campaign must be for each use ------------------------------------------------


def _wrong_type(campaign: Campaign, why: str) -> InvalidInput:
    return InvalidInput(
        f"Campaign '{campaign.name}' is a {campaign.campaign_type} campaign{why}",
        key="invalid_campaign_type",
        message="Invalid campaign type",
        resource_id=campaign.id,
        resource_type="campaign",
    )


def with_codes(campaign: Campaign) -> Campaign:
    """The campaign, if codes can be added to it (not a PROMOTION)."""
    if not campaign.has_codes:
        raise _wrong_type(campaign, ": it has no codes")
    return campaign


def generation_config(campaign: Campaign, count: int, config: CodeConfig | None) -> CodeConfig:
    """What generates ``count`` more codes of the campaign (``config``, else the campaign's
    own ``code_config``); refused for a campaign without codes or a pattern too small for them
    besides those it has."""
    with_codes(campaign)
    config = config or code_config((campaign.voucher or {}).get("code_config"))
    if campaign.vouchers_count + count > config.capacity:
        raise InvalidInput(
            f"code_config yields at most {config.capacity} distinct codes"
            f" ({len(config.charset)} characters ^ {config.length}); the campaign has"
            f" {campaign.vouchers_count} and {count} more were requested",
            key="invalid_code_config",
            message="Invalid code config",
        )
    return config


def promotion(campaign: Campaign) -> Campaign:
    """The campaign, if promotion tiers can belong to it."""
    if campaign.campaign_type != "PROMOTION":
        raise _wrong_type(campaign, "; promotion tiers belong to PROMOTION campaigns")
    return campaign


def loyalty_program(campaign: Campaign) -> Campaign:
    """The campaign, if earning rules and loyalty transactions can belong to it."""
    if campaign.campaign_type != "LOYALTY_PROGRAM":
        raise _wrong_type(campaign, ", not a LOYALTY_PROGRAM")
    return campaign


def referee_reward_id(campaign: Campaign) -> str | None:
    """The campaign a referral program rewards referees from, as given (id or name)."""
    reward = (campaign.referral_program or {}).get("referee_reward") or {}
    parent: str | None = (reward.get("related_object_parent") or {}).get("id")
    return parent


def check_referee_reward(parent: str, reward: Campaign | None) -> Campaign:
    """The referee reward must name a DISCOUNT_COUPONS campaign of the same project."""
    if reward is None or reward.campaign_type != "DISCOUNT_COUPONS":
        raise InvalidInput(
            "referral_program.referee_reward.related_object_parent.id must name a"
            f" DISCOUNT_COUPONS campaign of this project, got {parent!r}",
            key="invalid_referee_reward",
            message="Invalid referee reward",
        )
    return reward


def name_referee_reward(campaign: Campaign, reward: Campaign | None) -> Campaign:
    """The referral program with its referee reward named as Voucherify names it: the reward
    campaign's ``camp_`` id and its name, whether the request gave the id or the name. No
    ``type``: Voucherify's ``type`` (and ``amount``) describe loyalty-card and gift-card
    rewards; a discount coupon reward carries only ``related_object_parent``."""
    parent = referee_reward_id(campaign)
    if parent is None:
        return campaign
    reward = check_referee_reward(parent, reward)
    program = {
        **(campaign.referral_program or {}),
        "referee_reward": {
            "related_object_parent": {"id": reward.id, "name": reward.name, "object": "CAMPAIGN"}
        },
    }
    return dataclasses.replace(campaign, referral_program=program)


def initial_points(campaign: Campaign) -> int:
    """The points a new loyalty card of the campaign starts with (0 for other codes)."""
    return int(((campaign.voucher or {}).get("loyalty_card") or {}).get("points", 0))
