"""Earning rules, loyalty transactions, referral conversions, customers' standing in the programs
and distribution outcomes on PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sendout.errors import NotFound
from sendout.promotions.campaigns import (
    loyalty_program,
)
from sendout.promotions.earning import check_rule_schema, new_earning_rule, rule_schema_ref
from sendout.promotions.records import (
    Campaign,
    CustomerStanding,
    EarningRule,
    LoyaltyTransaction,
    PromotionOutcome,
    ReferralConversion,
)
from sendout.records import EventSchema, Page
from sendout.storage import promotion_rows as prow
from sendout.storage import rows
from sendout.storage.postgres.campaigns import require_campaign
from sendout.storage.postgres.codes import require_voucher
from sendout.storage.postgres.queries import Where, paged

if TYPE_CHECKING:
    from sendout.storage.postgres.queries import Conn


__all__ = [
    "create_earning_rules",
    "customer_standings",
    "delete_earning_rule",
    "list_conversions",
    "list_earning_rules",
    "list_outcomes",
    "list_transactions",
    "loyalty_campaign",
    "require_earning_rule",
]


async def loyalty_campaign(conn: Conn, project_id: str, ref: str) -> Campaign:
    return loyalty_program(await require_campaign(conn, project_id, ref))


async def _rule_event(conn: Conn, project_id: str, raw: dict[str, Any], index: int) -> EventSchema:
    column, value = rule_schema_ref(raw)
    row = await conn.fetchrow(
        f"SELECT * FROM event_schemas WHERE project_id = $1 AND {column} = $2", project_id, value
    )
    return check_rule_schema(raw, index, None if row is None else rows.event_schema(row))


async def create_earning_rules(
    conn: Conn, project_id: str, ref: str, raws: Sequence[dict[str, Any]], now: str
) -> list[EarningRule]:
    campaign = await loyalty_campaign(conn, project_id, ref)
    created = []
    for index, raw in enumerate(raws):
        schema = await _rule_event(conn, project_id, raw, index)
        rule = new_earning_rule(project_id, campaign.id, schema, raw, now)
        await conn.execute(
            "INSERT INTO earning_rules (id, project_id, campaign_id, event, schema_id, loyalty,"
            " active, metadata, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            *prow.earning_rule_values(rule),
        )
        created.append(rule)
    return created


async def list_earning_rules(
    conn: Conn, project_id: str, ref: str, page: Page
) -> tuple[list[EarningRule], int]:
    campaign = await loyalty_campaign(conn, project_id, ref)
    where = Where().add("campaign_id = ?", campaign.id)
    found, total = await paged(conn, "earning_rules", where, "created_at, id", page)
    return [prow.earning_rule(r) for r in found], total


async def require_earning_rule(conn: Conn, project_id: str, ref: str, rule_id: str) -> EarningRule:
    campaign = await loyalty_campaign(conn, project_id, ref)
    row = await conn.fetchrow(
        "SELECT * FROM earning_rules WHERE campaign_id = $1 AND id = $2", campaign.id, rule_id
    )
    if row is None:
        raise NotFound("earning_rule", rule_id)
    return prow.earning_rule(row)


async def delete_earning_rule(conn: Conn, project_id: str, ref: str, rule_id: str) -> None:
    rule = await require_earning_rule(conn, project_id, ref, rule_id)
    await conn.execute("DELETE FROM earning_rules WHERE id = $1", rule.id)


async def list_transactions(
    conn: Conn, project_id: str, code: str, page: Page
) -> tuple[list[LoyaltyTransaction], int]:
    voucher, _ = await require_voucher(conn, project_id, code)
    where = Where().add("voucher_id = ?", voucher.id)
    found, total = await paged(
        conn, "loyalty_transactions", where, "created_at DESC, seq DESC", page
    )
    return [prow.transaction(r) for r in found], total


async def list_conversions(
    conn: Conn, project_id: str, page: Page, campaign: str | None, referrer_id: str | None
) -> tuple[list[ReferralConversion], int]:
    where = Where().add("project_id = ?", project_id)
    if campaign is not None:
        where.add("campaign_id = ?", (await require_campaign(conn, project_id, campaign)).id)
    if referrer_id is not None:
        where.add("referrer_id = ?", referrer_id)
    found, total = await paged(
        conn, "referral_conversions", where, "created_at DESC, id DESC", page
    )
    return [prow.conversion(r) for r in found], total


async def list_outcomes(
    conn: Conn,
    project_id: str,
    page: Page,
    distribution_id: str | None,
    result: str | None,
    event_id: str | None,
) -> tuple[list[PromotionOutcome], int]:
    where = Where().add("project_id = ?", project_id)
    if event_id is not None:
        where.add("event_id = ?", event_id)
    if distribution_id is not None:
        where.add("distribution_id = ?", distribution_id)
    if result is not None:
        where.add("result = ?", result)
    found, total = await paged(
        conn, "distribution_outcomes", where, "created_at DESC, id DESC", page
    )
    return [prow.outcome(r) for r in found], total


_PROGRAMS = """
SELECT v.holder_id AS customer_id, c.id AS campaign_id, c.name AS campaign_name,
       SUM(v.balance) AS points, 0 AS referred_customers
  FROM vouchers v JOIN campaigns c ON c.id = v.campaign_id
 WHERE v.project_id = $1 AND c.campaign_type = 'LOYALTY_PROGRAM'
   AND v.holder_id = ANY($2::text[])
 GROUP BY v.holder_id, c.id
UNION ALL
SELECT r.referrer_id, c.id, c.name, 0, COUNT(*)
  FROM referral_conversions r JOIN campaigns c ON c.id = r.campaign_id
 WHERE r.project_id = $1 AND r.referrer_id = ANY($2::text[])
 GROUP BY r.referrer_id, c.id
 ORDER BY campaign_name, campaign_id
"""
_REFERRED_BY = (
    "SELECT * FROM referral_conversions WHERE project_id = $1"
    " AND referee_id = ANY($2::text[]) ORDER BY created_at, id"
)


async def customer_standings(
    conn: Conn, project_id: str, customer_ids: Sequence[str]
) -> dict[str, CustomerStanding]:
    ids = list(customer_ids)
    programs = await conn.fetch(_PROGRAMS, project_id, ids)
    return prow.standings(programs, await conn.fetch(_REFERRED_BY, project_id, ids))
