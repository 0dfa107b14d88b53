"""Rendering pages: the Jinja2 environment, page responses, and the route class that turns a
refusal into a page (never the API's JSON, never a 500)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping
from typing import Any
from urllib.parse import urlencode

from fastapi.routing import APIRoute
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from sendout.dashboard.cookies import remember_nonce
from sendout.dashboard.session import SESSION_SECONDS
from sendout.errors import SendoutError

__all__ = ["PageError", "PageRoute", "SignInRequired", "listing_url", "page", "redirect"]

_ENV = Environment(
    loader=PackageLoader("sendout.dashboard", "templates"),
    autoescape=select_autoescape(default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)

NAVIGATION = (
    ("Overview", "/dashboard"),
    ("Distributions", "/dashboard/distributions"),
    ("Events", "/dashboard/events"),
    ("Deliveries", "/dashboard/deliveries"),
    ("Campaigns", "/dashboard/campaigns"),
    ("Customers", "/dashboard/customers"),
)


class PageError(Exception):
    """A refusal shown as a page with this status, title and explanation."""

    def __init__(self, status: int, title: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail = status, title, detail


class SignInRequired(Exception):
    """No valid session: the browser is sent to the sign-in page."""


def _section(path: str) -> str:
    matches = [href for _, href in NAVIGATION if path == href or path.startswith(href + "/")]
    return max(matches, key=len) if matches else ""


def page(request: Request, template: str, status: int = 200, **values: Any) -> HTMLResponse:
    """``template`` rendered with ``values`` plus what the layout needs."""
    values.setdefault("csrf", getattr(request.state, "csrf", ""))
    values.setdefault("signed_in", getattr(request.state, "project", None))
    html = _ENV.get_template(template).render(
        navigation=NAVIGATION, current=_section(request.url.path), request=request, **values
    )
    response = HTMLResponse(html, status_code=status, headers=_no_store())
    remember_nonce(request, response, SESSION_SECONDS)
    return response


_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
    " form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def _no_store() -> dict[str, str]:
    """Pages hold a project's data: never cached, never framed, nothing from another origin."""
    return {"cache-control": "no-store", "x-frame-options": "DENY", "content-security-policy": _CSP}


def listing_url(path: str, query: Mapping[str, str | None], page_number: int = 1) -> str:
    """``path`` with the filters given (empty ones left out) and the page number past the first."""
    present = {k: v for k, v in query.items() if v}
    if page_number > 1:
        present["page"] = str(page_number)
    return path + ("?" + urlencode(present) if present else "")


def redirect(url: str) -> Response:
    """After a form post: see the result at ``url`` (303, so a reload does not post again)."""
    return RedirectResponse(url, status_code=303)


def _refusal(request: Request, error: PageError) -> Response:
    return page(request, "error.html", error.status, title=error.title, detail=error.detail)


def _sign_in_first(request: Request) -> Response:
    target = "/dashboard/sign-in"
    if request.method == "GET" and request.url.path != "/dashboard":
        target += "?next=" + request.url.path
    if request.headers.get("hx-request"):
        return Response(status_code=204, headers={"hx-redirect": target})
    return RedirectResponse(target, status_code=303)


class PageRoute(APIRoute):
    """A route whose refusals are pages: a sign-in redirect, or the error page."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except SignInRequired:
                return _sign_in_first(request)
            except PageError as error:
                return _refusal(request, error)
            except SendoutError as error:
                return _refusal(request, PageError(error.status, error.message, error.details))

        return handle
