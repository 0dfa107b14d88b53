"""Campaigns: each with its codes counted (total, published, remaining) and a warning when a
fixed pool runs low."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from sendout.api.context import context_of
from sendout.dashboard.guard import SignedIn
from sendout.dashboard.pages import PageRoute, page
from sendout.promotions.records import NO_CODES, Campaign, CodeCounts
from sendout.records import Page

__all__ = ["low_stock", "router"]

router = APIRouter(prefix="/dashboard/campaigns", route_class=PageRoute, include_in_schema=False)

PAGE_SIZE = 25
LOW_STOCK_SHARE = 0.1  # warn when at most a tenth of a fixed pool is left …
LOW_STOCK_FLOOR = 10  # … or at most this many codes


def low_stock(campaign: Campaign, counts: CodeCounts) -> bool:
    """A ``STATIC`` pool of codes about to run out (``AUTO_UPDATE`` pools grow by themselves)."""
    if not campaign.has_codes or campaign.type != "STATIC" or counts.total == 0:
        return False
    return counts.remaining <= max(LOW_STOCK_FLOOR, int(counts.total * LOW_STOCK_SHARE))


@router.get("")
async def list_campaigns(
    request: Request, project: SignedIn, page_number: int = Query(1, alias="page", ge=1)
) -> Response:
    storage = context_of(request).storage
    paging = Page(PAGE_SIZE, page_number)
    found, total = await storage.list_campaigns(project.id, paging, campaign_type=None)
    every_count = await storage.code_counts_by_campaign(project.id)
    rows = []
    for campaign in found:
        counts = every_count.get(campaign.id, NO_CODES) if campaign.has_codes else None
        rows.append((campaign, counts, counts is not None and low_stock(campaign, counts)))
    return page(
        request,
        "campaigns.html",
        title="Campaigns",
        rows=rows,
        total=total,
        paging=paging,
        query=lambda n=page_number: f"/dashboard/campaigns?page={n}",
    )
