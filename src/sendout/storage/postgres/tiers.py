"""Promotion tiers on PostgreSQL."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sendout.errors import NotFound
from sendout.promotions.campaigns import (
    promotion,
)
from sendout.promotions.records import Campaign, PromotionTier
from sendout.records import Page
from sendout.storage import promotion_rows as prow
from sendout.storage import refusals, rows
from sendout.storage.postgres.campaigns import in_use, require_campaign
from sendout.storage.postgres.queries import Where, paged

if TYPE_CHECKING:
    from sendout.storage.postgres.queries import Conn


__all__ = [
    "create_tier",
    "delete_tier",
    "find_tier",
    "insert_tier",
    "list_tiers",
    "promotion_campaign",
    "replace_tier",
    "require_tier",
]


async def find_tier(conn: Conn, project_id: str, tier_id: str) -> PromotionTier | None:
    row = await conn.fetchrow(
        "SELECT * FROM promotion_tiers WHERE project_id = $1 AND id = $2", project_id, tier_id
    )
    return None if row is None else prow.promotion_tier(row)


async def require_tier(conn: Conn, project_id: str, tier_id: str) -> PromotionTier:
    found = await find_tier(conn, project_id, tier_id)
    if found is None:
        raise NotFound("promotion_tier", tier_id)
    return found


async def insert_tier(conn: Conn, tier: PromotionTier) -> PromotionTier:
    hierarchy = tier.hierarchy
    if hierarchy <= 0:
        top = await conn.fetchval(
            "SELECT MAX(hierarchy) FROM promotion_tiers WHERE campaign_id = $1", tier.campaign_id
        )
        hierarchy = int(top or 0) + 1
    row = await conn.fetchrow(
        "INSERT INTO promotion_tiers (id, project_id, campaign_id, name, banner, action, metadata,"
        " hierarchy, active, start_date, expiration_date, created_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING *",
        tier.id,
        tier.project_id,
        tier.campaign_id,
        tier.name,
        tier.banner,
        rows.json_or_null(tier.action),
        rows.to_json(tier.metadata),
        hierarchy,
        tier.active,
        tier.start_date,
        tier.expiration_date,
        tier.created_at,
    )
    assert row is not None
    return prow.promotion_tier(row)


async def promotion_campaign(conn: Conn, project_id: str, ref: str) -> Campaign:
    return promotion(await require_campaign(conn, project_id, ref))


async def create_tier(conn: Conn, tier: PromotionTier) -> PromotionTier:
    # Locked: tiers added at once to one campaign get distinct hierarchies, as on SQLite.
    await require_campaign(conn, tier.project_id, tier.campaign_id, lock=True)
    await promotion_campaign(conn, tier.project_id, tier.campaign_id)
    return await insert_tier(conn, tier)


async def list_tiers(
    conn: Conn, project_id: str, campaign: str | None, page: Page
) -> tuple[list[PromotionTier], int]:
    where = Where().add("project_id = ?", project_id)
    if campaign is not None:
        where.add("campaign_id = ?", (await promotion_campaign(conn, project_id, campaign)).id)
    found, total = await paged(conn, "promotion_tiers", where, "campaign_id, hierarchy, id", page)
    return [prow.promotion_tier(r) for r in found], total


async def replace_tier(conn: Conn, tier: PromotionTier) -> PromotionTier:
    row = await conn.fetchrow(
        "UPDATE promotion_tiers SET name = $1, banner = $2, action = $3, metadata = $4,"
        " hierarchy = $5, active = $6, start_date = $7, expiration_date = $8, updated_at = $9"
        " WHERE project_id = $10 AND id = $11 RETURNING *",
        tier.name,
        tier.banner,
        rows.json_or_null(tier.action),
        rows.to_json(tier.metadata),
        tier.hierarchy,
        tier.active,
        tier.start_date,
        tier.expiration_date,
        tier.updated_at,
        tier.project_id,
        tier.id,
    )
    if row is None:
        raise NotFound("promotion_tier", tier.id)
    return prow.promotion_tier(row)


async def delete_tier(conn: Conn, project_id: str, tier_id: str) -> None:
    tier = await require_tier(conn, project_id, tier_id)
    used = await in_use(conn, project_id, "promotion_tier_id", tier.id)
    if used is not None:
        raise refusals.in_use(f"Promotion tier {tier.id}", "promotion_tier", tier.id, used)
    await conn.execute("DELETE FROM promotion_tiers WHERE id = $1", tier.id)
