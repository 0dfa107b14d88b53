"""Publications (Voucherify): hand codes to a customer; list them."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from sendout.api.auth import AppProject
from sendout.api.body import parse_model, read_json
from sendout.api.context import context_of
from sendout.api.idempotency import idempotency_key
from sendout.api.openapi import body_doc
from sendout.api.paging import limit_query, one_of, page_of, page_query
from sendout.api.promotion_schemas import PublicationIn
from sendout.api.promotion_views import publication_created_view, publication_list_item
from sendout.api.responses import JsonResponse, list_body
from sendout.clock import isoformat, to_ms
from sendout.errors import InvalidInput
from sendout.jsonutil import dumps
from sendout.pipeline.publish import publish_to_customer
from sendout.promotions.publishing import PublishRequest
from sendout.storage.base import PublicationFilter

__all__ = ["router"]

router = APIRouter(prefix="/v1/publications", tags=["publications"])

RESULTS = ("SUCCESS", "FAILURE")
VOUCHER_TYPES = ("discount", "loyalty")
ORDERS = (
    "id",
    "-id",
    "created_at",
    "-created_at",
    "customer_id",
    "-customer_id",
    "channel",
    "-channel",
    "tracking_id",
    "-tracking_id",
)


def _request(body: PublicationIn, join_once: bool) -> PublishRequest:
    campaign, count = None, 1
    if isinstance(body.campaign, str):
        campaign = body.campaign
    elif body.campaign is not None:
        campaign, count = body.campaign.name, body.campaign.count
    return PublishRequest(
        customer_id="",
        campaign=campaign,
        count=count,
        voucher=body.voucher,
        join_once=join_once,
        source_id=body.source_id,
        channel=body.channel or "API",
        metadata=body.metadata or {},
    )


@router.post(
    "",
    summary="Publish codes of a campaign (or one specific code) to a customer",
    openapi_extra=body_doc(PublicationIn),
    response_class=JsonResponse,
)
async def create_publication(
    request: Request,
    project: AppProject,
    join_once: bool = Query(False, description="The customer keeps one code of the campaign"),
) -> Response:
    ctx = context_of(request)
    raw = await read_json(request, ctx.settings.max_body_bytes)
    body = parse_model(PublicationIn, raw)
    customer_ref = body.customer.ref()
    now = ctx.clock.now()
    route = "publications?join_once" if join_once else "publications"
    response, replayed = await publish_to_customer(
        ctx.storage,
        project.id,
        customer_ref,
        body.customer.fields(),
        _request(body, join_once),
        isoformat(now),
        render=lambda p, campaign, customer: dumps(publication_created_view(p, customer, campaign)),
        idempotency=idempotency_key(request, route, raw, to_ms(now)),
    )
    headers = {"idempotent-replayed": "true"} if replayed else None
    return Response(response, media_type="application/json", headers=headers)


@router.get("", summary="List publications", response_class=JsonResponse)
async def list_publications(
    request: Request,
    project: AppProject,
    limit: int = limit_query(),
    page: int = page_query(),
    order: str = one_of(ORDERS, "-created_at"),
    campaign: str | None = Query(None, description="Campaign name or id"),
    customer: str | None = Query(None, description="Customer id or source_id"),
    voucher: str | None = Query(None, description="Voucher code"),
    result: str | None = one_of(RESULTS),
    voucher_type: str | None = one_of(VOUCHER_TYPES),
    is_referral_code: bool | None = Query(None),
    source_id: str | None = Query(None),
) -> JsonResponse:
    paging = page_of(limit, page)
    checks = (
        (order, ORDERS, "order"),
        (result, (*RESULTS, None), "result"),
        (voucher_type, (*VOUCHER_TYPES, None), "voucher_type"),
    )
    for value, allowed, name in checks:
        if value not in allowed:
            shown = ", ".join(a for a in allowed if a is not None)
            raise InvalidInput(f"{name} must be one of {shown}", key="invalid_query_params")
    where = PublicationFilter(
        campaign=campaign,
        customer=customer,
        voucher=voucher,
        result=result,
        voucher_type=voucher_type,
        is_referral_code=is_referral_code,
        source_id=source_id,
        order=order,
    )
    found, total = await context_of(request).storage.list_publications(project.id, paging, where)
    return JsonResponse(
        list_body(
            "publications",
            [publication_list_item(p, cu, c) for p, cu, c in found],
            total,
            offset=paging.offset,
        )
    )
