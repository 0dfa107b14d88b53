"""The overview page: what is happening now across the project."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from sendout.dashboard.guard import SignedIn
from sendout.dashboard.pages import PageRoute, page

__all__ = ["router"]

router = APIRouter(prefix="/dashboard", route_class=PageRoute, include_in_schema=False)


@router.get("")
async def overview(request: Request, project: SignedIn) -> Response:
    return page(request, "overview.html", title="Overview")
