"""Earning rules, loyalty transactions, referral conversions, customers' standing in the programs
and distribution outcomes on SQLite."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

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
from sendout.storage.sqlite.campaigns import require_campaign
from sendout.storage.sqlite.codes import require_voucher
from sendout.storage.sqlite.queries import Conn, paged

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


def loyalty_campaign(conn: Conn, project_id: str, ref: str) -> Campaign:
    return loyalty_program(require_campaign(conn, project_id, ref))


def _rule_event(conn: Conn, project_id: str, raw: dict[str, Any], index: int) -> EventSchema:
    column, value = rule_schema_ref(raw)
    row = conn.execute(
        f"SELECT * FROM event_schemas WHERE project_id = ? AND {column} = ?", (project_id, value)
    ).fetchone()
    return check_rule_schema(raw, index, None if row is None else rows.event_schema(row))


def create_earning_rules(
    conn: Conn, project_id: str, ref: str, raws: Sequence[dict[str, Any]], now: str
) -> list[EarningRule]:
    campaign = loyalty_campaign(conn, project_id, ref)
    created = []
    for index, raw in enumerate(raws):
        schema = _rule_event(conn, project_id, raw, index)
        rule = new_earning_rule(project_id, campaign.id, schema, raw, now)
        conn.execute(
            "INSERT INTO earning_rules (id, project_id, campaign_id, event, schema_id, loyalty,"
            " active, metadata, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            prow.earning_rule_values(rule),
        )
        created.append(rule)
    return created


def list_earning_rules(
    conn: Conn, project_id: str, ref: str, page: Page
) -> tuple[list[EarningRule], int]:
    campaign = loyalty_campaign(conn, project_id, ref)
    filters = {"campaign_id": campaign.id}
    found, total = paged(conn, "earning_rules", filters, "created_at, id", page)
    return [prow.earning_rule(r) for r in found], total


def require_earning_rule(conn: Conn, project_id: str, ref: str, rule_id: str) -> EarningRule:
    campaign = loyalty_campaign(conn, project_id, ref)
    row = conn.execute(
        "SELECT * FROM earning_rules WHERE campaign_id = ? AND id = ?", (campaign.id, rule_id)
    ).fetchone()
    if row is None:
        raise NotFound("earning_rule", rule_id)
    return prow.earning_rule(row)


def delete_earning_rule(conn: Conn, project_id: str, ref: str, rule_id: str) -> None:
    rule = require_earning_rule(conn, project_id, ref, rule_id)
    conn.execute("DELETE FROM earning_rules WHERE id = ?", (rule.id,))


def list_transactions(
    conn: Conn, project_id: str, code: str, page: Page
) -> tuple[list[LoyaltyTransaction], int]:
    voucher, _ = require_voucher(conn, project_id, code)
    filters = {"voucher_id": voucher.id}
    found, total = paged(conn, "loyalty_transactions", filters, "created_at DESC, rowid DESC", page)
    return [prow.transaction(r) for r in found], total


def list_conversions(
    conn: Conn, project_id: str, page: Page, campaign: str | None, referrer_id: str | None
) -> tuple[list[ReferralConversion], int]:
    campaign_id = None if campaign is None else require_campaign(conn, project_id, campaign).id
    filters = {"project_id": project_id, "campaign_id": campaign_id, "referrer_id": referrer_id}
    found, total = paged(conn, "referral_conversions", filters, "created_at DESC, id DESC", page)
    return [prow.conversion(r) for r in found], total


def list_outcomes(
    conn: Conn,
    project_id: str,
    page: Page,
    distribution_id: str | None,
    result: str | None,
    event_id: str | None,
) -> tuple[list[PromotionOutcome], int]:
    filters = {"project_id": project_id, "distribution_id": distribution_id, "result": result}
    filters["event_id"] = event_id
    found, total = paged(conn, "distribution_outcomes", filters, "created_at DESC, id DESC", page)
    return [prow.outcome(r) for r in found], total


_PROGRAMS = """
SELECT v.holder_id AS customer_id, c.id AS campaign_id, c.name AS campaign_name,
       SUM(v.balance) AS points, 0 AS referred_customers
  FROM vouchers v JOIN campaigns c ON c.id = v.campaign_id
 WHERE v.project_id = :project AND c.campaign_type = 'LOYALTY_PROGRAM'
   AND v.holder_id IN (SELECT value FROM json_each(:ids))
 GROUP BY v.holder_id, c.id
UNION ALL
SELECT r.referrer_id, c.id, c.name, 0, COUNT(*)
  FROM referral_conversions r JOIN campaigns c ON c.id = r.campaign_id
 WHERE r.project_id = :project AND r.referrer_id IN (SELECT value FROM json_each(:ids))
 GROUP BY r.referrer_id, c.id
 ORDER BY campaign_name, campaign_id
"""
_REFERRED_BY = (
    "SELECT * FROM referral_conversions WHERE project_id = :project"
    " AND referee_id IN (SELECT value FROM json_each(:ids)) ORDER BY created_at, id"
)


def customer_standings(
    conn: Conn, project_id: str, customer_ids: Sequence[str]
) -> dict[str, CustomerStanding]:
    params = {"project": project_id, "ids": json.dumps(list(customer_ids))}
    programs = conn.execute(_PROGRAMS, params).fetchall()
    return prow.standings(programs, conn.execute(_REFERRED_BY, params).fetchall())
