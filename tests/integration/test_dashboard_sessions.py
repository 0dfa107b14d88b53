"""The dashboard's session and CSRF rules over plain HTTP, on each backend: cookies HttpOnly and
SameSite=Lax, a wrong sign-in makes no session, every post needs its browser's token, pages
are HTML (never the API's JSON) and stay out of the OpenAPI document."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from support.dashboard import csrf_of, sign_in
from support.server import ServerProcess


@pytest.fixture
def browser_like(server: ServerProcess) -> Iterator[httpx.Client]:
    """A client that keeps cookies and follows no redirect, as a fresh browser would start."""
    with httpx.Client(base_url=server.base_url, timeout=10) as client:
        yield client


def test_root_and_pages_send_a_stranger_to_the_sign_in(browser_like: httpx.Client) -> None:
    assert browser_like.get("/").headers["location"] == "/dashboard"
    assert browser_like.get("/dashboard").headers["location"] == "/dashboard/sign-in"
    found = browser_like.get("/dashboard/deliveries")
    assert found.status_code == 303
    assert found.headers["location"] == "/dashboard/sign-in?next=/dashboard/deliveries"


def test_signing_in_sets_an_http_only_lax_session(browser_like: httpx.Client) -> None:
    response = sign_in(browser_like, csrf_of(browser_like))
    assert response.status_code == 303
    assert response.headers["location"] == "/dashboard/deliveries"
    cookie = next(c for c in response.headers.get_list("set-cookie") if "sendout_session" in c)
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/dashboard" in cookie
    page = browser_like.get("/dashboard/deliveries")
    assert page.status_code == 200 and "<h1>Deliveries</h1>" in page.text


def test_a_wrong_sign_in_is_refused_and_creates_no_session(browser_like: httpx.Client) -> None:
    response = sign_in(browser_like, csrf_of(browser_like), app_token="wrong")
    assert response.status_code == 401
    assert "do not match any project" in response.text
    assert "sendout_session" not in response.headers.get("set-cookie", "")
    assert browser_like.get("/dashboard").status_code == 303


def test_a_post_without_or_with_another_browser_s_token_is_a_403_page(
    browser_like: httpx.Client, server: ServerProcess
) -> None:
    refused = sign_in(browser_like)
    assert refused.status_code == 403 and "text/html" in refused.headers["content-type"]
    assert "sendout_session" not in refused.headers.get("set-cookie", "")
    assert sign_in(browser_like, csrf_of(browser_like)).status_code == 303
    with httpx.Client(base_url=server.base_url) as other:
        foreign = csrf_of(other)
    for fields in ({}, {"csrf_token": foreign}, {"csrf_token": ""}):
        response = browser_like.post("/dashboard/deliveries/whs_nope/resend", data=fields)
        assert response.status_code == 403, response.text
        assert "Form refused" in response.text


def test_a_tampered_session_is_no_session(browser_like: httpx.Client) -> None:
    assert sign_in(browser_like, csrf_of(browser_like)).status_code == 303
    value = browser_like.cookies["sendout_session"]
    payload, _, signature = value.partition(".")
    browser_like.cookies.set("sendout_session", f"{payload}x.{signature}", path="/dashboard")
    assert browser_like.get("/dashboard").status_code == 303


def test_signing_out_ends_the_session(browser_like: httpx.Client) -> None:
    assert sign_in(browser_like, csrf_of(browser_like)).status_code == 303
    token = csrf_of(browser_like, "/dashboard/deliveries")
    response = browser_like.post("/dashboard/sign-out", data={"csrf_token": token})
    assert response.status_code == 303
    assert browser_like.get("/dashboard/deliveries").status_code == 303


def test_an_unknown_delivery_is_a_404_page_not_json(browser_like: httpx.Client) -> None:
    assert sign_in(browser_like, csrf_of(browser_like)).status_code == 303
    response = browser_like.get("/dashboard/deliveries/whs_nope")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "Cannot find delivery with id whs_nope" in response.text


def test_pages_load_only_their_own_assets_and_stay_out_of_the_api_document(
    browser_like: httpx.Client,
) -> None:
    html = browser_like.get("/dashboard/sign-in")
    assert "default-src 'self'" in html.headers["content-security-policy"]
    assets = re.findall(r'(?:src|href)="([^"]+)"', html.text)
    assert assets and all(a.startswith(("/", "#")) for a in assets), assets
    for asset in ("/dashboard/static/htmx.min.js", "/dashboard/static/dashboard.css"):
        assert browser_like.get(asset).status_code == 200
    paths = browser_like.get("/openapi.json").json()["paths"]
    assert not [p for p in paths if p == "/" or p.startswith("/dashboard")]
