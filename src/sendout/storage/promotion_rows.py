"""Rows of the promotion tables turned into records, and records into insert values."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sendout.promotions.records import (
    Campaign,
    CustomerStanding,
    EarningRule,
    LoyaltyTransaction,
    ProgramStanding,
    PromotionOutcome,
    PromotionTier,
    Publication,
    ReferralConversion,
    Voucher,
)
from sendout.storage.rows import Row, from_json, json_or_null, to_json

__all__ = [
    "CAMPAIGN_CHANGES",
    "CAMPAIGN_COLUMNS",
    "campaign",
    "campaign_changes",
    "campaign_values",
    "conversion",
    "conversion_values",
    "earning_rule",
    "earning_rule_values",
    "outcome",
    "promotion_tier",
    "publication_values",
    "standings",
    "transaction",
    "voucher",
]


def campaign(row: Row) -> Campaign:
    return Campaign(
        id=row["id"],
        project_id=row["project_id"],
        name=row["name"],
        campaign_type=row["campaign_type"],
        type=row["type"],
        description=row["description"],
        join_once=bool(row["join_once"]),
        auto_join=bool(row["auto_join"]),
        active=bool(row["active"]),
        voucher=from_json(row["voucher"]),
        referral_program=from_json(row["referral_program"]),
        metadata=from_json(row["metadata"]) or {},
        vouchers_count=row["vouchers_count"],
        start_date=row["start_date"],
        expiration_date=row["expiration_date"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def voucher(row: Row) -> Voucher:
    return Voucher(
        id=row["id"],
        project_id=row["project_id"],
        campaign_id=row["campaign_id"],
        code=row["code"],
        holder_id=row["holder_id"],
        active=bool(row["active"]),
        points=row["points"],
        balance=row["balance"],
        metadata=from_json(row["metadata"]) or {},
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def promotion_tier(row: Row) -> PromotionTier:
    return PromotionTier(
        id=row["id"],
        project_id=row["project_id"],
        campaign_id=row["campaign_id"],
        name=row["name"],
        banner=row["banner"],
        action=from_json(row["action"]),
        metadata=from_json(row["metadata"]) or {},
        hierarchy=row["hierarchy"],
        active=bool(row["active"]),
        start_date=row["start_date"],
        expiration_date=row["expiration_date"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def earning_rule(row: Row) -> EarningRule:
    return EarningRule(
        id=row["id"],
        project_id=row["project_id"],
        campaign_id=row["campaign_id"],
        event=row["event"],
        schema_id=row["schema_id"],
        loyalty=from_json(row["loyalty"]),
        active=bool(row["active"]),
        metadata=from_json(row["metadata"]) or {},
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def transaction(row: Row) -> LoyaltyTransaction:
    return LoyaltyTransaction(
        id=row["id"],
        voucher_id=row["voucher_id"],
        campaign_id=row["campaign_id"],
        earning_rule_id=row["earning_rule_id"],
        event_id=row["event_id"],
        points=row["points"],
        balance=row["balance"],
        created_at=row["created_at"],
    )


def conversion(row: Row) -> ReferralConversion:
    return ReferralConversion(
        id=row["id"],
        campaign_id=row["campaign_id"],
        voucher_id=row["voucher_id"],
        code=row["code"],
        referrer_id=row["referrer_id"],
        referee_id=row["referee_id"],
        event_id=row["event_id"],
        created_at=row["created_at"],
    )


def outcome(row: Row) -> PromotionOutcome:
    return PromotionOutcome(
        id=row["id"],
        project_id=row["project_id"],
        distribution_id=row["distribution_id"],
        event_id=row["event_id"],
        customer_id=row["customer_id"],
        campaign_id=row["campaign_id"],
        result=row["result"],
        details=row["details"],
        created_at=row["created_at"],
    )


CAMPAIGN_COLUMNS = (
    "id",
    "project_id",
    "name",
    "campaign_type",
    "type",
    "description",
    "join_once",
    "auto_join",
    "active",
    "voucher",
    "referral_program",
    "metadata",
    "start_date",
    "expiration_date",
    "created_at",
)
# What a replace sets: the rest stays as created (name and campaign type included).
CAMPAIGN_CHANGES = (*CAMPAIGN_COLUMNS[4:-1], "updated_at")


def campaign_values(c: Campaign) -> tuple[Any, ...]:
    """A campaign's values in the order of :data:`CAMPAIGN_COLUMNS`."""
    return (
        c.id,
        c.project_id,
        c.name,
        c.campaign_type,
        *_campaign_settings(c),
        c.created_at,
    )


def campaign_changes(c: Campaign) -> tuple[Any, ...]:
    """The values a replace sets, in the order of :data:`CAMPAIGN_CHANGES`."""
    return (*_campaign_settings(c), c.updated_at)


def _campaign_settings(c: Campaign) -> tuple[Any, ...]:
    return (
        c.type,
        c.description,
        c.join_once,
        c.auto_join,
        c.active,
        json_or_null(c.voucher),
        json_or_null(c.referral_program),
        to_json(c.metadata),
        c.start_date,
        c.expiration_date,
    )


def publication_values(
    p: Publication, distribution_id: str | None, event_id: str | None
) -> tuple[Any, ...]:
    """``INSERT INTO publications (id, project_id, campaign_id, customer_id, source_id, channel,
    metadata, distribution_id, event_id, created_at)``."""
    return (
        p.id,
        p.project_id,
        p.campaign_id,
        p.customer_id,
        p.source_id,
        p.channel,
        to_json(p.metadata),
        distribution_id,
        event_id,
        p.created_at,
    )


def standings(programs: Iterable[Row], referred_by: Iterable[Row]) -> dict[str, CustomerStanding]:
    """Rows of ``(customer_id, campaign_id, campaign_name, points, referred_customers)`` and of
    ``referral_conversions`` (each in its order) gathered per customer."""
    held: dict[str, list[ProgramStanding]] = defaultdict(list)
    for row in programs:
        held[row["customer_id"]].append(
            ProgramStanding(
                campaign_id=row["campaign_id"],
                campaign_name=row["campaign_name"],
                points=int(row["points"]),
                referred_customers=int(row["referred_customers"]),
            )
        )
    referees: dict[str, list[ReferralConversion]] = defaultdict(list)
    for row in referred_by:
        referees[row["referee_id"]].append(conversion(row))
    return {
        customer: CustomerStanding(tuple(held[customer]), tuple(referees[customer]))
        for customer in held.keys() | referees.keys()
    }


def conversion_values(c: ReferralConversion, project_id: str) -> tuple[Any, ...]:
    """``INSERT INTO referral_conversions (id, project_id, campaign_id, voucher_id, code,
    referrer_id, referee_id, event_id, created_at)``."""
    return (
        c.id,
        project_id,
        c.campaign_id,
        c.voucher_id,
        c.code,
        c.referrer_id,
        c.referee_id,
        c.event_id,
        c.created_at,
    )


def earning_rule_values(r: EarningRule) -> tuple[Any, ...]:
    """``INSERT INTO earning_rules (id, project_id, campaign_id, event, schema_id, loyalty,
    active, metadata, created_at)``."""
    return (
        r.id,
        r.project_id,
        r.campaign_id,
        r.event,
        r.schema_id,
        to_json(r.loyalty),
        r.active,
        to_json(r.metadata),
        r.created_at,
    )
