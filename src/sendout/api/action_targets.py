"""A distribution's action may only name a campaign and tier that exist and fit its purpose."""

from __future__ import annotations

from typing import Any

from sendout.errors import InvalidInput, NotFound
from sendout.promotions.records import Campaign
from sendout.storage.base import Storage

__all__ = ["check_action_targets"]

_CAMPAIGN_TYPE = {"notify_promotion": "PROMOTION", "publish_unique_code": "DISCOUNT_COUPONS"}


async def _campaign(storage: Storage, project_id: str, kind: str, ref: str) -> Campaign:
    try:
        campaign = await storage.get_campaign(project_id, ref)
    except NotFound:
        raise InvalidInput(
            f"action.campaign_id: no campaign '{ref}' in this project",
            key="unknown_campaign",
            message="Unknown campaign",
            resource_id=ref,
            resource_type="campaign",
        ) from None
    wanted = _CAMPAIGN_TYPE[kind]
    if campaign.campaign_type != wanted:
        raise InvalidInput(
            f"action.campaign_id: a {kind} action needs a {wanted} campaign;"
            f" '{campaign.name}' is {campaign.campaign_type}",
            key="invalid_campaign_type",
            message="Invalid campaign type",
            resource_id=campaign.id,
            resource_type="campaign",
        )
    return campaign


async def check_action_targets(
    storage: Storage, project_id: str, action: dict[str, Any]
) -> dict[str, Any]:
    """The action with its campaign resolved to an id (a name is accepted too)."""
    kind = action["type"]
    if kind not in _CAMPAIGN_TYPE:
        return action
    campaign = await _campaign(storage, project_id, kind, action["campaign_id"])
    checked = {**action, "campaign_id": campaign.id}
    if kind == "notify_promotion":
        tier_id = action["promotion_tier_id"]
        try:
            tier = await storage.get_promotion_tier(project_id, tier_id)
        except NotFound:
            tier = None
        if tier is None or tier.campaign_id != campaign.id:
            raise InvalidInput(
                f"action.promotion_tier_id: campaign '{campaign.name}' has no tier '{tier_id}'",
                key="unknown_promotion_tier",
                message="Unknown promotion tier",
                resource_id=tier_id,
                resource_type="promotion_tier",
            )
    return checked
