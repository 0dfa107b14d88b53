"""Vouchers (Voucherify): list, get by code; a loyalty card's points transactions."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request

from sendout.api.auth import AppProject
from sendout.api.context import context_of
from sendout.api.paging import limit_query, page_of, page_query
from sendout.api.promotion_views import transaction_view, voucher_view
from sendout.api.responses import JsonResponse, list_body

__all__ = ["router"]

router = APIRouter(prefix="/v1/vouchers", tags=["vouchers"])


@router.get("", summary="List vouchers (codes), oldest first", response_class=JsonResponse)
async def list_vouchers(
    request: Request,
    project: AppProject,
    limit: int = limit_query(),
    page: int = page_query(),
    campaign: str | None = Query(None, description="Campaign name or id"),
    customer: str | None = Query(None, description="Holder's customer id or source_id"),
) -> JsonResponse:
    ctx = context_of(request)
    paging = page_of(limit, page)
    holder = None
    if customer is not None:
        holder = (await ctx.storage.get_customer(project.id, customer)).id
    found, total = await ctx.storage.list_vouchers(
        project.id, paging, campaign=campaign, holder_id=holder
    )
    return JsonResponse(
        list_body("vouchers", [voucher_view(v, c) for v, c in found], total, offset=paging.offset)
    )


@router.get("/{code}", summary="Get a voucher by its code", response_class=JsonResponse)
async def get_voucher(code: str, request: Request, project: AppProject) -> JsonResponse:
    voucher, campaign = await context_of(request).storage.get_voucher(project.id, code)
    return JsonResponse(voucher_view(voucher, campaign))


@router.get(
    "/{code}/transactions",
    summary="A loyalty card's points transactions, newest first",
    response_class=JsonResponse,
)
async def list_transactions(
    code: str,
    request: Request,
    project: AppProject,
    limit: int = limit_query(),
    page: int = page_query(),
) -> JsonResponse:
    paging = page_of(limit, page)
    found, total = await context_of(request).storage.list_loyalty_transactions(
        project.id, code, paging
    )
    return JsonResponse(
        list_body("data", [transaction_view(t) for t in found], total, offset=paging.offset)
    )
