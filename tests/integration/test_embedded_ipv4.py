"""IPv6 forms carrying an IPv4 address (NAT64, 6to4, compatible, translated) on a server with
the default SSRF guard: refused at save with ``400 unsafe_url`` on both backends (issue 13).

The shared test server opens 127.0.0.0/8, which opens these forms of 127.0.0.1 too (they are
judged as the IPv4 inside); here nothing is opened.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from conftest import BACKENDS, _need_backend, unique
from support.postgres import create_database, drop_database
from support.server import APP_ID, APP_TOKEN, MANAGEMENT_ID, MANAGEMENT_TOKEN, ServerProcess

APP = {"X-App-Id": APP_ID, "X-App-Token": APP_TOKEN}
MGMT = {"X-Management-Id": MANAGEMENT_ID, "X-Management-Token": MANAGEMENT_TOKEN}


@pytest.fixture(scope="module", params=BACKENDS)
def guarded(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    postgres_reason: str | None,
) -> Iterator[ServerProcess]:
    backend = _need_backend(str(request.param), postgres_reason)
    url = asyncio.run(create_database()) if backend == "postgres" else None
    server = ServerProcess(
        tmp_path_factory.mktemp(f"guarded-{backend}"),
        env_overrides={"SENDOUT_ALLOWED_PRIVATE_NETWORKS": ""},
        database_url=url,
    )
    try:
        server.start()
        yield server
        server.stop()
        assert "Traceback" not in server.log_text(), server.log_text()
    finally:
        if url is not None:
            asyncio.run(drop_database(url))


def _schema(base: str) -> str:
    project = httpx.get(base + "/management/v1/projects", headers=MGMT).json()["data"][0]["id"]
    name = unique("ev")
    created = httpx.post(
        f"{base}/management/v1/projects/{project}/custom-event-schemas",
        headers=MGMT,
        json={"name": name, "schema": {"properties": {}}},
    )
    assert created.status_code in (200, 201), created.text
    return name


@pytest.mark.parametrize(
    "host",
    [
        "[64:ff9b::a9fe:a9fe]",  # NAT64 well-known prefix: 169.254.169.254
        "[64:ff9b:1::a00:1]",  # local-use NAT64 (RFC 8215): 10.0.0.1
        "[2002:7f00:1::]",  # 6to4: 127.0.0.1
        "[::7f00:1]",  # IPv4-compatible: 127.0.0.1
        "[::127.0.0.1]",
        "[::ffff:0:7f00:1]",  # IPv4-translated (RFC 2765): 127.0.0.1
        "[::ffff:127.0.0.1]",  # IPv4-mapped
        "[2001:0:4136:e378:8000:63bf:80ff:fffe]",  # Teredo, client 127.0.0.1
        "[::1]",
    ],
)
def test_embedded_ipv4_forms_are_unsafe(guarded: ServerProcess, host: str) -> None:
    base = guarded.base_url
    before = httpx.get(base + "/v1/distributions", headers=APP).json()["total"]
    body = {
        "name": "x",
        "trigger": {"type": "customer.custom_event", "event": _schema(base)},
        "action": {"type": "plain_message"},
        "channels": [{"type": "webhook", "event_name": "x", "url": f"http://{host}:8080/hook"}],
    }
    response = httpx.post(base + "/v1/distributions", headers=APP, json=body)
    assert response.status_code == 400, response.text
    assert response.json()["key"] == "unsafe_url"
    assert response.json()["details"].startswith("channels[0].url: ")
    assert httpx.get(base + "/v1/distributions", headers=APP).json()["total"] == before


def test_a_public_ipv4_behind_nat64_is_accepted(guarded: ServerProcess) -> None:
    """DNS64 answers 64:ff9b::/96 for IPv4-only receivers: the address inside is what counts."""
    base = guarded.base_url
    body = {
        "name": "x",
        "trigger": {"type": "customer.custom_event", "event": _schema(base)},
        "action": {"type": "plain_message"},
        "channels": [{"type": "webhook", "event_name": "x", "url": "http://[64:ff9b::808:808]/"}],
        "status": "PAUSED",
    }
    response = httpx.post(base + "/v1/distributions", headers=APP, json=body)
    assert response.status_code == 200, response.text
