"""Shared fixtures: a real sendout process, a real webhook receiver, HTTP clients, the spec."""

from __future__ import annotations

import asyncio
import json
import signal
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvloop

from support.ci import IN_CI, need
from support.postgres import create_database, drop_database, unreachable_reason
from support.receiver import Receiver
from support.server import (
    APP_ID,
    APP_TOKEN,
    MANAGEMENT_ID,
    MANAGEMENT_TOKEN,
    ServerProcess,
)

SHARED_SPEC = Path(__file__).resolve().parents[1].parent / "shared" / "spec"

BACKENDS = ["sqlite", "postgres"]
pytest_plugins = ["support.storage_fixtures", "support.browser"]

__all__ = ["IN_CI", "need"]


_ASYNCIO_ONLY = {"asyncio": asyncio.new_event_loop}
_BOTH_LOOPS = {"asyncio": asyncio.new_event_loop, "uvloop": uvloop.new_event_loop}


def pytest_asyncio_loop_factories(
    config: pytest.Config, item: pytest.Item
) -> dict[str, Callable[[], asyncio.AbstractEventLoop]]:
    """asyncio's own loop for every async test; a test marked ``both_loops`` runs on uvloop too
    (what the API process runs on, so what an ``inline`` worker runs on)."""
    return _BOTH_LOOPS if item.get_closest_marker("both_loops") else _ASYNCIO_ONLY


@pytest.fixture(scope="session")
def spec_dir() -> Path:
    need(SHARED_SPEC.is_dir(), f"{SHARED_SPEC} is not there (the shared spec folder)")
    return SHARED_SPEC


@pytest.fixture(scope="session")
def webhook_schema(spec_dir: Path) -> dict[str, Any]:
    """The lenient schema, rooted at the whole webhook body (``CustomerCustomEventWebhook``)."""
    schema = json.loads((spec_dir / "custom_event_webhook.lenient.schema.json").read_text())
    return {**schema, "$ref": "#/$defs/CustomerCustomEventWebhook"}


@pytest.fixture(scope="session")
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    yield r
    r.stop()


@pytest.fixture(scope="session")
def postgres_reason() -> str | None:
    """Why no PostgreSQL server answers (``SENDOUT_TEST_POSTGRES_URL``), or ``None``."""
    return unreachable_reason()


def _need_backend(backend: str, postgres_reason: str | None) -> str:
    if backend == "postgres":
        need(postgres_reason is None, str(postgres_reason))
    return backend


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, postgres_reason: str | None) -> str:
    """Each storage backend in turn, for tests that open their own stores."""
    return _need_backend(str(request.param), postgres_reason)


@pytest.fixture
async def database_url(backend: str, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh empty database of ``backend``: a SQLite file, or a PostgreSQL database."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 's.db'}"
        return
    url = await create_database()
    try:
        yield url
    finally:
        await drop_database(url)


@pytest.fixture(scope="session", params=BACKENDS)
def server(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    postgres_reason: str | None,
) -> Iterator[ServerProcess]:
    """A real ``sendout serve`` on each backend in turn: every test using it runs on both."""
    backend = _need_backend(str(request.param), postgres_reason)
    url = asyncio.run(create_database()) if backend == "postgres" else None
    proc = ServerProcess(tmp_path_factory.mktemp(f"server-{backend}"), database_url=url)
    try:
        proc.start()
        yield proc
        code = proc.stop()
        log = proc.log_text()
        assert code in (0, -signal.SIGTERM), f"sendout exited with {code}:\n{log}"
        assert "Traceback" not in log, log
    finally:
        if url is not None:
            asyncio.run(drop_database(url))


@pytest.fixture(scope="session")
def api(server: ServerProcess) -> Iterator[httpx.Client]:
    headers = {"X-App-Id": APP_ID, "X-App-Token": APP_TOKEN}
    with httpx.Client(base_url=server.base_url, headers=headers, timeout=10) as client:
        yield client


@pytest.fixture(scope="session")
def mgmt(server: ServerProcess) -> Iterator[httpx.Client]:
    headers = {"X-Management-Id": MANAGEMENT_ID, "X-Management-Token": MANAGEMENT_TOKEN}
    with httpx.Client(base_url=server.base_url, headers=headers, timeout=10) as client:
        yield client


@pytest.fixture(scope="session")
def project_id(mgmt: httpx.Client) -> str:
    projects = mgmt.get("/management/v1/projects").json()["data"]
    return str(projects[0]["id"])


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


@pytest.fixture
def make_schema(mgmt: httpx.Client, project_id: str) -> Callable[..., dict[str, Any]]:
    def make(properties: dict[str, Any] | None = None, name: str | None = None) -> dict[str, Any]:
        body = {"name": name or unique("ev"), "schema": {"properties": properties or {}}}
        response = mgmt.post(
            f"/management/v1/projects/{project_id}/custom-event-schemas", json=body
        )
        assert response.status_code == 200, response.text
        return dict(response.json())

    return make


@pytest.fixture
def make_distribution(api: httpx.Client) -> Callable[..., dict[str, Any]]:
    def make(
        event: str,
        *urls: str,
        headers: dict[str, str] | None = None,
        channel: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """An active plain-message distribution on ``event``, a webhook channel per URL (each
        with ``channel``'s further settings)."""
        hooks = [
            {"type": "webhook", "event_name": f"hook-{i}", "url": url} for i, url in enumerate(urls)
        ]
        body = {
            "name": unique("distribution"),
            "trigger": {"type": "customer.custom_event", "event": event},
            "action": {"type": "plain_message"},
            "channels": [{**c, "headers": headers or {}, **(channel or {})} for c in hooks],
        }
        response = api.post("/v1/distributions", json=body)
        assert response.status_code == 200, response.text
        return dict(response.json())

    return make
