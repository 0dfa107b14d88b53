"""Credentials: ``X-App-Id``/``X-App-Token`` for ``/v1``, ``X-Management-*`` for management.

Tokens are checked against their stored SHA-256 digests, in constant time."""

from __future__ import annotations

import hmac
import time
from typing import Annotated

from fastapi import Depends
from starlette.requests import Request

from sendout.api.context import AppContext, context_of
from sendout.errors import RateLimited, Unauthorized
from sendout.records import Project
from sendout.token_digest import token_matches

__all__ = ["AppProject", "app_project", "management_access", "project_of_keys"]

_CACHE_SECONDS = 5.0


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def _headers(request: Request, id_header: str, token_header: str) -> tuple[str, str]:
    key_id = request.headers.get(id_header)
    token = request.headers.get(token_header)
    if not key_id or not token:
        raise Unauthorized(f"Send the {id_header} and {token_header} headers")
    return key_id, token


async def project_of_keys(ctx: AppContext, app_id: str, token: str) -> Project | None:
    """The project whose app id and token these are, or ``None`` (the API and the dashboard's
    sign-in)."""
    now = time.monotonic()
    cached = ctx.project_cache.get(app_id)
    if cached is not None and cached[1] > now:
        project: Project | None = cached[0]
    else:
        project = await ctx.storage.project_by_app_id(app_id)
        if project is not None:
            ctx.project_cache[app_id] = (project, now + _CACHE_SECONDS)
    if project is None or not token_matches(token, project.app_token_sha256):
        return None
    return project


async def app_project(request: Request) -> Project:
    """The project whose application keys the request carries."""
    app_id, token = _headers(request, "X-App-Id", "X-App-Token")
    ctx = context_of(request)
    project = await project_of_keys(ctx, app_id, token)
    if project is None:
        raise Unauthorized("The X-App-Id and X-App-Token do not match any project")
    now = time.monotonic()
    if ctx.rate_limits is not None:
        wait = ctx.rate_limits.take(project.id, now)
        if wait is not None:
            raise RateLimited(
                f"Project {project.id} is over its limit of {ctx.rate_limits.rate:g} requests"
                " per second (SENDOUT_RATE_LIMIT)",
                ctx.rate_limits.retry_after_header(wait),
            )
    return project


async def management_access(request: Request) -> None:
    key_id, token = _headers(request, "X-Management-Id", "X-Management-Token")
    expected = context_of(request).management
    if not (_same(key_id, expected.id) & token_matches(token, expected.token_sha256)):
        raise Unauthorized("The X-Management-Id and X-Management-Token are not valid")


AppProject = Annotated[Project, Depends(app_project)]
"""A route parameter that authenticates with application keys and yields their project."""
