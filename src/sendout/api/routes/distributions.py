"""Distributions (sendout's extension; Voucherify has no public API for them)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from starlette.responses import Response

from sendout import ids
from sendout.api import operations
from sendout.api.action_targets import check_action_targets
from sendout.api.auth import AppProject
from sendout.api.body import parse_model, read_model
from sendout.api.context import AppContext, context_of
from sendout.api.openapi import body_doc
from sendout.api.paging import limit_query, page_of, page_query
from sendout.api.responses import JsonResponse, list_body
from sendout.api.routes.events import command_of
from sendout.api.schemas import (
    ActionIn,
    ChannelIn,
    DistributionIn,
    DistributionPatchIn,
    DraftPreviewIn,
    EventsCreateIn,
    PreviewIn,
    ReplayIn,
    SavedPreviewIn,
    TriggerIn,
)
from sendout.api.views import distribution_view, preview_view
from sendout.bootstrap import address_policy
from sendout.clock import isoformat, stamp
from sendout.delivery.guard import unsafe_destination
from sendout.errors import InvalidInput
from sendout.matching.conditions import check_conditions
from sendout.matching.reentry import check_reentry
from sendout.matching.rules import (
    check_action,
    check_channel,
    check_status,
    check_trigger_type,
)
from sendout.payloads.designer import check_payload
from sendout.pipeline.preview import preview
from sendout.records import Channel, Distribution, Project
from sendout.storage import refusals

__all__ = [
    "create_distribution_with",
    "distribution_of",
    "preview_for",
    "router",
    "update_distribution_with",
]

router = APIRouter(prefix="/v1/distributions", tags=["distributions"])


async def _trigger_event(ctx: AppContext, project_id: str, trigger: TriggerIn) -> str:
    check_trigger_type(trigger.type)
    # Refused early here, before the channels are checked; the store checks again in the
    # transaction that saves the distribution, against a schema deleted meanwhile.
    if not await ctx.storage.event_schema_exists(project_id, trigger.event):
        raise refusals.unknown_trigger_event(trigger.event)
    return trigger.event


async def _channels(ctx: AppContext, channels: list[ChannelIn]) -> tuple[Channel, ...]:
    checked = tuple(
        replace(
            check_channel(i, c.type, c.event_name, c.url, c.headers, c.retry_schedule, c.ordering),
            payload=c.payload,
        )
        for i, c in enumerate(channels)
    )
    policy = address_policy(ctx.settings)
    for index, channel in enumerate(checked):
        parts = urlsplit(channel.url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        refusal = await unsafe_destination(parts.hostname or "", port, policy)
        if refusal is not None:
            raise InvalidInput(
                f"channels[{index}].url: {refusal}", key="unsafe_url", message="Unsafe URL"
            )
    return checked


def _designed(channels: tuple[Channel, ...], action: dict[str, Any]) -> tuple[Channel, ...]:
    """The channels with their payloads checked against what the action's purpose provides."""
    purpose = str(action["type"])
    return tuple(
        replace(c, payload=check_payload(c.payload, purpose, f"channels[{i}]"))
        for i, c in enumerate(channels)
    )


async def _action(ctx: AppContext, project_id: str, action: ActionIn) -> dict[str, Any]:
    return await check_action_targets(ctx.storage, project_id, check_action(action.model_dump()))


@router.post(
    "",
    summary="Create a distribution",
    openapi_extra=body_doc(DistributionIn),
    response_class=JsonResponse,
)
async def create_distribution(request: Request, project: AppProject) -> JsonResponse:
    ctx = context_of(request)
    body = await read_model(request, DistributionIn, ctx.settings.max_body_bytes)
    return JsonResponse(distribution_view(await create_distribution_with(ctx, project, body)))


async def create_distribution_with(
    ctx: AppContext, project: Project, body: DistributionIn
) -> Distribution:
    """Check ``body`` and store it as a new distribution; the distribution stored."""
    distribution = await distribution_of(ctx, project, body)
    await ctx.storage.create_distribution(distribution)
    return distribution


