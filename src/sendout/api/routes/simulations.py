"""Simulating a distribution over stored events (sendout's extension): what it would have done."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request

from sendout.api.auth import AppProject
from sendout.api.body import read_model
from sendout.api.context import context_of
from sendout.api.openapi import body_doc
from sendout.api.responses import JsonResponse
from sendout.api.routes.distributions import named_distribution
from sendout.api.schemas import DraftSimulateIn, SavedSimulateIn, SimulateIn
from sendout.api.views import simulation_view
from sendout.clock import isoformat
from sendout.errors import InvalidInput
from sendout.pipeline.simulate import simulate
from sendout.records import Distribution

__all__ = ["router"]

router = APIRouter(prefix="/v1/distributions", tags=["distributions"])


@router.post(
    "/simulate",
    summary="What a distribution would have done for the stored events of a time range",
    openapi_extra=body_doc(DraftSimulateIn),
    response_class=JsonResponse,
)
async def simulate_distribution(request: Request, project: AppProject) -> JsonResponse:
    ctx = context_of(request)
    body = await read_model(request, SimulateIn, ctx.settings.max_body_bytes)
    distribution = await named_distribution(ctx, project, body.distribution, None)
    return await _simulate(request, distribution, body, saved=False)


@router.post(
    "/{distributionId}/simulate",
    summary="What a saved distribution would have done for the stored events of a time range",
    openapi_extra=body_doc(SavedSimulateIn),
    response_class=JsonResponse,
)
async def simulate_saved_distribution(
    distributionId: str, request: Request, project: AppProject
) -> JsonResponse:
    ctx = context_of(request)
    body = await read_model(request, SimulateIn, ctx.settings.max_body_bytes)
    distribution = await named_distribution(ctx, project, body.distribution, distributionId)
    return await _simulate(request, distribution, body, saved=True)


async def _simulate(
    request: Request, distribution: Distribution, body: SimulateIn, *, saved: bool
) -> JsonResponse:
    ctx = context_of(request)
    since = _utc(body.since)
    until = ctx.clock.now() if body.until is None else _utc(body.until)
    if until <= since:
        raise InvalidInput("'until' must be later than 'since'", key="invalid_payload")
    result = await simulate(ctx.storage, distribution, isoformat(since), isoformat(until))
    saved_id = distribution.id if saved else None
    return JsonResponse(simulation_view(saved_id, distribution.trigger_event, since, until, result))


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
