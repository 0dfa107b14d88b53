"""What operators and orchestrators call, without credentials: ``/health`` (the process
answers), ``/ready`` (the database answers and its schema is this version's) and ``/metrics``
(Prometheus text, with the store gauges read at scrape time)."""

from __future__ import annotations

import asyncio
import time

import structlog
from fastapi import APIRouter, Request
from starlette.responses import Response

from sendout import metrics
from sendout.api.context import context_of
from sendout.api.responses import JsonResponse

__all__ = ["router"]

router = APIRouter(tags=["operations"])
log = structlog.get_logger("sendout.api.operations")

_READY_TIMEOUT = 2.0  # seconds: an orchestrator's probe should not hang on a dead database


@router.get("/health", summary="Liveness: the process answers")
async def health() -> JsonResponse:
    return JsonResponse({"status": "ok"})


@router.get(
    "/ready",
    summary="Readiness: the database answers and every migration is applied",
    responses={
        503: {
            "description": "Not ready: the reason is in the body",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/NotReady"}}},
        }
    },
)
async def ready(request: Request) -> JsonResponse:
    storage = context_of(request).storage
    try:
        missing = await asyncio.wait_for(storage.pending_migrations(), _READY_TIMEOUT)
    except Exception as exc:  # any failure to read is "not ready", said in the body
        reason = f"database not reachable: {type(exc).__name__}: {exc}".rstrip(": ")
        return JsonResponse({"status": "not_ready", "reason": reason}, status_code=503)
    if missing:
        reason = "migrations not applied: " + ", ".join(missing) + " (run `sendout migrate`)"
        return JsonResponse({"status": "not_ready", "reason": reason}, status_code=503)
    return JsonResponse({"status": "ready"})


@router.get("/metrics", summary="Prometheus metrics of this process", response_class=Response)
async def prometheus_metrics(request: Request) -> Response:
    ctx = context_of(request)
    try:
        await ctx.store_gauges.refresh(ctx.storage, ctx.clock.now(), time.monotonic())
    except Exception as exc:  # the process's own counters are still worth a scrape
        log.warning("metrics.store_unreadable", error=f"{type(exc).__name__}: {exc}")
    return Response(metrics.render(), media_type=metrics.CONTENT_TYPE_LATEST)
