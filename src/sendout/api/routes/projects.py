"""Projects (Management API): list and show. Secrets are never part of a project view."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from sendout import voucherify_secret
from sendout.api.auth import management_access
from sendout.api.body import read_model, read_optional_model
from sendout.api.context import context_of
from sendout.api.openapi import body_doc
from sendout.api.responses import JsonResponse, list_body
from sendout.api.schemas import ProjectIn, RotateSecretIn
from sendout.api.views import project_view
from sendout.clock import from_ms, isoformat, to_ms
from sendout.projects import new_project, new_webhook_secret
from sendout.records import Project
from sendout.storage.base import Storage

__all__ = ["router"]

router = APIRouter(
    prefix="/management/v1/projects",
    tags=["projects"],
    dependencies=[Depends(management_access)],
)


@router.get("", summary="List projects", response_class=JsonResponse)
async def list_projects(request: Request) -> JsonResponse:
    found = await context_of(request).storage.list_projects()
    return JsonResponse(list_body("data", [project_view(p) for p in found], len(found)))


@router.post(
    "",
    summary="Create a project with its own application keys and webhook secret",
    openapi_extra=body_doc(ProjectIn),
    response_class=JsonResponse,
)
async def create_project(request: Request) -> JsonResponse:
    """The response is the only time the new project's keys and secret are shown."""
    ctx = context_of(request)
    body = await read_model(request, ProjectIn, ctx.settings.max_body_bytes)
    made = new_project(
        body.name,
        isoformat(ctx.clock.now()),
        description=body.description,
        timezone=body.timezone,
        currency=body.currency,
    )
    project = made.project
    await ctx.storage.create_project(project, is_default=False)
    view = project_view(project)
    view["credentials"] = {
        "app_id": project.app_id,
        "app_token": made.app_token,
        "webhook_secret": project.webhook_secret,
        "voucherify_secret": voucherify_secret.secrets_of(project).current,
    }
    return JsonResponse(view)


@router.post(
    "/{projectId}/webhook-secret/rotate",
    summary="Rotate the webhook secret; the old one keeps signing for a grace period",
    openapi_extra=body_doc(RotateSecretIn, optional=True),
    response_class=JsonResponse,
)
async def rotate_webhook_secret(projectId: str, request: Request) -> JsonResponse:
    ctx = context_of(request)
    # Through the one body path: a chunked body counts, and so do its media type and size.
    body = await read_optional_model(request, RotateSecretIn, ctx.settings.max_body_bytes)
    grace = body.grace_period_seconds
    if grace is None:
        grace = ctx.settings.secret_grace_seconds
    expires_ms = to_ms(ctx.clock.now()) + int(grace * 1000)
    project = await ctx.storage.rotate_webhook_secret(projectId, new_webhook_secret(), expires_ms)
    await _revoke_voucherify_secret(ctx.storage, project, grace)
    return JsonResponse(
        {
            "object": "webhook_secret",
            "project_id": project.id,
            "webhook_secret": project.webhook_secret,
            "previous_secret_expires_at": isoformat(from_ms(expires_ms)),
        }
    )


async def _revoke_voucherify_secret(storage: Storage, project: Project, grace: float) -> None:
    """A rotation without grace revokes the old webhook secret for x-voucherify-signature too."""
    before = voucherify_secret.secrets_of(project)
    old = project.previous_webhook_secret or ""
    after = voucherify_secret.after_rotation(before, old, project.webhook_secret, grace)
    if after != before:
        await storage.put_voucherify_secrets(project.id, after.current, after.staged)


@router.get("/{projectId}", summary="Get a project", response_class=JsonResponse)
async def get_project(projectId: str, request: Request) -> JsonResponse:
    project = await context_of(request).storage.get_project(projectId)
    return JsonResponse(project_view(project))
