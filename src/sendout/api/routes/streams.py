"""``GET /v1/distributions/{id}/stream`` (sendout's extension): every webhook a distribution
sends from now on, as server-sent events, for ``sendout listen``.

The stream reads the deliveries table, so a copy reaches it from whichever process tracked the
event and whichever worker sends it, on SQLite or PostgreSQL; it never counts as a delivery and
never delays one. Each ``delivery`` event carries the exact body and the headers as signed for
the channel (with the project's secrets, at the time of the copy). Commits can land slightly
out of ``created_at`` order, so each poll looks back :data:`SETTLE_MS` and skips what it sent.
A consumer that falls more than :data:`MAX_BACKLOG` deliveries behind is told ``dropped`` and
cut off rather than waited for; reconnecting with ``Last-Event-ID`` is answered first with
``missed`` (how many were sent meanwhile).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import orjson
from fastapi import APIRouter, Request
from starlette.responses import StreamingResponse

from sendout.api.auth import AppProject
from sendout.api.context import AppContext, context_of
from sendout.clock import from_ms, isoformat, parse_iso, to_ms
from sendout.delivery.signer import signature_headers
from sendout.errors import NotFound
from sendout.records import DeliveryCopy, Project

__all__ = ["MAX_BACKLOG", "router"]

router = APIRouter(prefix="/v1/distributions", tags=["distributions"])

MAX_BACKLOG = 1_000
SETTLE_MS = 5_000
POLL_SECONDS = 0.2
KEEPALIVE_SECONDS = 15.0


@router.get(
    "/{distributionId}/stream",
    summary="Every webhook the distribution sends from now on, as server-sent events",
    response_class=StreamingResponse,
)
async def stream_distribution(
    distributionId: str, request: Request, project: AppProject
) -> StreamingResponse:
    ctx = context_of(request)
    await ctx.storage.get_distribution(project.id, distributionId)  # 404 before the stream
    copies = _copies(ctx, project, distributionId, request)
    return StreamingResponse(
        copies,
        media_type="text/event-stream",
        headers={"cache-control": "no-store", "x-accel-buffering": "no"},
    )


def _event(kind: str, data: dict[str, Any], event_id: str | None = None) -> bytes:
    head = b"" if event_id is None else b"id: " + event_id.encode() + b"\n"
    return head + b"event: " + kind.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


async def _copies(
    ctx: AppContext, project: Project, distribution_id: str, request: Request
) -> AsyncIterator[bytes]:
    now_ms = to_ms(ctx.clock.now())
    last = request.headers.get("last-event-id")
    if last:
        yield _event("missed", {"count": await _missed(ctx, project, distribution_id, last)})
    yield _event("ready", {"distribution_id": distribution_id, "since": isoformat(from_ms(now_ms))})
    cursor_ms, sent, quiet_since = now_ms, dict[str, int](), time.monotonic()
    while not await request.is_disconnected():
        since = isoformat(from_ms(max(now_ms, cursor_ms - SETTLE_MS)))
        found = await ctx.storage.deliveries_created(
            project.id, distribution_id, since, MAX_BACKLOG + len(sent) + 1
        )
        fresh = [d for d in found if d.id not in sent]
        if len(fresh) > MAX_BACKLOG:
            yield _event("dropped", {"behind": len(fresh), "most": MAX_BACKLOG})
            return
        for copy in fresh:
            created_ms = to_ms(parse_iso(copy.created_at))
            sent[copy.id] = created_ms
            cursor_ms = max(cursor_ms, created_ms)
            yield _event("delivery", _signed(ctx, project, copy), copy.id)
        sent = {k: v for k, v in sent.items() if v >= cursor_ms - SETTLE_MS}
        if fresh:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since > KEEPALIVE_SECONDS:
            quiet_since = time.monotonic()
            yield b": keep-alive\n\n"
        await asyncio.sleep(POLL_SECONDS)


def _signed(ctx: AppContext, project: Project, copy: DeliveryCopy) -> dict[str, Any]:
    now = ctx.clock.now()
    keys = project.signing_keys(to_ms(now))
    signed = signature_headers(keys, copy.id, int(now.timestamp()), copy.body)
    return {
        "id": copy.id,
        "event_id": copy.event_id,
        "event_name": copy.event_name,
        "channel_index": copy.channel_index,
        "created_at": copy.created_at,
        "headers": {**copy.headers, **signed},
        "body": copy.body.decode(),
    }


async def _missed(ctx: AppContext, project: Project, distribution_id: str, last: str) -> int:
    """Deliveries created after the one a reconnecting consumer saw last (1,001: or more)."""
    try:
        seen = await ctx.storage.get_delivery(project.id, last)
    except NotFound:
        return 0
    after = await ctx.storage.deliveries_created(
        project.id, distribution_id, seen.created_at, MAX_BACKLOG + 2
    )
    return len([d for d in after if d.id != last])
