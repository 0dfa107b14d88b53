"""Browser fixtures (a pytest plugin named in tests/conftest.py): Debian's Chromium driven by
Playwright, one fresh context per test that may reach loopback only, and screenshots saved
under ``tests/artifacts/screenshots/``."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, Request, Route, sync_playwright

from support.ci import need
from support.receiver import Receiver
from support.server import APP_ID, APP_TOKEN, ServerProcess

CHROMIUM = Path(os.environ.get("SENDOUT_TEST_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "screenshots"


@pytest.fixture
def browser(server: ServerProcess) -> Iterator[Browser]:
    """Chromium, started per test: Playwright's sync API holds an event loop on this thread
    while it runs, and the session fixtures (PostgreSQL databases) need theirs."""
    need(CHROMIUM.exists(), f"{CHROMIUM} is not installed (apt-get install chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        yield launched
        launched.close()


@pytest.fixture
def outside_requests() -> list[str]:
    """The URLs a page tried to load from anywhere but loopback (each one refused)."""
    return []


@pytest.fixture
def page(browser: Browser, server: ServerProcess, outside_requests: list[str]) -> Iterator[Page]:
    """A fresh browser context (no cookies) on the server, wide enough for a laptop."""
    context = browser.new_context(base_url=server.base_url, viewport={"width": 1366, "height": 800})
    context.set_default_timeout(10_000)

    def only_loopback(route: Route, request: Request) -> None:
        if urlsplit(request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            outside_requests.append(request.url)
            route.abort()

    context.route("**/*", only_loopback)
    opened = context.new_page()
    yield opened
    context.close()
    assert outside_requests == []


def sign_in(page: Page, app_id: str = APP_ID, app_token: str = APP_TOKEN) -> None:
    page.goto("/dashboard/sign-in")
    page.get_by_label("App ID").fill(app_id)
    page.get_by_label("App token").fill(app_token)
    page.get_by_role("button", name="Sign in").click()


@pytest.fixture
def signed_in(page: Page) -> Page:
    sign_in(page)
    page.get_by_role("link", name="Overview").wait_for()
    return page


def screenshot(page: Page, name: str, server: ServerProcess, *, full_page: bool = True) -> Path:
    """Save the whole page (or what the window shows) as ``<name>-<backend>.png``; the path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    backend = "postgres" if server.database_url else "sqlite"
    path = SCREENSHOTS / f"{name}-{backend}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


@dataclass(frozen=True)
class Hook:
    """A schema, an active distribution on it sending to ``path`` of the test receiver."""

    schema: dict[str, Any]
    distribution: dict[str, Any]
    path: str


@pytest.fixture
def hooked(receiver: Receiver, make_schema: Any, make_distribution: Any) -> Callable[..., Hook]:
    """Make a :class:`Hook`; ``statuses`` are the receiver's first answers on its path."""

    def make(*statuses: int, headers: dict[str, str] | None = None) -> Hook:
        schema = make_schema({"plan": {"type": "string", "optional": True}})
        path = "/" + uuid.uuid4().hex[:12]
        receiver.script(path, *statuses)
        distribution = make_distribution(schema["name"], receiver.url(path), headers=headers)
        return Hook(schema, distribution, path)

    return make
