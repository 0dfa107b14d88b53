"""Campaigns on SQLite: finding, creating, replacing, deleting, listing."""

from __future__ import annotations

from sendout.errors import NotFound
from sendout.promotions.campaigns import (
    check_referee_reward,
    referee_reward_id,
)
from sendout.promotions.records import Campaign
from sendout.records import Page
from sendout.storage import promotion_rows as prow
from sendout.storage import refusals
from sendout.storage.sqlite.queries import Conn, paged

__all__ = [
    "delete_campaign",
    "find_campaign",
    "in_use",
    "list_campaigns",
    "replace_campaign",
    "require_campaign",
]


def find_campaign(conn: Conn, project_id: str, ref: str) -> Campaign | None:
    row = conn.execute(
        "SELECT * FROM campaigns WHERE project_id = ? AND (id = ? OR name = ?)"
        " ORDER BY id = ? DESC LIMIT 1",
        (project_id, ref, ref, ref),
    ).fetchone()
    return None if row is None else prow.campaign(row)


def require_campaign(conn: Conn, project_id: str, ref: str) -> Campaign:
    found = find_campaign(conn, project_id, ref)
    if found is None:
        raise NotFound("campaign", ref)
    return found


def in_use(conn: Conn, project_id: str, path: str, value: str) -> str | None:
    row = conn.execute(
        f"SELECT id FROM distributions WHERE project_id = ? AND json_extract(action, '$.{path}') = ?"
        " LIMIT 1",
        (project_id, value),
    ).fetchone()
    return None if row is None else str(row[0])


def check_reward(conn: Conn, campaign: Campaign) -> None:
    parent = referee_reward_id(campaign)
    if parent is not None:
        check_referee_reward(parent, find_campaign(conn, campaign.project_id, parent))


_UPDATE = (
    f"UPDATE campaigns SET {', '.join(f'{c} = ?' for c in prow.CAMPAIGN_CHANGES)} WHERE id = ?"
)


def replace_campaign(conn: Conn, campaign: Campaign) -> Campaign:
    check_reward(conn, campaign)
    conn.execute(_UPDATE, (*prow.campaign_changes(campaign), campaign.id))
    return require_campaign(conn, campaign.project_id, campaign.id)


def delete_campaign(conn: Conn, project_id: str, ref: str) -> None:
    campaign = require_campaign(conn, project_id, ref)
    used = in_use(conn, project_id, "campaign_id", campaign.id)
    if used is not None:
        raise refusals.in_use(f"Campaign '{campaign.name}'", "campaign", campaign.id, used)
    conn.execute("DELETE FROM campaigns WHERE id = ?", (campaign.id,))


def list_campaigns(
    conn: Conn, project_id: str, page: Page, campaign_type: str | None
) -> tuple[list[Campaign], int]:
    filters = {"project_id": project_id, "campaign_type": campaign_type}
    found, total = paged(conn, "campaigns", filters, "created_at DESC, id DESC", page)
    return [prow.campaign(r) for r in found], total
