"""The dashboard in a real browser (Debian's Chromium) against a real ``sendout serve``:
signing in and out, refusals, and watching a delivery from the event to its resend."""

from __future__ import annotations

import json
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


def test_a_tracked_event_s_delivery_appears_opens_and_resends(
    signed_in: Page, server: ServerProcess, api: httpx.Client, receiver: Receiver, hooked: Any
) -> None:
    hook = hooked(headers={"authorization": "Bearer s3cr3t"})
    schema, distribution, path = hook.schema, hook.distribution, hook.path
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


def test_pausing_and_resuming_a_distribution(
    signed_in: Page, server: ServerProcess, api: httpx.Client, hooked: Any
) -> None:
    distribution = hooked().distribution
    signed_in.get_by_role("link", name="Distributions", exact=True).click()
    row = signed_in.get_by_role("row").filter(has_text=distribution["name"])
    screenshot(signed_in, "distributions", server)
    row.get_by_role("button", name=f"Pause {distribution['name']}").click()
    expect(row.locator(".badge").first).to_have_text("PAUSED")
    assert api.get(f"/v1/distributions/{distribution['id']}").json()["status"] == "PAUSED"
    row.get_by_role("button", name=f"Resume {distribution['name']}").click()
    expect(row.locator(".badge").first).to_have_text("ACTIVE")
    assert api.get(f"/v1/distributions/{distribution['id']}").json()["status"] == "ACTIVE"


def test_creating_a_distribution_through_the_form_with_its_preview(
    signed_in: Page, server: ServerProcess, api: httpx.Client, receiver: Receiver, make_schema: Any
) -> None:
    schema = make_schema({"plan": {"type": "string", "optional": False}})
    name = unique("Welcome")
    signed_in.goto("/dashboard/distributions/new")
    signed_in.get_by_label("Name", exact=True).fill(name)
    signed_in.get_by_label("Trigger event").select_option(schema["name"])
    channels = signed_in.get_by_label("Channels", exact=False)
    channels.fill(
        json.dumps([{"type": "webhook", "event_name": "welcome", "url": receiver.url("/f")}])
    )
    signed_in.get_by_label("Sample event", exact=False).fill(
        '{"customer": {"source_id": "alex"}, "metadata": {"plan": "pro"}}'
    )
    signed_in.get_by_role("button", name="Preview").click()
    expect(signed_in.locator("#preview-decision")).to_have_text("send")
    expect(signed_in.locator("#preview")).to_contain_text("webhook-signature")
    screenshot(signed_in, "distribution-form", server)

    signed_in.get_by_role("button", name="Create distribution").click()
    expect(signed_in.get_by_role("heading", name=name)).to_be_visible()
    expect(signed_in.get_by_role("status")).to_have_text("Saved.")
    screenshot(signed_in, "distribution", server)
    saved = [
        d
        for d in api.get("/v1/distributions?limit=100").json()["distributions"]
        if d["name"] == name
    ]
    assert len(saved) == 1 and saved[0]["trigger"]["event"] == schema["name"]


def test_a_distribution_the_api_would_refuse_is_shown_again_with_the_reason(
    signed_in: Page, make_schema: Any
) -> None:
    make_schema()
    signed_in.goto("/dashboard/distributions/new")
    signed_in.get_by_label("Name", exact=True).fill("Broken")
    signed_in.get_by_label("Channels", exact=False).fill("[{]")
    signed_in.get_by_role("button", name="Create distribution").click()
    expect(signed_in.get_by_role("alert")).to_contain_text("Channels: not valid JSON")
    expect(signed_in.get_by_label("Name", exact=True)).to_have_value("Broken")


def test_editing_a_distribution_keeps_what_is_not_changed(
    signed_in: Page, api: httpx.Client, hooked: Any
) -> None:
    distribution = hooked().distribution
    signed_in.goto(f"/dashboard/distributions/{distribution['id']}")
    signed_in.get_by_role("link", name="Edit").click()
    renamed = unique("Renamed")
    signed_in.get_by_label("Name", exact=True).fill(renamed)
    signed_in.get_by_label("Conditions", exact=False).fill(
        '{"event.metadata.plan": {"conditions": {"$is": ["pro"]}}}'
    )
    signed_in.get_by_role("button", name="Save distribution").click()
    expect(signed_in.get_by_role("heading", name=renamed)).to_be_visible()
    saved = api.get(f"/v1/distributions/{distribution['id']}").json()
    assert saved["name"] == renamed
    assert saved["conditions"]["event.metadata.plan"] == {"conditions": {"$is": ["pro"]}}
    assert saved["channels"][0]["url"] == distribution["channels"][0]["url"]
