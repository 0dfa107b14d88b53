"""Who the browser is: the signing key, the session cookie, the CSRF nonce, and the form check
every post goes through (see :mod:`sendout.dashboard.session` for why cookies are signed)."""

from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import parse_qsl

from fastapi import Depends
from starlette.requests import Request
from starlette.responses import Response

from sendout.api.context import context_of
from sendout.dashboard import session as sessions
from sendout.dashboard.cookies import CSRF_COOKIE, SESSION_COOKIE, set_cookie
from sendout.dashboard.pages import PageError, SignInRequired
from sendout.errors import NotFound
from sendout.records import Project

__all__ = [
    "Form",
    "PostedForm",
    "SignedIn",
    "ensure_csrf",
    "posted_form",
    "signed_in",
    "signing_key",
    "start_session",
]

_KEY_SETTING = "dashboard_session_key"
_MAX_FORM_BYTES = 256 * 1024
_lock = asyncio.Lock()


async def signing_key(request: Request) -> str:
    """The instance's dashboard key, made once and shared by every process (instance settings)."""
    key: str | None = getattr(request.app.state, "dashboard_key", None)
    if key is None:
        async with _lock:
            storage = context_of(request).storage
            key = await storage.put_setting_if_absent(_KEY_SETTING, secrets.token_urlsafe(32))
            request.app.state.dashboard_key = key
    return key


async def ensure_csrf(request: Request) -> str:
    """The CSRF token for this browser's nonce, making a nonce if it has none (the page sends
    it)."""
    key = await signing_key(request)
    nonce = request.cookies.get(CSRF_COOKIE)
    if not nonce:
        nonce = sessions.new_nonce()
        request.state.new_nonce = nonce
    request.state.csrf = sessions.csrf_token(key, nonce)
    return str(request.state.csrf)


async def signed_in(request: Request) -> Project:
    """The project this browser signed in to; :class:`SignInRequired` when it has not."""
    key = await signing_key(request)
    value = request.cookies.get(SESSION_COOKIE)
    found = None if value is None else sessions.open_session(key, value, int(time.time()))
    if found is None:
        raise SignInRequired
    try:
        project = await context_of(request).storage.get_project(found.project_id)
    except NotFound:
        raise SignInRequired from None
    if sessions.fingerprint(project.app_id, project.app_token_sha256) != found.keys:
        raise SignInRequired
    request.state.project = project
    await ensure_csrf(request)
    return project


def start_session(request: Request, response: Response, key: str, project: Project) -> None:
    """Sign the browser in to ``project``, with a fresh CSRF nonce."""
    session = sessions.Session(
        project.id,
        sessions.fingerprint(project.app_id, project.app_token_sha256),
        int(time.time()) + sessions.SESSION_SECONDS,
    )
    age = sessions.SESSION_SECONDS
    set_cookie(request, response, SESSION_COOKIE, sessions.seal_session(key, session), age)
    set_cookie(request, response, CSRF_COOKIE, sessions.new_nonce(), age)


@dataclass(frozen=True, slots=True)
class Form:
    """A posted form's fields (the last value of a repeated name wins)."""

    fields: dict[str, str]

    def get(self, name: str) -> str:
        return self.fields.get(name, "").strip()

    def optional(self, name: str) -> str | None:
        return self.get(name) or None


async def posted_form(request: Request) -> Form:
    """The url-encoded form, refused with a 403 page unless it carries this browser's CSRF
    token."""
    raw = await request.body()
    if len(raw) > _MAX_FORM_BYTES:
        raise PageError(413, "Form too large", "A form may hold at most 256 KB.")
    fields = dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
    key = await signing_key(request)
    if not sessions.valid_csrf(key, request.cookies.get(CSRF_COOKIE), fields.get("csrf_token")):
        raise PageError(
            403,
            "Form refused",
            "The form's security token is missing or out of date. Reload the page and try again.",
        )
    return Form(fields)


SignedIn = Annotated[Project, Depends(signed_in)]
PostedForm = Annotated[Form, Depends(posted_form)]
