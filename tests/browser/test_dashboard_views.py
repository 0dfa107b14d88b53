"""The dashboard's read-only views in a real browser: events, the overview, campaigns and
customers, each with what it shows when there is nothing yet."""

from __future__ import annotations

import re
import time
from typing import Any

import httpx
from playwright.sync_api import Page, expect

from conftest import unique
from support.browser import screenshot
from support.promotions import coupons, publish
from support.receiver import Receiver
from support.server import APP_ID, APP_TOKEN, ServerProcess


def test_events_filter_by_customer_and_an_event_shows_what_it_triggered(
    signed_in: Page, server: ServerProcess, api: httpx.Client, hooked: Any
) -> None:
    hook = hooked()
    schema, distribution = hook.schema, hook.distribution
    source_id = unique("alex")
    body = {"event": schema["name"], "customer": {"source_id": source_id}}
    tracked = api.post("/v1/events", json={**body, "metadata": {"plan": "pro"}}).json()

    signed_in.goto("/dashboard/events")
    signed_in.get_by_label("Customer (id or source_id)").fill(source_id)
    signed_in.get_by_role("button", name="Apply filters").click()
    expect(signed_in.get_by_role("row")).to_have_count(2)  # the header and the one event
    screenshot(signed_in, "events", server)
    signed_in.get_by_role("link", name=tracked["id"]).click()

    expect(signed_in.get_by_role("heading", name=f"Event {tracked['id']}")).to_be_visible()
    triggered = signed_in.get_by_role("region", name=distribution["name"])
    expect(triggered.get_by_role("link", name=re.compile(r"^whs_"))).to_be_visible()
    screenshot(signed_in, "event", server)

    signed_in.goto("/dashboard/events?customer=nobody-at-all")
    expect(signed_in.get_by_role("status")).to_contain_text("No customer has the id")


def _wait_failed(api: httpx.Client, distribution_id: str) -> dict[str, Any]:
    for _ in range(100):
        found = api.get(f"/v1/deliveries?distribution_id={distribution_id}&status=failed").json()
        if found["deliveries"]:
            return dict(found["deliveries"][0])
        time.sleep(0.1)
    raise AssertionError("the delivery never failed")


def test_the_overview_charts_activity_and_a_failed_delivery_is_replayed(
    signed_in: Page, server: ServerProcess, api: httpx.Client, receiver: Receiver, hooked: Any
) -> None:
    hook = hooked(500, 500, 500, 500)
    schema, distribution, path = hook.schema, hook.distribution, hook.path
    api.post("/v1/events", json={"event": schema["name"], "customer": {"source_id": unique("c")}})
    failed = _wait_failed(api, distribution["id"])

    signed_in.get_by_role("link", name="Overview").click()
    expect(signed_in.locator("#failed")).to_contain_text(failed["id"])
    chart = signed_in.get_by_role(
        "img", name=re.compile(r"^Deliveries over the last hour: .*failed")
    )
    expect(chart).to_be_visible()
    expect(
        signed_in.get_by_role("img", name=re.compile(r"^Events over the last day: [1-9]"))
    ).to_be_visible()
    screenshot(signed_in, "overview", server)

    signed_in.goto(f"/dashboard/deliveries?distribution={distribution['id']}")
    signed_in.get_by_label("Failed since").fill("2000-01-01T00:00")
    signed_in.get_by_role("button", name="Replay failed").click()
    expect(signed_in.get_by_role("status")).to_have_text("1 failed delivery is due again.")
    assert len(receiver.wait_for(path, 5)) == 5
    expect(signed_in.locator("#deliveries .badge").first).to_have_text("delivered")


def test_campaigns_count_their_codes_and_warn_of_low_stock(
    signed_in: Page, server: ServerProcess, api: httpx.Client
) -> None:
    campaign = coupons(api, 3)
    publish(api, campaign["name"], unique("holder"))
    signed_in.get_by_role("link", name="Campaigns").click()
    row = signed_in.get_by_role("row").filter(has_text=campaign["id"])
    expect(row.locator("td.num")).to_have_text(["3", "1", re.compile(r"^2\s+low stock$")])
    expect(signed_in.get_by_role("status")).to_contain_text(f"{campaign['name']} (2 left)")
    screenshot(signed_in, "campaigns", server)


def test_a_customer_shows_its_events_and_publications(
    signed_in: Page, server: ServerProcess, api: httpx.Client, make_schema: Any
) -> None:
    schema = make_schema()
    source_id = unique("dana")
    api.post("/v1/events", json={"event": schema["name"], "customer": {"source_id": source_id}})
    campaign = coupons(api, 2)
    published = publish(api, campaign["name"], source_id)
    signed_in.get_by_role("link", name="Customers").click()
    screenshot(signed_in, "customers", server)
    signed_in.get_by_label("Customer id or source_id").fill(source_id)
    signed_in.get_by_role("button", name="Find").click()
    expect(signed_in.get_by_role("heading", name="Events (1)")).to_be_visible()
    expect(signed_in.get_by_role("heading", name="Publications (1)")).to_be_visible()
    expect(signed_in.get_by_text(published["voucher"]["code"])).to_be_visible()
    screenshot(signed_in, "customer", server)
    signed_in.goto("/dashboard/customers?find=nobody-at-all")
    expect(signed_in.get_by_role("status")).to_contain_text("No customer has the id")


UNLABELLED = """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea, button')]
    .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                  && !(el.tagName === 'BUTTON' && el.textContent.trim()))
    .map(el => el.outerHTML)"""


def test_every_page_is_keyboard_reachable_and_every_control_labelled(
    page: Page, server: ServerProcess
) -> None:
    page.goto("/dashboard/sign-in")
    expect(page.get_by_label("App ID")).to_be_focused()  # autofocus: typing goes there
    page.keyboard.type(APP_ID)
    page.keyboard.press("Tab")
    page.keyboard.type(APP_TOKEN)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Overview")).to_be_focused()
    for path in (
        "/dashboard",
        "/dashboard/distributions",
        "/dashboard/distributions/new",
        "/dashboard/events",
        "/dashboard/deliveries",
        "/dashboard/campaigns",
        "/dashboard/customers",
    ):
        page.goto(path)
        assert page.evaluate(UNLABELLED) == [], path
