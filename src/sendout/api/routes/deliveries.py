"""Deliveries (sendout's extension): every webhook send-out with its attempts."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request

from sendout.api import operations
from sendout.api.auth import AppProject
from sendout.api.context import context_of
from sendout.api.paging import limit_query, one_of, page_of, page_query
from sendout.api.responses import JsonResponse, list_body
from sendout.api.views import delivery_view
from sendout.errors import InvalidInput
from sendout.records import DELIVERY_STATUSES
from sendout.storage.base import DeliveryFilter

__all__ = ["router"]

router = APIRouter(prefix="/v1/deliveries", tags=["deliveries"])


@router.get("", summary="List deliveries with their attempts", response_class=JsonResponse)
async def list_deliveries(
    request: Request,
    project: AppProject,
    distribution_id: str | None = Query(None),
    event_id: str | None = Query(None),
    status: str | None = one_of(DELIVERY_STATUSES),
    limit: int = limit_query(),
    page: int = page_query(),
) -> JsonResponse:
    paging = page_of(limit, page)
    if status is not None and status not in DELIVERY_STATUSES:
        raise InvalidInput(
            f"status must be one of {', '.join(DELIVERY_STATUSES)}, got '{status}'",
            key="invalid_query_params",
        )
    where = DeliveryFilter(distribution_id=distribution_id, event_id=event_id, status=status)
    found, total = await context_of(request).storage.list_deliveries(project.id, paging, where)
    return JsonResponse(
        list_body("deliveries", [delivery_view(d) for d in found], total, offset=paging.offset)
    )


@router.get("/{deliveryId}", summary="Get one delivery", response_class=JsonResponse)
async def get_delivery(deliveryId: str, request: Request, project: AppProject) -> JsonResponse:
    found = await context_of(request).storage.get_delivery(project.id, deliveryId)
    return JsonResponse(delivery_view(found))


@router.post(
    "/{deliveryId}/resend",
    summary="Attempt a delivery again now (same body, same envelope id)",
    response_class=JsonResponse,
)
async def resend_delivery(
    deliveryId: str,
    request: Request,
    project: AppProject,
) -> JsonResponse:
    found = await operations.resend(context_of(request), project.id, deliveryId)
    return JsonResponse(delivery_view(found))
