"""The interactive API docs in a real browser that may reach loopback only: Swagger UI and
ReDoc render from the package's own assets, and Authorize takes a project's keys so that "Try
it out" sends an authenticated request."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from support.browser import screenshot
from support.server import APP_ID, APP_TOKEN, ServerProcess


def test_swagger_ui_renders_offline_and_authorize_takes_the_app_keys(
    page: Page, server: ServerProcess
) -> None:
    page.goto("/docs")
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible()
    assert page.locator(".swagger-ui .opblock").count() > 20
    page.get_by_role("button", name="Authorize").first.click()
    dialog = page.locator(".dialog-ux")
    for scheme, header in (
        ("AppId", "X-App-Id"),
        ("AppToken", "X-App-Token"),
        ("ManagementId", "X-Management-Id"),
        ("ManagementToken", "X-Management-Token"),
    ):
        expect(dialog).to_contain_text(scheme)
        expect(dialog).to_contain_text(header)
    screenshot(page, "docs-authorize", server)
    for scheme, value in (("AppId", APP_ID), ("AppToken", APP_TOKEN)):
        block = dialog.locator(".auth-container").filter(has_text=scheme)
        block.locator("input").fill(value)
        block.locator("button.authorize").click()
    dialog.get_by_role("button", name="Close").first.click()

    operation = page.locator(".opblock-get").filter(has_text="/v1/customers").first
    operation.locator(".opblock-summary").first.click()
    operation.get_by_role("button", name="Try it out").click()
    operation.get_by_role("button", name="Execute").click()
    status = operation.locator(".live-responses-table tr.response td.response-col_status").first
    expect(status).to_have_text("200")
    screenshot(page, "docs-try-it-out", server)


def test_redoc_renders_offline(page: Page, server: ServerProcess) -> None:
    page.goto("/redoc")
    expect(page.get_by_text("Track a custom event").first).to_be_attached()
    expect(page.locator("[data-section-id]").first).to_be_attached()
    # The window only: the whole reference is tens of thousands of pixels long, and rendering
    # it took 10 s of the 10 s a screenshot may take on a loaded machine.
    screenshot(page, "redoc", server, full_page=False)
