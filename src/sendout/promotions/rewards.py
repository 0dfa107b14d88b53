"""Referral codes and loyalty cards carried by a custom event: checked, converted, credited.

Runs inside the tracking transaction; a refusal (400) leaves nothing written. What it hands back
are records; the webhook's ``data.referral`` / ``data.loyalty`` are rendered from them above this
package (:mod:`sendout.pipeline.deliveries`), so promotions never imports the payload layer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sendout.errors import InvalidInput
from sendout.promotions import ids as pids
from sendout.promotions.earning import points_for
from sendout.promotions.publishing import PublishRequest, publish_from_campaign
from sendout.promotions.records import Campaign, ReferralConversion, Voucher
from sendout.promotions.tx import PromotionTx
from sendout.records import Customer

__all__ = ["LoyaltyCredit", "Referral", "Rewards", "apply_rewards", "new_conversion"]

JSON = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Referral:
    """The referral code an event carried, checked (and converted if the event is the program's
    conversion event): who holds it, the code, its program."""

    referrer: Customer
    voucher: Voucher
    campaign: Campaign


@dataclass(frozen=True, slots=True)
class LoyaltyCredit:
    """The loyalty card an event named, after this event's credit (points and balance), and its
    program."""

    card: Voucher
    campaign: Campaign


@dataclass(frozen=True, slots=True)
class Rewards:
    event_referral: JSON | None = None  # data.event.referral: {referrer_id, code, id}
    event_loyalty: JSON | None = None  # data.event.loyalty: {code}
    referral: Referral | None = None  # rendered as data.referral
    loyalty: LoyaltyCredit | None = None  # rendered as data.loyalty


def _refuse(key: str, details: str, code: str) -> InvalidInput:
    return InvalidInput(
        details,
        key=key,
        message=key.replace("_", " ").capitalize(),
        resource_id=code,
        resource_type="voucher",
    )


async def _code_of(tx: PromotionTx, code: str, kind: str, wanted: str) -> tuple[Voucher, Campaign]:
    voucher = await tx.voucher(code)
    if voucher is None:
        raise _refuse(f"{kind}_not_found", f"No {kind.replace('_', ' ')} has the code {code}", code)
    campaign = await tx.campaign(voucher.campaign_id)
    assert campaign is not None
    if campaign.campaign_type != wanted:
        raise _refuse(
            f"not_a_{kind}",
            f"Code {code} belongs to {campaign.campaign_type} campaign '{campaign.name}',"
            f" not to a {wanted}",
            code,
        )
    if not (voucher.active and campaign.active):
        raise _refuse(f"{kind}_inactive", f"Code {code} or its campaign is disabled", code)
    return voucher, campaign


async def _referral(
    tx: PromotionTx, customer: Customer, referral: JSON, event_id: str, event_name: str
) -> tuple[JSON, Referral]:
    code = referral["code"]
    voucher, campaign = await _code_of(tx, code, "referral_code", "REFERRAL_PROGRAM")
    if voucher.holder_id is None:
        raise _refuse(
            "referral_code_not_published",
            f"Referral code {code} has no referrer yet: publish it to the referrer first",
            code,
        )
    given = referral.get("referrer_id")
    referrer = await tx.customer(voucher.holder_id)
    if referrer is None:  # its holder was deleted: the code refers nobody any more
        raise _refuse(
            "referrer_not_found",
            f"Referral code {code} was held by customer {voucher.holder_id}, who is deleted",
            code,
        )
    if given is not None and given not in (referrer.id, referrer.source_id):
        raise _refuse(
            "referrer_mismatch", f"Referral code {code} is not held by referrer {given}", code
        )
    if referrer.id == customer.id:
        raise _refuse("self_referral", "A customer cannot use their own referral code", code)
    if _converts_on(campaign, event_name):
        await _convert(tx, campaign, voucher, customer, event_id)
    echo = {"referrer_id": referrer.id, "code": code, "id": voucher.id}
    return echo, Referral(referrer=referrer, voucher=voucher, campaign=campaign)


def _converts_on(campaign: Campaign, event_name: str) -> bool:
    program = campaign.referral_program or {}
    if program.get("conversion_event_type", "custom_event") != "custom_event":
        return False
    wanted = (program.get("custom_event") or {}).get("name")
    return wanted is None or wanted == event_name


async def _convert(
    tx: PromotionTx, campaign: Campaign, voucher: Voucher, referee: Customer, event_id: str
) -> None:
    """Count the referee once per program, and hand them the referee reward if there is one."""
    existing = await tx.referral_conversion(campaign.id, referee.id)
    if existing is not None:
        if existing.referrer_id != voucher.holder_id:
            raise _refuse(
                "customer_already_referred",
                f"Customer {referee.id} was already referred in campaign '{campaign.name}'"
                f" by {existing.referrer_id}",
                voucher.code,
            )
        return
    await tx.record_conversion(campaign, voucher, referee.id, event_id)
    reward_id = (
        ((campaign.referral_program or {}).get("referee_reward") or {}).get("related_object_parent")
        or {}
    ).get("id")
    reward = None if reward_id is None else await tx.campaign(reward_id)
    if reward is None:
        return
    request = PublishRequest(
        customer_id=referee.id,
        channel="Automation",
        metadata={
            "source_type": "referral",
            "referral_campaign_id": campaign.id,
            "referrer_id": voucher.holder_id,
        },
    )
    try:
        await publish_from_campaign(tx, reward, request, event_id=event_id)
    except InvalidInput as refusal:
        if refusal.key != "no_voucher_suitable_for_publication":
            raise
        await tx.record_outcome(
            distribution_id=None,
            event_id=event_id,
            customer_id=referee.id,
            campaign_id=reward.id,
            result=refusal.key,
            details="referee reward: " + refusal.details,
        )


async def _loyalty(
    tx: PromotionTx,
    customer: Customer,
    code: str,
    event_id: str,
    event_name: str,
    metadata: JSON,
) -> LoyaltyCredit:
    card, campaign = await _code_of(tx, code, "loyalty_card", "LOYALTY_PROGRAM")
    if card.holder_id is not None and card.holder_id != customer.id:
        raise _refuse(
            "loyalty_card_holder_mismatch",
            f"Loyalty card {code} belongs to another customer",
            code,
        )
    for rule in await tx.earning_rules(campaign.id, event_name):
        points = points_for(rule.loyalty, metadata)
        if points > 0:
            card = await tx.credit_points(card, rule, points, event_id)
    return LoyaltyCredit(card=card, campaign=campaign)


async def apply_rewards(
    tx: PromotionTx,
    customer: Customer,
    *,
    event_id: str,
    event_name: str,
    metadata: JSON,
    referral: JSON | None,
    loyalty: JSON | None,
) -> Rewards:
    event_referral = None
    referred = None
    if referral is not None:
        event_referral, referred = await _referral(tx, customer, referral, event_id, event_name)
    credited = None
    if loyalty is not None:
        credited = await _loyalty(tx, customer, loyalty["code"], event_id, event_name, metadata)
    return Rewards(
        event_referral=event_referral, event_loyalty=loyalty, referral=referred, loyalty=credited
    )


def new_conversion(
    campaign_id: str, voucher: Voucher, referee_id: str, event_id: str, now: str
) -> ReferralConversion:
    """The conversion of a referral code held by ``voucher.holder_id``, about to be stored."""
    assert voucher.holder_id is not None, "a referral code converts only once published"
    return ReferralConversion(
        id=pids.conversion_id(),
        campaign_id=campaign_id,
        voucher_id=voucher.id,
        code=voucher.code,
        referrer_id=voucher.holder_id,
        referee_id=referee_id,
        event_id=event_id,
        created_at=now,
    )
