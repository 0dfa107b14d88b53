"""Customers, as in Voucherify: create-or-upsert, get, update, delete, list."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from sendout.api.auth import AppProject
from sendout.api.body import read_model
from sendout.api.context import context_of
from sendout.api.openapi import body_doc
from sendout.api.paging import limit_query, one_of, page_of, page_query
from sendout.api.responses import JsonResponse, list_body
from sendout.api.schemas import CustomerIn, CustomerUpdateIn
from sendout.api.views import customer_view
from sendout.clock import isoformat
from sendout.errors import InvalidInput
from sendout.promotions.records import CustomerStanding
from sendout.records import Customer
from sendout.storage.base import CustomerRef

__all__ = ["router"]

router = APIRouter(tags=["customers"])

_MAX_PAGE = 99  # as Voucherify lists customers
_ORDERS = ("created_at", "-created_at", "updated_at", "-updated_at", "source_id", "-source_id")


async def _view(request: Request, customer: Customer) -> dict[str, Any]:
    """The customer with their loyalty and referrals as stored now."""
    standings = await context_of(request).storage.customer_standings(
        customer.project_id, [customer.id]
    )
    return customer_view(customer, standings.get(customer.id, CustomerStanding()))


@router.post(
    "/v1/customers",
    summary="Create a customer, or update the one with this id or source_id",
    openapi_extra=body_doc(CustomerIn),
    response_class=JsonResponse,
)
async def create_customer(request: Request, project: AppProject) -> JsonResponse:
    ctx = context_of(request)
    body = await read_model(request, CustomerIn, ctx.settings.max_body_bytes)
    customer = await ctx.storage.upsert_customer(
        project.id,
        CustomerRef(id=body.id, source_id=body.source_id),
        body.fields(),
        isoformat(ctx.clock.now()),
    )
    return JsonResponse(await _view(request, customer))


@router.get("/v1/customers", summary="List customers", response_class=JsonResponse)
async def list_customers(
    request: Request,
    project: AppProject,
    limit: int = limit_query(),
    page: int = page_query(_MAX_PAGE),
    email: str | None = Query(None),
    name: str | None = Query(None),
    order: str = one_of(_ORDERS, "-created_at"),
) -> JsonResponse:
    ctx = context_of(request)
    paging = page_of(limit, page, max_page=_MAX_PAGE)
    if order not in _ORDERS:
        raise InvalidInput(
            f"order must be one of {', '.join(_ORDERS)}, got '{order}'", key="invalid_query_params"
        )
    found, total = await ctx.storage.list_customers(
        project.id, paging, email=email, name=name, order=order
    )
    standings = await ctx.storage.customer_standings(project.id, [c.id for c in found])
    views = [customer_view(c, standings.get(c.id, CustomerStanding())) for c in found]
    return JsonResponse(list_body("customers", views, total, offset=paging.offset))


@router.get(
    "/v1/customers/{customerId}",
    summary="Get a customer by id or source_id",
    response_class=JsonResponse,
)
async def get_customer(customerId: str, request: Request, project: AppProject) -> JsonResponse:
    customer = await context_of(request).storage.get_customer(project.id, customerId)
    return JsonResponse(await _view(request, customer))


@router.put(
    "/v1/customers/{customerId}",
    summary="Update a customer; omitted fields stay as they are",
    openapi_extra=body_doc(CustomerUpdateIn),
    response_class=JsonResponse,
)
async def update_customer(customerId: str, request: Request, project: AppProject) -> JsonResponse:
    ctx = context_of(request)
    body = await read_model(request, CustomerUpdateIn, ctx.settings.max_body_bytes)
    customer = await ctx.storage.update_customer(
        project.id, customerId, body.fields(), isoformat(ctx.clock.now())
    )
    return JsonResponse(await _view(request, customer))


@router.delete("/v1/customers/{customerId}", summary="Delete a customer", status_code=204)
async def delete_customer(customerId: str, request: Request, project: AppProject) -> Response:
    await context_of(request).storage.delete_customer(project.id, customerId)
    return Response(status_code=204)
