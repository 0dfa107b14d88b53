"""``POST /v1/events/bulk`` (sendout's extension): up to 1,000 events in the ``POST /v1/events``
shape in one request, one result per item, in order.

Each item gets what a single ``POST /v1/events`` would answer: the tracked event, or the same
error object (status, key, details). One bad item never rejects the others. An item may carry
``idempotency_key`` (our key beside the Voucherify shape), which works as a single request's
``Idempotency-Key`` header does, in the same namespace: a retried bulk request gets back the
first result of every keyed item instead of tracking it twice.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from sendout import metrics, tracing
from sendout.api.auth import app_project
from sendout.api.body import parse_model, read_json
from sendout.api.context import context_of
from sendout.api.errors import request_id_of
from sendout.api.idempotency import keyed, refuse_header
from sendout.api.openapi import body_doc
from sendout.api.routes.events import command_of, render_tracked
from sendout.api.schemas import BulkEventsIn, EventsCreateIn
from sendout.clock import Stamp, stamp
from sendout.errors import InvalidInput, SendoutError
from sendout.pipeline.bulk import Outcome, track_all
from sendout.pipeline.commands import TrackCommand
from sendout.records import Project

__all__ = ["MAX_ITEMS", "router"]

router = APIRouter(tags=["events"])

MAX_ITEMS = 1_000  # as BulkEventsIn documents
BODY_FACTOR = 10  # a bulk body may be this many times SENDOUT_MAX_BODY_BYTES


@router.post(
    "/v1/events/bulk",
    summary="Track up to 1,000 custom events; one result per item, in order",
    openapi_extra=body_doc(BulkEventsIn),
)
async def track_events(request: Request) -> Response:
    # Reached past the router (api/direct.py), so credentials are checked here.
    project = await app_project(request)
    refuse_header(request)
    ctx = context_of(request)
    body = await read_json(request, BODY_FACTOR * ctx.settings.max_body_bytes)
    items = _items(body)
    tracing.annotate({"sendout.project_id": project.id, "sendout.items": len(items)})
    at = stamp(ctx.clock.now())
    rid = request_id_of(request)
    commands = [_command(project, item, at, rid) for item in items]
    outcomes = await track_all(ctx.ingest, commands, render_tracked)
    if any(not isinstance(o, SendoutError) and o.enqueued for o in outcomes):
        ctx.wake_worker(retries=False)  # first attempts only
    _count(outcomes)
    return Response(_answer(outcomes, rid), media_type="application/json")


def _items(body: dict[str, Any]) -> list[Any]:
    unknown = sorted(set(body) - {"events"})
    if unknown:
        raise InvalidInput(
            f"Unknown key '{unknown[0]}': this route takes only 'events'", key="invalid_payload"
        )
    items = body.get("events")
    if items is None:
        raise InvalidInput(
            "Missing required property 'events'", key="missing_events", message="Missing events"
        )
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_ITEMS:
        raise InvalidInput(
            f"'events' must be a list of 1 to {MAX_ITEMS:,} events in the POST /v1/events shape",
            key="invalid_payload",
        )
    return items


def _command(project: Project, item: Any, at: Stamp, rid: str) -> TrackCommand | SendoutError:
    """The item as the pipeline takes it, or the refusal a single request would get."""
    try:
        if not isinstance(item, dict):
            raise InvalidInput(
                f"Each event must be a JSON object, got {type(item).__name__}",
                key="invalid_payload",
            )
        fields = {k: v for k, v in item.items() if k != "idempotency_key"}
        key = keyed(item.get("idempotency_key"), "events", fields, at.ms, name="idempotency_key")
        return command_of(project, parse_model(EventsCreateIn, fields), at, rid, key)
    except SendoutError as refusal:
        return refusal


def _count(outcomes: list[Outcome]) -> None:
    """The request's events and webhooks, counted once each (a counter takes a lock per call)."""
    tracked = [o for o in outcomes if not isinstance(o, SendoutError) and not o.replayed]
    if tracked:
        metrics.EVENTS.inc(len(tracked))
        metrics.ENQUEUED.inc(sum(o.enqueued for o in tracked))


def _answer(outcomes: list[Outcome], rid: str) -> bytes:
    """The list, written around each tracked event's stored answer (never parsed again)."""
    parts = []
    for outcome in outcomes:
        if isinstance(outcome, SendoutError):
            error = orjson.dumps(outcome.body(rid))
            parts.append(b'{"status":%d,"error":%s}' % (outcome.status, error))
        else:
            replayed = b"true" if outcome.replayed else b"false"
            parts.append(b'{"status":200,"replayed":%s,"event":%s}' % (replayed, outcome.response))
    accepted = sum(1 for o in outcomes if not isinstance(o, SendoutError))
    head = b'{"object":"list","data_ref":"results","total":%d,"accepted":%d,"refused":%d,' % (
        len(outcomes),
        accepted,
        len(outcomes) - accepted,
    )
    return head + b'"results":[' + b",".join(parts) + b"]}"
