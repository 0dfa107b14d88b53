"""Loyalty earning rules (Voucherify's ``/v1/loyalties/{campaignId}/earning-rules``), for custom
events only."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from sendout.api.auth import AppProject
from sendout.api.body import parse_model, read_json_value
from sendout.api.context import context_of
from sendout.api.openapi import body_doc
from sendout.api.paging import limit_query, page_of, page_query
from sendout.api.promotion_schemas import EarningRuleIn
from sendout.api.promotion_views import earning_rule_view
from sendout.api.responses import JsonResponse, list_body
from sendout.clock import isoformat
from sendout.errors import InvalidInput
from sendout.jsonutil import strip_nulls

__all__ = ["router"]

MAX_RULES = 100
router = APIRouter(prefix="/v1/loyalties/{campaignId}/earning-rules", tags=["loyalty"])


@router.post(
    "",
    summary="Create earning rules (a JSON array) keyed on custom events",
    openapi_extra=body_doc(EarningRuleIn, max_items=MAX_RULES),
    response_class=JsonResponse,
)
async def create_earning_rules(
    campaignId: str, request: Request, project: AppProject
) -> JsonResponse:
    ctx = context_of(request)
    raw = await _read_array(request, ctx.settings.max_body_bytes)
    items = [parse_model(EarningRuleIn, item).model_dump(exclude_none=True) for item in raw]
    created = await ctx.storage.create_earning_rules(
        project.id, campaignId, items, isoformat(ctx.clock.now())
    )
    return JsonResponse([earning_rule_view(r) for r in created])


async def _read_array(request: Request, limit: int) -> list[dict[str, object]]:
    value = strip_nulls(await read_json_value(request, limit))
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list) or not value or len(value) > MAX_RULES:
        raise InvalidInput(
            f"The body must be an array of 1 to {MAX_RULES} earning rules",
            key="invalid_payload",
        )
    if not all(isinstance(item, dict) for item in value):
        raise InvalidInput("Every earning rule must be a JSON object", key="invalid_payload")
    return value


@router.get("", summary="List a loyalty campaign's earning rules", response_class=JsonResponse)
async def list_earning_rules(
    campaignId: str,
    request: Request,
    project: AppProject,
    limit: int = limit_query(),
    page: int = page_query(),
) -> JsonResponse:
    paging = page_of(limit, page)
    found, total = await context_of(request).storage.list_earning_rules(
        project.id, campaignId, paging
    )
    return JsonResponse(
        list_body("data", [earning_rule_view(r) for r in found], total, offset=paging.offset)
    )


@router.get("/{ruleId}", summary="Get an earning rule", response_class=JsonResponse)
async def get_earning_rule(
    campaignId: str, ruleId: str, request: Request, project: AppProject
) -> JsonResponse:
    rule = await context_of(request).storage.get_earning_rule(project.id, campaignId, ruleId)
    return JsonResponse(earning_rule_view(rule))


@router.delete("/{ruleId}", summary="Delete an earning rule", status_code=204)
async def delete_earning_rule(
    campaignId: str, ruleId: str, request: Request, project: AppProject
) -> Response:
    await context_of(request).storage.delete_earning_rule(project.id, campaignId, ruleId)
    return Response(status_code=204)
