"""Deliveries: the filtered list (refreshing itself), one delivery's request and attempts,
Resend, and Replay failed for a distribution since a time."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from sendout.api import operations
from sendout.api.context import context_of
from sendout.dashboard.guard import PostedForm, SignedIn
from sendout.dashboard.lookups import distributions_of, masked_headers
from sendout.dashboard.pages import PageError, PageRoute, listing_url, page, redirect
from sendout.dashboard.times import form_time, iso_or_none
from sendout.records import DELIVERY_STATUSES, Page
from sendout.storage.base import DeliveryFilter

__all__ = ["router"]

router = APIRouter(prefix="/dashboard/deliveries", route_class=PageRoute, include_in_schema=False)

PAGE_SIZE = 25
# Added at each attempt, signed with the project's secret of that moment (never shown).
SIGNED_AT_SEND = (
    ("content-type", "application/json"),
    ("x-voucherify-signature", "HMAC-SHA256 of the body, computed at each attempt"),
    ("webhook-id", "this delivery's id"),
    ("webhook-timestamp", "the attempt's Unix time"),
    ("webhook-signature", "v1,… over id, timestamp and body, computed at each attempt"),
)


@router.get("")
async def list_deliveries(
    request: Request,
    project: SignedIn,
    status: str | None = Query(None),
    distribution: str | None = Query(None),
    since: str | None = Query(None),
    until: str | None = Query(None),
    tz: str | None = Query(None),
    page_number: int = Query(1, alias="page", ge=1),
    replayed: int | None = Query(None),
) -> Response:
    ctx = context_of(request)
    if status and status not in DELIVERY_STATUSES:
        raise PageError(
            400, "Unknown status", f"Status must be one of {', '.join(DELIVERY_STATUSES)}."
        )
    where = DeliveryFilter(
        distribution_id=distribution or None,
        status=status or None,
        since=iso_or_none(form_time(since, tz, "Since")),
        until=iso_or_none(form_time(until, tz, "Until")),
    )
    paging = Page(PAGE_SIZE, page_number)
    found, total = await ctx.storage.list_deliveries(project.id, paging, where)
    distributions = await distributions_of(ctx, project.id)
    query = {"status": where.status, "distribution": where.distribution_id}
    query |= {"since": where.since, "until": where.until}
    return page(
        request,
        "deliveries/list.html",
        title="Deliveries",
        deliveries=found,
        total=total,
        paging=paging,
        where=where,
        statuses=DELIVERY_STATUSES,
        distributions=distributions,
        names={d.id: d.name for d in distributions},
        query=lambda n=page_number: listing_url("/dashboard/deliveries", query, n),
        replayed=replayed,
    )


@router.post("/replay")
async def replay_failed(request: Request, project: SignedIn, form: PostedForm) -> Response:
    distribution_id = form.get("distribution")
    since = form_time(form.get("since"), form.get("tz"), "Since")
    if not distribution_id or since is None:
        raise PageError(
            400, "Replay needs more", "Choose a distribution and a time to replay since."
        )
    _, count = await operations.replay_failed(
        context_of(request), project.id, distribution_id, since
    )
    query = {"distribution": distribution_id, "replayed": str(count)}
    return redirect(listing_url("/dashboard/deliveries", query))


@router.get("/{delivery_id}")
async def show_delivery(
    delivery_id: str, request: Request, project: SignedIn, resent: int | None = Query(None)
) -> Response:
    ctx = context_of(request)
    delivery = await ctx.storage.get_delivery(project.id, delivery_id)
    sent = await ctx.storage.get_delivery_request(project.id, delivery_id)
    distributions = await distributions_of(ctx, project.id)
    return page(
        request,
        "deliveries/show.html",
        title=f"Delivery {delivery.id}",
        delivery=delivery,
        headers=masked_headers(sent.headers),
        signed_headers=SIGNED_AT_SEND,
        body=sent.body.decode("utf-8", "replace"),
        names={d.id: d.name for d in distributions},
        resent=resent,
    )


@router.post("/{delivery_id}/resend")
async def resend(
    delivery_id: str, request: Request, project: SignedIn, form: PostedForm
) -> Response:
    await operations.resend(context_of(request), project.id, delivery_id)
    return redirect(f"/dashboard/deliveries/{delivery_id}?resent=1")