async def distribution_of(ctx: AppContext, project: Project, body: DistributionIn) -> Distribution:
    """The distribution a body describes, checked as if it were saved now."""
    return Distribution(
        id=ids.distribution_id(),
        project_id=project.id,
        name=body.name,
        trigger_type=body.trigger.type,
        trigger_event=await _trigger_event(ctx, project.id, body.trigger),
        action=(action := await _action(ctx, project.id, body.action)),
        channels=_designed(await _channels(ctx, body.channels), action),
        status=check_status(body.status),
        created_at=isoformat(ctx.clock.now()),
        updated_at=None,
        conditions=check_conditions(body.conditions),
        reentry=check_reentry(body.reentry),
    )


@router.get("", summary="List distributions", response_class=JsonResponse)
async def list_distributions(
    request: Request,
    project: AppProject,
    limit: int = limit_query(),
    page: int = page_query(),
) -> JsonResponse:
    paging = page_of(limit, page)
    found, total = await context_of(request).storage.list_distributions(project.id, paging)
    return JsonResponse(
        list_body(
            "distributions", [distribution_view(d) for d in found], total, offset=paging.offset
        )
    )


@router.get("/{distributionId}", summary="Get a distribution", response_class=JsonResponse)
async def get_distribution(
    distributionId: str, request: Request, project: AppProject
) -> JsonResponse:
    found = await context_of(request).storage.get_distribution(project.id, distributionId)
    return JsonResponse(distribution_view(found))


@router.put(
    "/{distributionId}",
    summary="Update a distribution; the fields given replace the stored ones",
    openapi_extra=body_doc(DistributionPatchIn),
    response_class=JsonResponse,
)
async def update_distribution(
    distributionId: str, request: Request, project: AppProject
) -> JsonResponse:
    ctx = context_of(request)
    body = await read_model(request, DistributionPatchIn, ctx.settings.max_body_bytes)
    updated = await update_distribution_with(ctx, project, distributionId, body)
    return JsonResponse(distribution_view(updated))


async def update_distribution_with(
    ctx: AppContext, project: Project, distribution_id: str, body: DistributionPatchIn
) -> Distribution:
    """Replace the fields ``body`` gives, checked as at creation; the distribution as stored."""
    current = await ctx.storage.get_distribution(project.id, distribution_id)
    updated = Distribution(
        id=current.id,
        project_id=project.id,
        name=body.name if body.name is not None else current.name,
        trigger_type=current.trigger_type if body.trigger is None else body.trigger.type,
        trigger_event=(
            current.trigger_event
            if body.trigger is None
            else await _trigger_event(ctx, project.id, body.trigger)
        ),
        action=(
            action := current.action
            if body.action is None
            else await _action(ctx, project.id, body.action)
        ),
        channels=_designed(
            current.channels if body.channels is None else await _channels(ctx, body.channels),
            action,
        ),
        status=current.status if body.status is None else check_status(body.status),
        created_at=current.created_at,
        updated_at=isoformat(ctx.clock.now()),
        conditions=(
            check_conditions(body.conditions)
            if "conditions" in body.model_fields_set
            else current.conditions
        ),
        reentry=check_reentry(body.reentry)
        if "reentry" in body.model_fields_set
        else current.reentry,
    )
    await ctx.storage.replace_distribution(updated)
    if updated.status == "ACTIVE":
        ctx.wake_worker()
    return updated


@router.delete("/{distributionId}", summary="Delete a distribution", status_code=204)
async def delete_distribution(
    distributionId: str, request: Request, project: AppProject
) -> Response:
    ctx = context_of(request)
    await ctx.storage.delete_distribution(project.id, distributionId, isoformat(ctx.clock.now()))
    return Response(status_code=204)


@router.post(
    "/{distributionId}/pause",
    summary="Pause a distribution: it matches no new events and its queued webhooks wait",
    response_class=JsonResponse,
)
async def pause_distribution(
    distributionId: str,
    request: Request,
    project: AppProject,
) -> JsonResponse:
    paused = await operations.pause(context_of(request), project.id, distributionId)
    return JsonResponse(distribution_view(paused))


