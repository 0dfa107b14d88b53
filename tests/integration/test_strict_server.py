"""A server with the default SSRF guard (no private ranges opened) and a request rate limit."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from conftest import unique
from support.receiver import Receiver
from support.server import APP_ID, APP_TOKEN, MANAGEMENT_ID, MANAGEMENT_TOKEN, ServerProcess

APP = {"X-App-Id": APP_ID, "X-App-Token": APP_TOKEN}
MGMT = {"X-Management-Id": MANAGEMENT_ID, "X-Management-Token": MANAGEMENT_TOKEN}


def strict(workdir: Path, **env: str) -> ServerProcess:
    server = ServerProcess(
        workdir, env_overrides={"SENDOUT_RATE_LIMIT": "50", "SENDOUT_RATE_BURST": "60", **env}
    )
    base_env = server.env

    def env_without_private_ranges() -> dict[str, str]:
        values = base_env()
        values.pop("SENDOUT_ALLOWED_PRIVATE_NETWORKS", None)
        return values

    server.env = env_without_private_ranges  # type: ignore[method-assign]
    return server


@pytest.fixture(scope="module")
def strict_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = strict(tmp_path_factory.mktemp("strict")).start()
    yield server
    server.stop()


def _schema(base: str) -> str:
    project = httpx.get(base + "/management/v1/projects", headers=MGMT).json()["data"][0]["id"]
    name = unique("ev")
    httpx.post(
        f"{base}/management/v1/projects/{project}/custom-event-schemas",
        headers=MGMT,
        json={"name": name, "schema": {"properties": {}}},
    )
    return name


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://[::1]/hook",
        "http://10.0.0.7/hook",
        "http://192.168.1.10/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00:ec2::254]/",
        "http://0.0.0.0/",
        "http://224.0.0.1/",
        "http://[::ffff:127.0.0.1]/",
    ],
)
def test_unsafe_destinations_are_refused_on_save(strict_server: ServerProcess, url: str) -> None:
    name = _schema(strict_server.base_url)
    body = {
        "name": "x",
        "trigger": {"type": "customer.custom_event", "event": name},
        "action": {"type": "plain_message"},
        "channels": [{"type": "webhook", "event_name": "x", "url": url}],
    }
    response = httpx.post(strict_server.base_url + "/v1/distributions", headers=APP, json=body)
    assert response.status_code == 400, response.text
    assert response.json()["key"] == "unsafe_url"
    listed = httpx.get(strict_server.base_url + "/v1/distributions", headers=APP).json()
    assert url not in [d["channels"][0]["url"] for d in listed["distributions"]]


def test_rate_limit_answers_429_with_retry_after(strict_server: ServerProcess) -> None:
    with httpx.Client(base_url=strict_server.base_url, headers=APP) as client:
        statuses = [client.get("/v1/customers").status_code for _ in range(120)]
        limited = client.get("/v1/customers")
    assert 429 in statuses
    assert statuses[:50].count(200) == 50, "the burst is served"
    if limited.status_code == 429:
        assert limited.json()["key"] == "too_many_requests"
        assert int(limited.headers["retry-after"]) >= 1
    time.sleep(1.2)
    assert httpx.get(strict_server.base_url + "/v1/customers", headers=APP).status_code == 200


def test_destinations_are_checked_again_at_connect_time(tmp_path: Path, receiver: Receiver) -> None:
    """A URL saved while a range was open is refused once the operator closes the range."""
    open_server = ServerProcess(tmp_path).start()
    name = _schema(open_server.base_url)
    paths = ["/" + unique("literal"), "/" + unique("named")]
    urls = [receiver.url(paths[0]), receiver.url(paths[1]).replace("127.0.0.1", "localhost")]
    body = {
        "name": "x",
        "trigger": {"type": "customer.custom_event", "event": name},
        "action": {"type": "plain_message"},
        "channels": [{"type": "webhook", "event_name": "x", "url": u} for u in urls],
    }
    created = httpx.post(open_server.base_url + "/v1/distributions", headers=APP, json=body)
    assert created.status_code == 200, created.text
    open_server.stop()

    closed = strict(tmp_path, SENDOUT_RETRY_SCHEDULE="30", SENDOUT_PORT=str(open_server.port))
    closed.port = open_server.port
    closed.start()
    try:
        event = httpx.post(
            closed.base_url + "/v1/events",
            headers=APP,
            json={"event": name, "customer": {"source_id": "c"}},
        ).json()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            found = httpx.get(
                closed.base_url + "/v1/deliveries", headers=APP, params={"event_id": event["id"]}
            ).json()
            if all(d["attempts_count"] == 1 for d in found["deliveries"]) and found["total"] == 2:
                break
            time.sleep(0.05)
        errors = sorted(d["attempts"][0]["error"] for d in found["deliveries"])
        assert all(e.startswith("blocked destination") for e in errors), errors
        assert receiver.at(paths[0]) == [] and receiver.at(paths[1]) == []
    finally:
        closed.stop()
