"""Signing in with a project's app keys, and out."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from sendout.api.auth import project_of_keys
from sendout.api.context import context_of
from sendout.dashboard.cookies import clear_cookies
from sendout.dashboard.guard import PostedForm, ensure_csrf, signing_key, start_session
from sendout.dashboard.pages import PageRoute, page, redirect

__all__ = ["router"]

router = APIRouter(prefix="/dashboard", route_class=PageRoute, include_in_schema=False)


def _safe_next(target: str | None) -> str:
    """Only a dashboard path, never another site (``//host``) or a scheme."""
    if target and target.startswith("/dashboard") and "//" not in target and "\\" not in target:
        return target
    return "/dashboard"


@router.get("/sign-in")
async def sign_in_page(request: Request, next: str | None = Query(None)) -> Response:
    await ensure_csrf(request)
    return page(request, "signin.html", title="Sign in", next=_safe_next(next), app_id="")


@router.post("/sign-in")
async def sign_in(request: Request, form: PostedForm) -> Response:
    ctx = context_of(request)
    project = await project_of_keys(ctx, form.get("app_id"), form.get("app_token"))
    if project is None:
        await ensure_csrf(request)
        return page(
            request,
            "signin.html",
            401,
            title="Sign in",
            next=_safe_next(form.get("next")),
            app_id=form.get("app_id"),
            error="These keys do not match any project. Check the App ID and App token.",
        )
    response = redirect(_safe_next(form.get("next")))
    start_session(request, response, await signing_key(request), project)
    return response


@router.post("/sign-out")
async def sign_out(request: Request, form: PostedForm) -> Response:
    response = redirect("/dashboard/sign-in")
    clear_cookies(response)
    return response
