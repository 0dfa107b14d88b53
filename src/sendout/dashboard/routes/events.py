"""Events: the filtered list, and one event with the distributions it triggered, what each
decided and the deliveries it made."""

from __future__ import annotations

import json

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from sendout.api.context import AppContext, context_of
from sendout.dashboard.guard import SignedIn
from sendout.dashboard.lookups import distributions_of
from sendout.dashboard.pages import PageRoute, listing_url, page
from sendout.dashboard.times import form_time, iso_or_none
from sendout.errors import NotFound
from sendout.records import Page
from sendout.storage.base import DeliveryFilter

__all__ = ["router"]

router = APIRouter(prefix="/dashboard/events", route_class=PageRoute, include_in_schema=False)

PAGE_SIZE = 25


async def _customer_id(ctx: AppContext, project_id: str, named: str | None) -> str | None:
    """The ``cust_`` id of a customer named by id or source_id; NotFound if none."""
    if not named:
        return None
    return (await ctx.storage.get_customer(project_id, named)).id


@router.get("")
async def list_events(
    request: Request,
    project: SignedIn,
    customer: str | None = Query(None),
    event: str | None = Query(None),
    since: str | None = Query(None),
    until: str | None = Query(None),
    tz: str | None = Query(None),
    page_number: int = Query(1, alias="page", ge=1),
) -> Response:
    ctx = context_of(request)
    since_iso = iso_or_none(form_time(since, tz, "Since"))
    until_iso = iso_or_none(form_time(until, tz, "Until"))
    paging = Page(PAGE_SIZE, page_number)
    unknown_customer = False
    try:
        customer_id = await _customer_id(ctx, project.id, customer)
        found, total = await ctx.storage.list_events(
            project.id,
            paging,
            customer_id=customer_id,
            event_name=event or None,
            since=since_iso,
            until=until_iso,
        )
    except NotFound:
        unknown_customer, found, total = True, [], 0
    query = {"customer": customer, "event": event, "since": since_iso, "until": until_iso}
    return page(
        request,
        "events/list.html",
        title="Events",
        events=found,
        total=total,
        paging=paging,
        schemas=await ctx.storage.list_event_schemas(project.id),
        where=query,
        filtered=any(query.values()),
        unknown_customer=unknown_customer,
        query=lambda n=page_number: listing_url("/dashboard/events", query, n),
    )


@router.get("/{event_id}")
async def show_event(event_id: str, request: Request, project: SignedIn) -> Response:
    ctx = context_of(request)
    found = await ctx.storage.get_event(project.id, event_id)
    deliveries, _ = await ctx.storage.list_deliveries(
        project.id, Page(100, 1), DeliveryFilter(event_id=event_id)
    )
    outcomes, _ = await ctx.storage.list_distribution_outcomes(
        project.id, Page(100, 1), distribution_id=None, result=None, event_id=event_id
    )
    names = {d.id: d.name for d in await distributions_of(ctx, project.id)}
    triggered = list(
        dict.fromkeys(
            [d.distribution_id for d in deliveries]
            + [o.distribution_id for o in outcomes if o.distribution_id]
        )
    )
    return page(
        request,
        "events/show.html",
        title=f"Event {found.id}",
        event=found,
        metadata=json.dumps(found.metadata, indent=2, ensure_ascii=False),
        triggered=[
            (
                distribution_id,
                names.get(distribution_id, distribution_id),
                [o for o in outcomes if o.distribution_id == distribution_id],
                [d for d in deliveries if d.distribution_id == distribution_id],
            )
            for distribution_id in triggered
        ],
        other_outcomes=[o for o in outcomes if not o.distribution_id],
    )
