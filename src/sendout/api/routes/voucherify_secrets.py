"""A project's Voucherify secret (Management API): set it now, stage the next one, switch.

``x-voucherify-signature`` carries one signature, so it rotates by stages: stage a new secret,
teach the receivers to accept either, switch, then let them forget the old one.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from sendout import voucherify_secret
from sendout.api.auth import management_access
from sendout.api.body import read_model, read_optional_model
from sendout.api.context import context_of
from sendout.api.openapi import body_doc
from sendout.api.responses import JsonResponse
from sendout.api.schemas import (
    StageVoucherifySecretIn,
    SwitchVoucherifySecretIn,
    VoucherifySecretIn,
)
from sendout.projects import new_voucherify_secret
from sendout.records import Project
from sendout.voucherify_secret import VoucherifySecrets

__all__ = ["router"]

router = APIRouter(
    prefix="/management/v1/projects/{projectId}/voucherify-secret",
    tags=["projects"],
    dependencies=[Depends(management_access)],
)


def _view(project: Project) -> JsonResponse:
    secrets = voucherify_secret.secrets_of(project)
    return JsonResponse(
        {
            "object": "voucherify_secret",
            "project_id": project.id,
            "voucherify_secret": secrets.current,
            "staged_voucherify_secret": secrets.staged,
        }
    )


async def _put(request: Request, project_id: str, secrets: VoucherifySecrets) -> JsonResponse:
    storage = context_of(request).storage
    return _view(await storage.put_voucherify_secrets(project_id, secrets.current, secrets.staged))


@router.put(
    "",
    summary="Sign x-voucherify-signature with this secret from now on (nothing staged)",
    openapi_extra=body_doc(VoucherifySecretIn),
    response_class=JsonResponse,
)
async def set_voucherify_secret(projectId: str, request: Request) -> JsonResponse:
    """For bringing a Voucherify secret key, or revoking a leaked one at once."""
    ctx = context_of(request)
    body = await read_model(request, VoucherifySecretIn, ctx.settings.max_body_bytes)
    await ctx.storage.get_project(projectId)  # 404 before anything else
    return await _put(request, projectId, voucherify_secret.use_now(body.voucherify_secret))


@router.post(
    "/stage",
    summary="Stage the secret that signs x-voucherify-signature after the next switch",
    openapi_extra=body_doc(StageVoucherifySecretIn, optional=True),
    response_class=JsonResponse,
)
async def stage_voucherify_secret(projectId: str, request: Request) -> JsonResponse:
    ctx = context_of(request)
    body = await read_optional_model(request, StageVoucherifySecretIn, ctx.settings.max_body_bytes)
    project = await ctx.storage.get_project(projectId)
    staged = body.voucherify_secret or new_voucherify_secret()
    secrets = voucherify_secret.stage(voucherify_secret.secrets_of(project), staged)
    return await _put(request, projectId, secrets)


@router.post(
    "/switch",
    summary="Sign x-voucherify-signature with the staged secret from now on",
    openapi_extra=body_doc(SwitchVoucherifySecretIn, optional=True),
    response_class=JsonResponse,
)
async def switch_voucherify_secret(projectId: str, request: Request) -> JsonResponse:
    ctx = context_of(request)
    await read_optional_model(request, SwitchVoucherifySecretIn, ctx.settings.max_body_bytes)
    project = await ctx.storage.get_project(projectId)
    secrets = voucherify_secret.switch(voucherify_secret.secrets_of(project), projectId)
    return await _put(request, projectId, secrets)
