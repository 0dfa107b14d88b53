"""Async actions (Voucherify): ``GET /v1/async-actions/{id}`` to follow work handed to the
worker, and the list."""

from __future__ import annotations

from fastapi import APIRouter, Request

from sendout.api.auth import AppProject
from sendout.api.context import context_of
from sendout.api.paging import limit_query, page_of, page_query
from sendout.api.promotion_views import async_action_view
from sendout.api.responses import JsonResponse, list_body

__all__ = ["router"]

router = APIRouter(prefix="/v1/async-actions", tags=["async actions"])


@router.get("", summary="List async actions, newest first", response_class=JsonResponse)
async def list_async_actions(
    request: Request, project: AppProject, limit: int = limit_query(), page: int = page_query()
) -> JsonResponse:
    paging = page_of(limit, page)
    found, total = await context_of(request).storage.list_async_actions(project.id, paging)
    body = list_body("async_actions", [async_action_view(a) for a in found], total)
    return JsonResponse(body)


@router.get("/{asyncActionId}", summary="Get an async action", response_class=JsonResponse)
async def get_async_action(
    asyncActionId: str, request: Request, project: AppProject
) -> JsonResponse:
    found = await context_of(request).storage.get_async_action(project.id, asyncActionId)
    return JsonResponse(async_action_view(found))
