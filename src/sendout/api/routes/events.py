"""``POST /v1/events`` (Voucherify) and ``GET /v1/events`` (sendout's extension)."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from sendout import ids, metrics, tracing
from sendout.api.auth import AppProject, app_project
from sendout.api.body import parse_model, read_json
from sendout.api.context import context_of
from sendout.api.errors import request_id_of
from sendout.api.idempotency import IDEMPOTENCY_HEADER, idempotency_key, refuse_body_key
from sendout.api.openapi import body_doc
from sendout.api.paging import limit_query, page_of, page_query
from sendout.api.responses import JsonResponse, list_body
from sendout.api.schemas import EventsCreateIn
from sendout.api.views import event_view, tracked_event_view
from sendout.clock import Stamp, stamp
from sendout.jsonutil import dumps
from sendout.pipeline.commands import TrackCommand
from sendout.records import Customer, Event, Project
from sendout.storage.base import IdempotencyKey

__all__ = ["command_of", "render_tracked", "router"]

router = APIRouter(tags=["events"])


@router.post(
    "/v1/events",
    summary="Track a custom event",
    openapi_extra={**body_doc(EventsCreateIn), "parameters": [IDEMPOTENCY_HEADER]},
    response_class=JsonResponse,
)
async def track_event(request: Request) -> Response:
    """Store the event, upsert its customer and enqueue the webhooks of every matching
    distribution, all in one transaction: a 200 means all of it is committed."""
    # The hot path: credentials are checked here rather than by dependency injection,
    # which costs more per request than everything else the route does in Python.
    project = await app_project(request)
    ctx = context_of(request)
    raw = await read_json(request, ctx.settings.max_body_bytes)
    refuse_body_key(raw)
    body = parse_model(EventsCreateIn, raw)
    at = stamp(ctx.clock.now())
    key = idempotency_key(request, "events", raw, at.ms)
    command = command_of(project, body, at, request_id_of(request), key)
    tracing.annotate({"sendout.event_id": command.event_id, "sendout.project_id": project.id})
    result = await ctx.ingest.track(command, render_tracked)
    if not result.replayed:
        metrics.EVENTS.inc()
        metrics.ENQUEUED.inc(result.enqueued)
    if result.enqueued:
        ctx.wake_worker(retries=False)  # first attempts only
    headers = {"idempotent-replayed": "true"} if result.replayed else None
    return Response(result.response, media_type="application/json", headers=headers)


def command_of(
    project: Project,
    body: EventsCreateIn,
    at: Stamp,
    request_id: str,
    idempotency: IdempotencyKey | None = None,
) -> TrackCommand:
    """What the pipeline is handed for one ``POST /v1/events`` body."""
    return TrackCommand(
        project_id=project.id,
        event_id=ids.event_id(),
        event_name=body.event,
        customer=body.customer.ref(),
        customer_fields=body.customer.fields(),
        metadata=body.metadata or {},
        referral=None
        if body.referral is None
        else _referral_echo(body.referral.code, body.referral.referrer_id),
        loyalty=None if body.loyalty is None else {"code": body.loyalty.code},
        request_id=request_id,
        created_at=at.iso,
        created_at_ms=at.ms,
        event_source={"channel": "API", "api_key": {"name": "default", "app_id": project.app_id}},
        idempotency=idempotency,
    )


def render_tracked(event: Event, customer: Customer) -> bytes:
    """The 200 body of a tracked event (stored with its idempotency key)."""
    return dumps(tracked_event_view(event, customer))


def _referral_echo(code: str, referrer_id: str | None) -> dict[str, str | None]:
    return {"referrer_id": referrer_id, "code": code, "id": None}


@router.get("/v1/events", summary="List tracked events", response_class=JsonResponse)
async def list_events(
    request: Request,
    project: AppProject,
    customer: str | None = Query(None, description="Customer id (cust_…) or source_id"),
    event: str | None = Query(None, description="Event name"),
    limit: int = limit_query(),
    page: int = page_query(),
) -> JsonResponse:
    ctx = context_of(request)
    paging = page_of(limit, page)
    customer_id = None
    if customer is not None:
        customer_id = (await ctx.storage.get_customer(project.id, customer)).id
    found, total = await ctx.storage.list_events(
        project.id, paging, customer_id=customer_id, event_name=event
    )
    return JsonResponse(
        list_body("events", [event_view(e) for e in found], total, offset=paging.offset)
    )
