"""The dashboard's two cookies and how they are set: HttpOnly, SameSite=Lax, path /dashboard,
Secure when the request came over HTTPS."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

__all__ = ["CSRF_COOKIE", "SESSION_COOKIE", "clear_cookies", "remember_nonce", "set_cookie"]

SESSION_COOKIE = "sendout_session"
CSRF_COOKIE = "sendout_csrf"
_PATH = "/dashboard"


def set_cookie(request: Request, response: Response, name: str, value: str, age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=age,
        path=_PATH,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


def remember_nonce(request: Request, response: Response, age: int) -> None:
    """Send the CSRF nonce made while handling this request, if one was."""
    nonce = getattr(request.state, "new_nonce", None)
    if nonce:
        set_cookie(request, response, CSRF_COOKIE, nonce, age)


def clear_cookies(response: Response) -> None:
    for name in (SESSION_COOKIE, CSRF_COOKIE):
        response.delete_cookie(name, path=_PATH, httponly=True, samesite="lax")
