"""The dashboard in a real browser (Debian's Chromium) against a real ``sendout serve``:
signing in and out, refusals, and watching a delivery from the event to its resend."""

from __future__ import annotations

import re
from typing import Any

import httpx
from playwright.sync_api import Page, expect

from conftest import unique
from support.browser import screenshot, sign_in
from support.receiver import Receiver
from support.server import ServerProcess


def test_signing_in_shows_the_navigation_and_signing_out_ends_it(
    page: Page, server: ServerProcess
) -> None:
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/dashboard/sign-in"))
    screenshot(page, "sign-in", server)
    sign_in(page)
    nav = page.get_by_role("navigation", name="Main")
    for name in ("Overview", "Distributions", "Events", "Deliveries", "Campaigns", "Customers"):
        expect(nav.get_by_role("link", name=name, exact=True)).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/dashboard/sign-in"))
    page.goto("/dashboard/deliveries")
    expect(page).to_have_url(re.compile(r"/dashboard/sign-in\?next=/dashboard/deliveries"))


def test_a_wrong_sign_in_shows_an_error_and_creates_no_session(
    page: Page, server: ServerProcess
) -> None:
    sign_in(page, app_token="not-the-token")
    expect(page.get_by_role("alert")).to_contain_text("do not match any project")
    screenshot(page, "sign-in-refused", server)
    cookies = {c["name"] for c in page.context.cookies()}
    assert "sendout_session" not in cookies
    page.goto("/dashboard")
    expect(page).to_have_url(re.compile(r"/dashboard/sign-in"))


def test_a_form_posted_without_its_csrf_token_is_refused(signed_in: Page) -> None:
    signed_in.goto("/dashboard/deliveries")
    signed_in.locator("form[action='/dashboard/sign-out'] input[name=csrf_token]").evaluate(
        "input => input.remove()"
    )
    signed_in.get_by_role("button", name="Sign out").click()
    expect(signed_in.get_by_role("heading", name="Form refused")).to_be_visible()
    signed_in.goto("/dashboard/deliveries")
    expect(signed_in.get_by_role("heading", name="Deliveries", exact=True)).to_be_visible()


def _hook(
    api: httpx.Client, receiver: Receiver, make_schema: Any, make_distribution: Any
) -> tuple[dict[str, Any], dict[str, Any], str]:
    schema = make_schema({"plan": {"type": "string", "optional": False}})
    path = "/" + unique("hook")
    distribution = make_distribution(
        schema["name"], receiver.url(path), headers={"authorization": "Bearer s3cr3t"}
    )
    return schema, distribution, path


def test_a_tracked_event_s_delivery_appears_opens_and_resends(
    signed_in: Page,
    server: ServerProcess,
    api: httpx.Client,
    receiver: Receiver,
    make_schema: Any,
    make_distribution: Any,
) -> None:
    schema, distribution, path = _hook(api, receiver, make_schema, make_distribution)
    signed_in.goto(f"/dashboard/deliveries?distribution={distribution['id']}")
    expect(signed_in.get_by_text("No delivery matches these filters")).to_be_visible()

    tracked = api.post(
        "/v1/events",
        json={
            "event": schema["name"],
            "customer": {"source_id": unique("c")},
            "metadata": {"plan": "pro"},
        },
    )
    assert tracked.status_code == 200, tracked.text
    link = signed_in.get_by_role("link", name=re.compile(r"^whs_"))
    expect(link).to_be_visible()  # the list refreshes itself: no reload
    expect(signed_in.locator("#deliveries .badge").first).to_have_text("delivered")
    screenshot(signed_in, "deliveries", server)

    link.click()
    expect(signed_in.get_by_role("heading", name=re.compile(r"^Delivery whs_"))).to_be_visible()
    expect(signed_in.locator("tr.attempt")).to_have_count(1)
    body = signed_in.locator("#body").inner_text()
    assert body == receiver.wait_for(path, 1)[0].body.decode()
    expect(signed_in.get_by_text("Bearer s3cr3t")).to_have_count(0)
    screenshot(signed_in, "delivery", server)

    signed_in.get_by_role("button", name="Resend").click()
    expect(signed_in.get_by_role("status")).to_contain_text("Resent")
    expect(signed_in.locator("tr.attempt")).to_have_count(2)
    assert len(receiver.wait_for(path, 2)) == 2
