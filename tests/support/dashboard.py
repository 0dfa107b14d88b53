"""Plain-HTTP helpers for the dashboard: a browser-like client's CSRF token and sign-in."""

from __future__ import annotations

import re

import httpx

from support.server import APP_ID, APP_TOKEN

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(client: httpx.Client, path: str = "/dashboard/sign-in") -> str:
    """The CSRF token the page at ``path`` gives this client's forms."""
    response = client.get(path)
    assert response.status_code == 200, response.text
    match = TOKEN.search(response.text)
    assert match is not None
    return match.group(1)


def sign_in(
    client: httpx.Client, token: str | None = None, app_token: str = APP_TOKEN
) -> httpx.Response:
    """Post the sign-in form (with ``token`` as its CSRF token, if given)."""
    fields = {"app_id": APP_ID, "app_token": app_token, "next": "/dashboard/deliveries"}
    if token is not None:
        fields["csrf_token"] = token
    return client.post("/dashboard/sign-in", data=fields)
