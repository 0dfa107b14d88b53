"""Customers: the list, finding one by id or source_id, and a customer's events and
publications."""

from __future__ import annotations

import json

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from sendout.api.context import context_of
from sendout.dashboard.guard import SignedIn
from sendout.dashboard.pages import PageRoute, page, redirect
from sendout.errors import NotFound
from sendout.records import Page
from sendout.storage.base import PublicationFilter

__all__ = ["router"]

router = APIRouter(prefix="/dashboard/customers", route_class=PageRoute, include_in_schema=False)

PAGE_SIZE = 25


@router.get("")
async def list_customers(
    request: Request,
    project: SignedIn,
    find: str | None = Query(None),
    page_number: int = Query(1, alias="page", ge=1, le=99),
) -> Response:
    storage = context_of(request).storage
    if find:
        try:
            return redirect(
                f"/dashboard/customers/{(await storage.get_customer(project.id, find)).id}"
            )
        except NotFound:
            pass
    paging = Page(PAGE_SIZE, page_number)
    found, total = await storage.list_customers(
        project.id, paging, email=None, name=None, order="-created_at"
    )
    return page(
        request,
        "customers/list.html",
        title="Customers",
        customers=found,
        total=total,
        paging=paging,
        find=find,
        query=lambda n=page_number: f"/dashboard/customers?page={n}",
    )


@router.get("/{customer}")
async def show_customer(customer: str, request: Request, project: SignedIn) -> Response:
    storage = context_of(request).storage
    found = await storage.get_customer(project.id, customer)
    events, events_total = await storage.list_events(
        project.id, Page(25, 1), customer_id=found.id, event_name=None
    )
    publications, publications_total = await storage.list_publications(
        project.id, Page(25, 1), PublicationFilter(customer=found.id)
    )
    return page(
        request,
        "customers/show.html",
        title=found.name or found.source_id or found.id,
        customer=found,
        metadata=json.dumps(found.metadata, indent=2, ensure_ascii=False),
        events=events,
        events_total=events_total,
        publications=publications,
        publications_total=publications_total,
    )
