"""Campaigns (Voucherify): create, get by id or name, list, update, delete, enable, disable,
and adding codes (generated in bulk, or one specific code)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from fastapi import APIRouter, Request

from sendout import ids
from sendout.api.auth import AppProject
from sendout.api.body import read_model, read_optional_model
from sendout.api.context import context_of
from sendout.api.errors import request_id_of
from sendout.api.openapi import body_doc
from sendout.api.paging import between, limit_query, one_of, page_of, page_query
from sendout.api.promotion_schemas import CampaignIn, CampaignUpdateIn, TierIn, VouchersCreateIn
from sendout.api.promotion_views import campaign_view, voucher_view
from sendout.api.responses import JsonResponse, list_body
from sendout.async_actions import deleted, generation
from sendout.clock import isoformat
from sendout.errors import InvalidInput, NotFound
from sendout.promotions import ids as pids
from sendout.promotions.campaigns import (
    MAX_VOUCHERS_COUNT,
    check_campaign_type,
    check_discount,
    check_referral_program,
    check_type,
    generation_config,
    name_referee_reward,
    referee_reward_id,
    voucher_template,
)
from sendout.promotions.codes import code_config
from sendout.promotions.records import CAMPAIGN_TYPES, Campaign, PromotionTier
from sendout.records import Page
from sendout.storage.base import Storage

__all__ = ["new_tier", "router"]

router = APIRouter(prefix="/v1/campaigns", tags=["campaigns"])


def iso(moment: dt.datetime | None) -> str | None:
    """A request's date-time in the API's format (a time without offset is UTC)."""
    if moment is None:
        return None
    return isoformat(moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC))


def new_tier(project_id: str, campaign_id: str, body: TierIn, now: str) -> PromotionTier:
    return PromotionTier(
        id=pids.promotion_tier_id(),
        project_id=project_id,
        campaign_id=campaign_id,
        name=body.name,
        banner=body.banner,
        action=body.action,
        metadata=body.metadata or {},
        hierarchy=body.hierarchy or 0,
        active=body.active,
        start_date=iso(body.start_date),
        expiration_date=iso(body.expiration_date),
        created_at=now,
        updated_at=None,
    )


def _new_campaign(project_id: str, body: CampaignIn, now: str) -> Campaign:
    kind = check_campaign_type(body.campaign_type)
    template = None if body.voucher is None else body.voucher.model_dump(exclude_none=True)
    return Campaign(
        id=ids.campaign_id(),
        project_id=project_id,
        name=body.name,
        campaign_type=kind,
        type=check_type(body.type, kind),
        description=body.description,
        join_once=body.join_once,
        auto_join=body.auto_join,
        active=True,
        voucher=voucher_template(kind, template),
        referral_program=check_referral_program(kind, body.referral_program),
        metadata=body.metadata or {},
        vouchers_count=0,
        start_date=iso(body.start_date),
        expiration_date=iso(body.expiration_date),
        created_at=now,
        updated_at=None,
    )


@router.post(
    "",
    summary="Create a campaign (codes are generated before the answer: allow ~20 s per million)",
    openapi_extra=body_doc(CampaignIn),
    response_class=JsonResponse,
)
async def create_campaign(request: Request, project: AppProject) -> JsonResponse:
    ctx = context_of(request)
    body = await read_model(request, CampaignIn, ctx.settings.max_body_bytes)
    now = isoformat(ctx.clock.now())
    campaign = _new_campaign(project.id, body, now)
    if campaign.campaign_type == "PROMOTION" and body.vouchers_count:
        raise InvalidInput(
            "A PROMOTION campaign has no codes; leave vouchers_count out",
            key="invalid_campaign",
            message="Invalid campaign",
        )
    tiers = [
        new_tier(project.id, campaign.id, t, now)
        for t in (body.promotion.tiers if body.promotion else [])
    ]
    if tiers and campaign.campaign_type != "PROMOTION":
        raise InvalidInput(
            "Only PROMOTION campaigns have promotion tiers",
            key="invalid_campaign",
            message="Invalid campaign",
        )
    campaign = await _with_reward_named(ctx.storage, campaign)
    created = await ctx.storage.create_campaign(campaign, tiers, body.vouchers_count)
    return JsonResponse(await _view(request, created))


async def _with_reward_named(storage: Storage, campaign: Campaign) -> Campaign:
    """The campaign with its referee reward (given by id or name) named by id and name."""
    parent = referee_reward_id(campaign)
    if parent is None:
        return campaign
    try:
        reward: Campaign | None = await storage.get_campaign(campaign.project_id, parent)
    except NotFound:
        reward = None
    return name_referee_reward(campaign, reward)


async def _view(request: Request, campaign: Campaign) -> dict[str, Any]:
    storage = context_of(request).storage
    if campaign.campaign_type != "PROMOTION":
        generating = await storage.generating_campaigns(campaign.project_id, [campaign.id])
        return campaign_view(campaign, generating=campaign.id in generating)
    tiers, _ = await storage.list_promotion_tiers(
        campaign.project_id, campaign.id, Page(limit=100, page=1)
    )
    return campaign_view(campaign, tiers)


@router.get("", summary="List campaigns, newest first", response_class=JsonResponse)
async def list_campaigns(
    request: Request,
    project: AppProject,
    limit: int = limit_query(),
    page: int = page_query(),
    campaign_type: str | None = one_of(CAMPAIGN_TYPES),
) -> JsonResponse:
    paging = page_of(limit, page)
    if campaign_type is not None and campaign_type not in CAMPAIGN_TYPES:
        raise InvalidInput(
            f"campaign_type must be one of {', '.join(CAMPAIGN_TYPES)}",
            key="invalid_query_params",
        )
    storage = context_of(request).storage
    found, total = await storage.list_campaigns(project.id, paging, campaign_type=campaign_type)
    generating = await storage.generating_campaigns(project.id, [c.id for c in found])
    views = [campaign_view(c, generating=c.id in generating) for c in found]
    return JsonResponse(list_body("campaigns", views, total))


@router.get("/{campaignId}", summary="Get a campaign by id or name", response_class=JsonResponse)
async def get_campaign(campaignId: str, request: Request, project: AppProject) -> JsonResponse:
    found = await context_of(request).storage.get_campaign(project.id, campaignId)
    return JsonResponse(await _view(request, found))


def _updated(current: Campaign, body: CampaignUpdateIn, now: str) -> Campaign:
    voucher = dict(current.voucher) if current.voucher is not None else None
    if body.discount is not None:
        if voucher is None or "discount" not in voucher:
            raise InvalidInput("This campaign has no discount", key="invalid_discount")
        voucher["discount"] = check_discount(body.discount)
    if body.loyalty_card is not None:
        if current.campaign_type != "LOYALTY_PROGRAM":
            raise InvalidInput("Only loyalty programs have loyalty_card", key="invalid_voucher")
        voucher = voucher_template(
            current.campaign_type, {**(voucher or {}), "loyalty_card": body.loyalty_card}
        )
    return dataclasses.replace(
        current,
        type=current.type if body.type is None else check_type(body.type, current.campaign_type),
        description=current.description if body.description is None else body.description,
        join_once=current.join_once if body.join_once is None else body.join_once,
        auto_join=current.auto_join if body.auto_join is None else body.auto_join,
        start_date=current.start_date if body.start_date is None else iso(body.start_date),
        expiration_date=(
            current.expiration_date if body.expiration_date is None else iso(body.expiration_date)
        ),
        metadata=current.metadata if body.metadata is None else body.metadata,
        voucher=voucher,
        referral_program=(
            current.referral_program
            if body.referral_program is None
            else check_referral_program(current.campaign_type, body.referral_program)
        ),
        updated_at=now,
    )


@router.put(
    "/{campaignId}",
    summary="Update a campaign; the fields given replace the stored ones",
    openapi_extra=body_doc(CampaignUpdateIn),
    response_class=JsonResponse,
)
async def update_campaign(campaignId: str, request: Request, project: AppProject) -> JsonResponse:
    ctx = context_of(request)
    body = await read_model(request, CampaignUpdateIn, ctx.settings.max_body_bytes)
    current = await ctx.storage.get_campaign(project.id, campaignId)
    updated = await _with_reward_named(
        ctx.storage, _updated(current, body, isoformat(ctx.clock.now()))
    )
    return JsonResponse(await _view(request, await ctx.storage.replace_campaign(updated)))


@router.delete(
    "/{campaignId}",
    summary="Delete a campaign with its codes, publications, tiers and earning rules (done at"
    " once; answered as Voucherify does: 202 with an async action)",
    response_class=JsonResponse,
    status_code=202,
)
async def delete_campaign(campaignId: str, request: Request, project: AppProject) -> JsonResponse:
    ctx = context_of(request)
    campaign = await ctx.storage.get_campaign(project.id, campaignId)
    await ctx.storage.delete_campaign(project.id, campaign.id)
    done = deleted(project.id, campaign.id, request_id_of(request), isoformat(ctx.clock.now()))
    await ctx.storage.create_async_action(done)
    return JsonResponse({"async_action_id": done.id}, status_code=202)


async def _set_active(request: Request, project_id: str, ref: str, active: bool) -> JsonResponse:
    ctx = context_of(request)
    current = await ctx.storage.get_campaign(project_id, ref)
    updated = dataclasses.replace(current, active=active, updated_at=isoformat(ctx.clock.now()))
    return JsonResponse(await _view(request, await ctx.storage.replace_campaign(updated)))


@router.post("/{campaignId}/enable", summary="Enable a campaign", response_class=JsonResponse)
async def enable_campaign(campaignId: str, request: Request, project: AppProject) -> JsonResponse:
    return await _set_active(request, project.id, campaignId, True)


@router.post(
    "/{campaignId}/disable",
    summary="Disable a campaign: nothing is published from it until it is enabled",
    response_class=JsonResponse,
)
async def disable_campaign(campaignId: str, request: Request, project: AppProject) -> JsonResponse:
    return await _set_active(request, project.id, campaignId, False)


@router.post(
    "/{campaignId}/vouchers",
    summary="Add codes: one at once (the voucher), more in the background (202, an async action)",
    openapi_extra=body_doc(VouchersCreateIn, optional=True),
    response_class=JsonResponse,
)
async def add_vouchers(
    campaignId: str,
    request: Request,
    project: AppProject,
    vouchers_count: int = between(1, 1, MAX_VOUCHERS_COUNT),
) -> JsonResponse:
    ctx = context_of(request)
    if not 1 <= vouchers_count <= MAX_VOUCHERS_COUNT:
        raise InvalidInput(
            f"vouchers_count must be between 1 and {MAX_VOUCHERS_COUNT}, got {vouchers_count}",
            key="invalid_query_params",
        )
    body = await read_optional_model(request, VouchersCreateIn, ctx.settings.max_body_bytes)
    now = isoformat(ctx.clock.now())
    if vouchers_count > 1:
        return await _enqueue_generation(request, project.id, campaignId, vouchers_count, body)
    campaign, _ = await ctx.storage.generate_vouchers(
        project.id, campaignId, 1, body.code_config, now
    )
    found, _ = await ctx.storage.list_vouchers(
        project.id,
        Page(limit=1, page=campaign.vouchers_count),
        campaign=campaign.id,
        holder_id=None,
    )
    return JsonResponse(voucher_view(*found[0]))


async def _enqueue_generation(
    request: Request, project_id: str, ref: str, count: int, body: VouchersCreateIn
) -> JsonResponse:
    """Check what can be checked now (the campaign, its codes' pattern), then hand the work to
    the worker: Voucherify's ``202`` with the async action's id."""
    ctx = context_of(request)
    campaign = await ctx.storage.get_campaign(project_id, ref)
    generation_config(
        campaign, count, None if body.code_config is None else code_config(body.code_config)
    )
    action = generation(
        project_id,
        campaign.id,
        count,
        body.code_config,
        request_id_of(request),
        isoformat(ctx.clock.now()),
    )
    await ctx.storage.create_async_action(action)
    ctx.wake_worker()
    return JsonResponse({"async_action_id": action.id}, status_code=202)


@router.post(
    "/{campaignId}/vouchers/{code}",
    summary="Add one specific code to the campaign",
    openapi_extra=body_doc(VouchersCreateIn, optional=True),
    response_class=JsonResponse,
)
async def add_voucher(
    campaignId: str, code: str, request: Request, project: AppProject
) -> JsonResponse:
    ctx = context_of(request)
    body = await read_optional_model(request, VouchersCreateIn, ctx.settings.max_body_bytes)
    if not code.strip() or len(code) > 1000 or not code.isprintable():
        raise InvalidInput("code must be 1 to 1000 printable characters", key="invalid_code")
    voucher, campaign = await ctx.storage.add_voucher(
        project.id, campaignId, code, body.metadata or {}, isoformat(ctx.clock.now())
    )
    return JsonResponse(voucher_view(voucher, campaign))