@router.post(
    "/{distributionId}/resume",
    summary="Resume (set live): channels unpaused, queued webhooks delivered in order",
    response_class=JsonResponse,
)
async def resume_distribution(
    distributionId: str,
    request: Request,
    project: AppProject,
) -> JsonResponse:
    resumed = await operations.resume(context_of(request), project.id, distributionId)
    return JsonResponse(distribution_view(resumed))


@router.post(
    "/{distributionId}/replay",
    summary="Deliver again every failed delivery of a distribution created since a time",
    openapi_extra=body_doc(ReplayIn),
    response_class=JsonResponse,
)
async def replay_distribution(
    distributionId: str,
    request: Request,
    project: AppProject,
) -> JsonResponse:
    ctx = context_of(request)
    body = await read_model(request, ReplayIn, ctx.settings.max_body_bytes)
    since, count = await operations.replay_failed(ctx, project.id, distributionId, body.since)
    return JsonResponse(
        {"object": "replay", "distribution_id": distributionId, "since": since, "replayed": count}
    )


@router.post(
    "/preview",
    summary="What a distribution (saved or not) would do for one event; nothing is written",
    openapi_extra=body_doc(DraftPreviewIn),
    response_class=JsonResponse,
)
async def preview_distribution(request: Request, project: AppProject) -> JsonResponse:
    ctx = context_of(request)
    body = await read_model(request, PreviewIn, ctx.settings.max_body_bytes)
    distribution = await named_distribution(ctx, project, body.distribution, None)
    return JsonResponse(await preview_for(ctx, project, distribution, body))


@router.post(
    "/{distributionId}/preview",
    summary="What a saved distribution would do for one event; nothing is written",
    openapi_extra=body_doc(SavedPreviewIn),
    response_class=JsonResponse,
)
async def preview_saved_distribution(
    distributionId: str, request: Request, project: AppProject
) -> JsonResponse:
    ctx = context_of(request)
    body = await read_model(request, PreviewIn, ctx.settings.max_body_bytes)
    distribution = await named_distribution(ctx, project, body.distribution, distributionId)
    return JsonResponse(await preview_for(ctx, project, distribution, body))


async def named_distribution(
    ctx: AppContext, project: Project, given: DistributionIn | None, saved_id: str | None
) -> Distribution:
    """What a preview or a simulation is about: the body's distribution (``/preview``,
    ``/simulate``), or the saved one the path names (``/{id}/…``), never both."""
    if saved_id is None:
        if given is None:
            raise InvalidInput(
                "Missing required property 'distribution'", key="missing_distribution"
            )
        return await distribution_of(ctx, project, given)
    if given is not None:
        raise InvalidInput(
            "Unknown key 'distribution': the saved distribution is named in the path",
            key="invalid_payload",
        )
    return await ctx.storage.get_distribution(project.id, saved_id)


async def preview_for(
    ctx: AppContext, project: Project, distribution: Distribution, body: PreviewIn
) -> dict[str, Any]:
    """The preview of ``distribution`` for the event ``body`` names, as the API answers it."""
    now = ctx.clock.now()
    at = stamp(now)
    if (body.event_id is None) == (body.event is None):
        raise InvalidInput(
            "Give either event_id (a stored event) or event (a sample in the POST /v1/events"
            " shape)",
            key="invalid_payload",
        )
    if body.event is not None:
        command = command_of(project, parse_model(EventsCreateIn, body.event), at, "preview")
    else:
        assert body.event_id is not None
        stored = await ctx.storage.get_event(project.id, body.event_id)
        command = replace(
            command_of(
                project,
                parse_model(
                    EventsCreateIn, {"event": stored.type, "customer": {"id": stored.customer_id}}
                ),
                at,
                "preview",
            ),
            event_id=stored.id,
            metadata=stored.metadata,
            referral=stored.referral,
            loyalty=None if stored.loyalty is None else {"code": stored.loyalty["code"]},
        )
    result = await preview(ctx.storage, command, distribution)
    return preview_view(
        distribution,
        command.event_id,
        result,
        project.signing_keys(at.ms),
        int(now.timestamp()),
    )
