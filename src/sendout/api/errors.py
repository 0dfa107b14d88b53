"""Every failure leaves as Voucherify's error object, with the request's id (and a 405 with
the ``Allow`` header of every method its path takes)."""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sendout import ids
from sendout.api.openapi import allowed_methods
from sendout.api.responses import JsonResponse
from sendout.errors import SendoutError

__all__ = ["RequestIdMiddleware", "error_response", "install_error_handlers", "request_id_of"]

log = structlog.get_logger("sendout.api")

_HTTP_KEYS = {
    404: ("not_found", "Resource not found"),
    405: ("method_not_allowed", "Method not allowed"),
}


def request_id_of(request: Request) -> str:
    state: dict[str, Any] = request.scope.setdefault("state", {})
    rid = state.get("request_id")
    if rid is None:
        rid = state["request_id"] = ids.request_id()
    return str(rid)


class RequestIdMiddleware:
    """Give each request a ``v-…`` id and echo it as ``x-request-id``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = ids.request_id()
        scope.setdefault("state", {})["request_id"] = rid
        header = (b"x-request-id", rid.encode("ascii"))

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), header]
            await send(message)

        if "\x00" in scope["path"] or b"%00" in scope.get("query_string", b""):
            # Nothing can be named with NUL (bodies holding it are refused), and PostgreSQL
            # cannot even compare such text: one answer on both backends, before any lookup.
            refusal = SendoutError(
                "The URL must not contain the NUL character (%00)",
                key="invalid_url",
                message="Invalid URL",
            )
            await error_response(Request(scope), refusal)(scope, receive, send_with_id)
            return
        await self.app(scope, receive, send_with_id)


def error_response(request: Request, error: SendoutError) -> JsonResponse:
    """Voucherify's error object for ``error``, with the request's id."""
    headers = dict(error.headers)
    if error.status == 401:
        headers["www-authenticate"] = "X-App-Token"
    return JsonResponse(
        error.body(request_id_of(request)), status_code=error.status, headers=headers
    )


async def _on_sendout_error(request: Request, exc: Exception) -> JsonResponse:
    assert isinstance(exc, SendoutError)
    return error_response(request, exc)


async def _on_validation_error(request: Request, exc: Exception) -> JsonResponse:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0]
    where = first["loc"][0] if first["loc"] else "request"
    loc = ".".join(str(p) for p in first["loc"][1:]) or str(where)
    key = "invalid_query_params" if where == "query" else "invalid_payload"
    return error_response(request, SendoutError(f"{loc}: {first['msg']}", key=key))


async def _on_http_error(request: Request, exc: Exception) -> JsonResponse:
    assert isinstance(exc, HTTPException)
    key, message = _HTTP_KEYS.get(exc.status_code, ("http_error", str(exc.detail)))
    details = f"{request.method} {request.url.path}: {exc.detail}"
    refusal = SendoutError(details, status=exc.status_code, key=key, message=message)
    refusal.headers = {name.lower(): value for name, value in (exc.headers or {}).items()}
    if exc.status_code == 405:
        # Starlette names the methods of the first route of the path only; the document has all.
        documented = allowed_methods(request.app, request.url.path)
        refusal.headers["allow"] = documented or refusal.headers.get("allow", "")
    return error_response(request, refusal)


async def _on_unexpected(request: Request, exc: Exception) -> JsonResponse:
    rid = request_id_of(request)
    log.exception("api.unexpected_error", request_id=rid, path=request.url.path)
    error = SendoutError(
        f"An unexpected error occurred; quote request id {rid} when reporting it",
        status=500,
        key="internal_error",
        message="Internal server error",
    )
    return error_response(request, error)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(SendoutError, _on_sendout_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(HTTPException, _on_http_error)
    app.add_exception_handler(Exception, _on_unexpected)
