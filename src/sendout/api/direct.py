"""The tracking routes straight to their handlers, past routing and dependency resolution.

``POST /v1/events`` and ``POST /v1/events/bulk`` are the routes under sustained load, and their
handlers do their own credential check and body parsing, so what the router adds per request
(matching every route, the exception middleware, the dependency solver) is pure cost: about a
tenth of the process's CPU at 1,000 events/s. This middleware sits inside the request-id
middleware and Starlette's server-error middleware, so the request id, the ``x-request-id``
header and the 500 answer stay the same; refusals get the same Voucherify error object as on
every other route. The routes themselves stay registered, so they are in ``/openapi.json`` and
answer other methods as before.

With tracing on (:mod:`sendout.tracing`), each request here is a server span, the child of the
caller's span when the request carries W3C Trace Context (``traceparent``); the handler adds its
own ids to it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from sendout import tracing
from sendout.api.errors import error_response, request_id_of
from sendout.errors import SendoutError

__all__ = ["DirectRoutes"]

Handler = Callable[[Request], Awaitable[Response]]


class DirectRoutes:
    def __init__(self, app: ASGIApp, *, routes: Mapping[tuple[str, str], Handler]) -> None:
        """``routes``: the handler of each ``(method, path)``."""
        self.app = app
        self._routes = {(m, p): (handler, f"{m} {p}") for (m, p), handler in routes.items()}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = (scope["method"], _route_path(scope)) if scope["type"] == "http" else None
        route = None if key is None else self._routes.get(key)
        if key is None or route is None:
            await self.app(scope, receive, send)
            return
        (method, path), (handler, name) = key, route
        request = Request(scope, receive)
        attributes = _attributes(request, method, path)
        with tracing.span(name, "server", attributes, carrier=request.headers) as span:
            try:
                response = await handler(request)
            except SendoutError as exc:
                response = error_response(request, exc)
            span.set_attributes({"http.response.status_code": response.status_code})
            if response.status_code >= 500:
                tracing.failed(span, str(response.status_code))
        await response(scope, receive, send)


def _attributes(request: Request, method: str, path: str) -> dict[str, tracing.Value]:
    if not tracing.enabled():
        return {}
    return {
        "http.request.method": method,
        "http.route": path,
        "url.path": request.url.path,
        "url.scheme": request.url.scheme,
        "sendout.request_id": request_id_of(request),
    }


def _route_path(scope: Scope) -> str:
    """The path as the router matches it: without the root path the app is mounted under."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path
