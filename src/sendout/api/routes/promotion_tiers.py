"""Promotion tiers (Voucherify): per campaign list and create; get, update, delete, enable,
disable by id."""

from __future__ import annotations

import dataclasses

from fastapi import APIRouter, Request
from starlette.responses import Response

from sendout.api.auth import AppProject
from sendout.api.body import read_model
from sendout.api.context import context_of
from sendout.api.openapi import body_doc
from sendout.api.paging import limit_query, page_of, page_query
from sendout.api.promotion_schemas import TierIn, TierUpdateIn
from sendout.api.promotion_views import tier_view
from sendout.api.responses import JsonResponse, list_body
from sendout.api.routes.campaigns import iso, new_tier
from sendout.clock import isoformat
from sendout.promotions.records import PromotionTier

__all__ = ["router"]

router = APIRouter(prefix="/v1/promotions", tags=["promotion tiers"])


@router.get("/tiers", summary="List the promotion tiers of every campaign")
async def list_all_tiers(
    request: Request, project: AppProject, limit: int = limit_query(), page: int = page_query()
) -> JsonResponse:
    paging = page_of(limit, page)
    found, total = await context_of(request).storage.list_promotion_tiers(project.id, None, paging)
    return JsonResponse(
        list_body("tiers", [tier_view(t) for t in found], total, offset=paging.offset)
    )


@router.get("/tiers/{tierId}", summary="Get a promotion tier", response_class=JsonResponse)
async def get_tier(tierId: str, request: Request, project: AppProject) -> JsonResponse:
    return JsonResponse(
        tier_view(await context_of(request).storage.get_promotion_tier(project.id, tierId))
    )


def _updated(current: PromotionTier, body: TierUpdateIn, now: str) -> PromotionTier:
    given = body.model_dump(exclude_none=True)
    for date in ("start_date", "expiration_date"):
        if date in given:
            given[date] = iso(getattr(body, date))
    return dataclasses.replace(current, **given, updated_at=now)


@router.put(
    "/tiers/{tierId}",
    summary="Update a promotion tier; the fields given replace the stored ones",
    openapi_extra=body_doc(TierUpdateIn),
    response_class=JsonResponse,
)
async def update_tier(tierId: str, request: Request, project: AppProject) -> JsonResponse:
    ctx = context_of(request)
    body = await read_model(request, TierUpdateIn, ctx.settings.max_body_bytes)
    current = await ctx.storage.get_promotion_tier(project.id, tierId)
    updated = _updated(current, body, isoformat(ctx.clock.now()))
    return JsonResponse(tier_view(await ctx.storage.replace_promotion_tier(updated)))


@router.delete("/tiers/{tierId}", summary="Delete a promotion tier", status_code=204)
async def delete_tier(tierId: str, request: Request, project: AppProject) -> Response:
    await context_of(request).storage.delete_promotion_tier(project.id, tierId)
    return Response(status_code=204)


async def _set_active(
    request: Request, project_id: str, tier_id: str, active: bool
) -> JsonResponse:
    ctx = context_of(request)
    current = await ctx.storage.get_promotion_tier(project_id, tier_id)
    updated = dataclasses.replace(current, active=active, updated_at=isoformat(ctx.clock.now()))
    return JsonResponse(tier_view(await ctx.storage.replace_promotion_tier(updated)))


@router.post("/tiers/{tierId}/enable", summary="Enable a promotion tier")
async def enable_tier(tierId: str, request: Request, project: AppProject) -> JsonResponse:
    return await _set_active(request, project.id, tierId, True)


@router.post("/tiers/{tierId}/disable", summary="Disable a promotion tier")
async def disable_tier(tierId: str, request: Request, project: AppProject) -> JsonResponse:
    return await _set_active(request, project.id, tierId, False)


@router.get(
    "/{campaignId}/tiers",
    summary="List a promotion campaign's tiers in hierarchy order",
    response_class=JsonResponse,
)
async def list_tiers(
    campaignId: str,
    request: Request,
    project: AppProject,
    limit: int = limit_query(100),
    page: int = page_query(),
) -> JsonResponse:
    paging = page_of(limit, page)
    found, total = await context_of(request).storage.list_promotion_tiers(
        project.id, campaignId, paging
    )
    return JsonResponse(
        list_body("tiers", [tier_view(t) for t in found], total, offset=paging.offset)
    )


@router.post(
    "/{campaignId}/tiers",
    summary="Add a tier to a promotion campaign (hierarchy: next integer unless given)",
    openapi_extra=body_doc(TierIn),
    response_class=JsonResponse,
)
async def create_tier(campaignId: str, request: Request, project: AppProject) -> JsonResponse:
    ctx = context_of(request)
    body = await read_model(request, TierIn, ctx.settings.max_body_bytes)
    campaign = await ctx.storage.get_campaign(project.id, campaignId)
    tier = new_tier(project.id, campaign.id, body, isoformat(ctx.clock.now()))
    return JsonResponse(tier_view(await ctx.storage.create_promotion_tier(tier), campaign))
