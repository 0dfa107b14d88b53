"""Promotion tiers on SQLite."""

from __future__ import annotations

from sendout.errors import NotFound
from sendout.promotions.campaigns import (
    promotion,
)
from sendout.promotions.records import Campaign, PromotionTier
from sendout.records import Page
from sendout.storage import promotion_rows as prow
from sendout.storage import refusals, rows
from sendout.storage.sqlite.campaigns import in_use, require_campaign
from sendout.storage.sqlite.queries import Conn, paged

__all__ = [
    "delete_tier",
    "find_tier",
    "insert_tier",
    "list_tiers",
    "promotion_campaign",
    "replace_tier",
    "require_tier",
]


def find_tier(conn: Conn, project_id: str, tier_id: str) -> PromotionTier | None:
    row = conn.execute(
        "SELECT * FROM promotion_tiers WHERE project_id = ? AND id = ?", (project_id, tier_id)
    ).fetchone()
    return None if row is None else prow.promotion_tier(row)


def require_tier(conn: Conn, project_id: str, tier_id: str) -> PromotionTier:
    found = find_tier(conn, project_id, tier_id)
    if found is None:
        raise NotFound("promotion_tier", tier_id)
    return found


def insert_tier(conn: Conn, tier: PromotionTier) -> PromotionTier:
    hierarchy = tier.hierarchy
    if hierarchy <= 0:
        top = conn.execute(
            "SELECT MAX(hierarchy) FROM promotion_tiers WHERE campaign_id = ?", (tier.campaign_id,)
        ).fetchone()[0]
        hierarchy = int(top or 0) + 1
    conn.execute(
        "INSERT INTO promotion_tiers (id, project_id, campaign_id, name, banner, action, metadata,"
        " hierarchy, active, start_date, expiration_date, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            tier.id,
            tier.project_id,
            tier.campaign_id,
            tier.name,
            tier.banner,
            rows.json_or_null(tier.action),
            rows.to_json(tier.metadata),
            hierarchy,
            int(tier.active),
            tier.start_date,
            tier.expiration_date,
            tier.created_at,
        ),
    )
    return require_tier(conn, tier.project_id, tier.id)


def promotion_campaign(conn: Conn, project_id: str, ref: str) -> Campaign:
    return promotion(require_campaign(conn, project_id, ref))


def list_tiers(
    conn: Conn, project_id: str, campaign: str | None, page: Page
) -> tuple[list[PromotionTier], int]:
    campaign_id = None if campaign is None else promotion_campaign(conn, project_id, campaign).id
    filters = {"project_id": project_id, "campaign_id": campaign_id}
    found, total = paged(conn, "promotion_tiers", filters, "campaign_id, hierarchy, id", page)
    return [prow.promotion_tier(r) for r in found], total


def replace_tier(conn: Conn, tier: PromotionTier) -> PromotionTier:
    require_tier(conn, tier.project_id, tier.id)
    conn.execute(
        "UPDATE promotion_tiers SET name = ?, banner = ?, action = ?, metadata = ?, hierarchy = ?,"
        " active = ?, start_date = ?, expiration_date = ?, updated_at = ? WHERE id = ?",
        (
            tier.name,
            tier.banner,
            rows.json_or_null(tier.action),
            rows.to_json(tier.metadata),
            tier.hierarchy,
            int(tier.active),
            tier.start_date,
            tier.expiration_date,
            tier.updated_at,
            tier.id,
        ),
    )
    return require_tier(conn, tier.project_id, tier.id)


def delete_tier(conn: Conn, project_id: str, tier_id: str) -> None:
    tier = require_tier(conn, project_id, tier_id)
    used = in_use(conn, project_id, "promotion_tier_id", tier.id)
    if used is not None:
        raise refusals.in_use(f"Promotion tier {tier.id}", "promotion_tier", tier.id, used)
    conn.execute("DELETE FROM promotion_tiers WHERE id = ?", (tier.id,))
