"""Every row of a paged read: all of a project's distributions or campaigns, page by page (for
readers that need the whole set, such as ``sendout status`` and the store gauges)."""

from __future__ import annotations

from sendout.promotions.records import Campaign
from sendout.records import Distribution, Page
from sendout.storage.base import Storage

__all__ = ["every_campaign", "every_distribution"]

_PAGE = 100


async def every_distribution(storage: Storage, project_id: str) -> list[Distribution]:
    """The project's distributions, oldest first."""
    found: list[Distribution] = []
    while True:
        page, total = await storage.list_distributions(
            project_id, Page(_PAGE, 1 + len(found) // _PAGE)
        )
        found.extend(page)
        if len(page) < _PAGE or len(found) >= total:
            return found


async def every_campaign(storage: Storage, project_id: str) -> list[Campaign]:
    """The project's campaigns of every type, newest first."""
    found: list[Campaign] = []
    while True:
        page, total = await storage.list_campaigns(
            project_id, Page(_PAGE, 1 + len(found) // _PAGE), campaign_type=None
        )
        found.extend(page)
        if len(page) < _PAGE or len(found) >= total:
            return found
