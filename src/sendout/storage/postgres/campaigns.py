"""Campaigns on PostgreSQL: finding, replacing, deleting, listing."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sendout.errors import NotFound
from sendout.promotions.campaigns import (
    check_referee_reward,
    referee_reward_id,
)
from sendout.promotions.records import Campaign
from sendout.records import Page
from sendout.storage import promotion_rows as prow
from sendout.storage import refusals
from sendout.storage.postgres.queries import Where, paged

if TYPE_CHECKING:
    from sendout.storage.postgres.queries import Conn


__all__ = [
    "campaigns_by_id",
    "delete_campaign",
    "find_campaign",
    "in_use",
    "list_campaigns",
    "replace_campaign",
    "require_campaign",
]


async def find_campaign(
    conn: Conn, project_id: str, ref: str, lock: bool = False
) -> Campaign | None:
    row = await conn.fetchrow(
        "SELECT * FROM campaigns WHERE project_id = $1 AND (id = $2 OR name = $2)"
        " ORDER BY (id = $2) DESC LIMIT 1" + (" FOR UPDATE" if lock else ""),
        project_id,
        ref,
    )
    return None if row is None else prow.campaign(row)


async def require_campaign(conn: Conn, project_id: str, ref: str, lock: bool = False) -> Campaign:
    found = await find_campaign(conn, project_id, ref, lock)
    if found is None:
        raise NotFound("campaign", ref)
    return found


async def in_use(conn: Conn, project_id: str, key: str, value: str) -> str | None:
    used = await conn.fetchval(
        "SELECT id FROM distributions WHERE project_id = $1 AND (action::json ->> $2) = $3 LIMIT 1",
        project_id,
        key,
        value,
    )
    return None if used is None else str(used)


async def campaigns_by_id(conn: Conn, ids: set[str]) -> dict[str, Campaign]:
    found = await conn.fetch("SELECT * FROM campaigns WHERE id = ANY($1::text[])", list(ids))
    return {r["id"]: prow.campaign(r) for r in found}


async def check_reward(conn: Conn, campaign: Campaign) -> None:
    parent = referee_reward_id(campaign)
    if parent is not None:
        check_referee_reward(parent, await find_campaign(conn, campaign.project_id, parent))


_UPDATE = (
    "UPDATE campaigns SET "
    + ", ".join(f"{c} = ${i}" for i, c in enumerate(prow.CAMPAIGN_CHANGES, 1))
    + f" WHERE id = ${len(prow.CAMPAIGN_CHANGES) + 1}"
)


async def replace_campaign(conn: Conn, campaign: Campaign) -> Campaign:
    await check_reward(conn, campaign)
    c = campaign
    await conn.execute(_UPDATE, *prow.campaign_changes(c), c.id)
    return await require_campaign(conn, c.project_id, c.id)


async def delete_campaign(conn: Conn, project_id: str, ref: str) -> None:
    campaign = await require_campaign(conn, project_id, ref, lock=True)
    used = await in_use(conn, project_id, "campaign_id", campaign.id)
    if used is not None:
        raise refusals.in_use(f"Campaign '{campaign.name}'", "campaign", campaign.id, used)
    await conn.execute("DELETE FROM campaigns WHERE id = $1", campaign.id)


async def list_campaigns(
    conn: Conn, project_id: str, page: Page, campaign_type: str | None
) -> tuple[list[Campaign], int]:
    where = Where().add("project_id = ?", project_id)
    if campaign_type is not None:
        where.add("campaign_type = ?", campaign_type)
    found, total = await paged(conn, "campaigns", where, "created_at DESC, id DESC", page)
    return [prow.campaign(r) for r in found], total
