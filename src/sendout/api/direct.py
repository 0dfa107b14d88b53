"""``POST /v1/events`` straight to its handler, past routing and dependency resolution.

Tracking is the one route under sustained load, and its handler does its own credential check
and body parsing, so what the router adds per request (matching every route, the exception
middleware, the dependency solver) is pure cost: about a tenth of the process's CPU at 1,000
events/s. This middleware sits inside the request-id middleware and Starlette's server-error
middleware, so the request id, the ``x-request-id`` header and the 500 answer stay the same;
refusals get the same Voucherify error object as on every other route. The route itself stays
registered, so it is in ``/openapi.json`` and answers other methods as before.

With tracing on (:mod:`sendout.tracing`), each request here is a server span; the handler adds
its own ids to it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from sendout import tracing
from sendout.api.errors import error_response, request_id_of
from sendout.errors import SendoutError

__all__ = ["DirectRoute"]

Handler = Callable[[Request], Awaitable[Response]]


class DirectRoute:
    def __init__(self, app: ASGIApp, *, method: str, path: str, handler: Handler) -> None:
        self.app = app
        self.method = method
        self.path = path
        self.handler = handler
        self._span_name = f"{method} {path}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != self.method
            or _route_path(scope) != self.path
        ):
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        with tracing.span(self._span_name, "server", self._attributes(request)) as span:
            try:
                response = await self.handler(request)
            except SendoutError as exc:
                response = error_response(request, exc)
            span.set_attributes({"http.response.status_code": response.status_code})
            if response.status_code >= 500:
                tracing.failed(span, str(response.status_code))
        await response(scope, receive, send)

    def _attributes(self, request: Request) -> dict[str, tracing.Value]:
        if not tracing.enabled():
            return {}
        return {
            "http.request.method": self.method,
            "http.route": self.path,
            "url.path": request.url.path,
            "url.scheme": request.url.scheme,
            "sendout.request_id": request_id_of(request),
        }


def _route_path(scope: Scope) -> str:
    """The path as the router matches it: without the root path the app is mounted under."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path
