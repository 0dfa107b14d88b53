"""Sendout's read-only extensions over promotions: distribution outcomes (why an event sent no
webhook for a distribution) and referral conversions."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request

from sendout.api.auth import AppProject
from sendout.api.context import context_of
from sendout.api.paging import limit_query, page_of, page_query
from sendout.api.promotion_views import conversion_view, outcome_view
from sendout.api.responses import JsonResponse, list_body

__all__ = ["router"]

router = APIRouter(tags=["distributions", "referral"])


@router.get(
    "/v1/distribution-outcomes",
    summary="Events that sent no webhook for a distribution, and why (newest first)",
    response_class=JsonResponse,
)
async def list_outcomes(
    request: Request,
    project: AppProject,
    distribution_id: str | None = Query(None),
    result: str | None = Query(None, description="e.g. no_voucher_suitable_for_publication"),
    limit: int = limit_query(),
    page: int = page_query(),
) -> JsonResponse:
    paging = page_of(limit, page)
    found, total = await context_of(request).storage.list_distribution_outcomes(
        project.id, paging, distribution_id=distribution_id, result=result
    )
    return JsonResponse(
        list_body("outcomes", [outcome_view(o) for o in found], total, offset=paging.offset)
    )


@router.get(
    "/v1/referral-conversions",
    summary="Customers referred through referral codes (newest first)",
    response_class=JsonResponse,
)
async def list_conversions(
    request: Request,
    project: AppProject,
    campaign: str | None = Query(None, description="Referral campaign name or id"),
    referrer: str | None = Query(None, description="Referrer's customer id or source_id"),
    limit: int = limit_query(),
    page: int = page_query(),
) -> JsonResponse:
    ctx = context_of(request)
    paging = page_of(limit, page)
    referrer_id = None
    if referrer is not None:
        referrer_id = (await ctx.storage.get_customer(project.id, referrer)).id
    found, total = await ctx.storage.list_referral_conversions(
        project.id, paging, campaign=campaign, referrer_id=referrer_id
    )
    return JsonResponse(
        list_body("conversions", [conversion_view(r) for r in found], total, offset=paging.offset)
    )
