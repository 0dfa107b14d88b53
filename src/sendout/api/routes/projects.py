"""Projects (Management API): list and show. Secrets are never part of a project view."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from sendout.api.auth import management_access
from sendout.api.context import context_of
from sendout.api.responses import JsonResponse, list_body
from sendout.api.views import project_view

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


@router.get("/{projectId}", summary="Get a project", response_class=JsonResponse)
async def get_project(projectId: str, request: Request) -> JsonResponse:
    project = await context_of(request).storage.get_project(projectId)
    return JsonResponse(project_view(project))
