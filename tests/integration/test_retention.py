"""Retention: a worker purges finished deliveries past ``SENDOUT_RETENTION_DAYS``; events stay."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from conftest import unique
from support.receiver import Receiver
from support.server import APP_ID, APP_TOKEN, MANAGEMENT_ID, MANAGEMENT_TOKEN, ServerProcess
from support.waiting import eventually

APP = {"X-App-Id": APP_ID, "X-App-Token": APP_TOKEN}
MGMT = {"X-Management-Id": MANAGEMENT_ID, "X-Management-Token": MANAGEMENT_TOKEN}
KEEP_SECONDS = 1.0


@pytest.fixture
def short_memory(database_url: str, tmp_path: Path) -> Iterator[ServerProcess]:
    server = ServerProcess(
        tmp_path,
        database_url=database_url,
        env_overrides={
            "SENDOUT_RETENTION_DAYS": str(KEEP_SECONDS / 86400),
            "SENDOUT_HOUSEKEEPING_INTERVAL": "0.2",
            "SENDOUT_RETRY_SCHEDULE": "60",  # a failed attempt stays pending through the test
        },
    ).start()
    yield server
    server.stop()


def test_finished_deliveries_are_purged_and_pending_ones_and_events_stay(
    short_memory: ServerProcess, receiver: Receiver
) -> None:
    base = short_memory.base_url
    project = httpx.get(base + "/management/v1/projects", headers=MGMT).json()["data"][0]["id"]
    name = unique("ev")
    schemas = f"{base}/management/v1/projects/{project}/custom-event-schemas"
    assert (
        httpx.post(
            schemas, headers=MGMT, json={"name": name, "schema": {"properties": {}}}
        ).status_code
        == 200
    )
    ok_path, failing_path = "/" + unique("kept"), "/" + unique("failing")
    receiver.script(failing_path, 500)
    for path in (ok_path, failing_path):
        distribution = {
            "name": unique("d"),
            "trigger": {"type": "customer.custom_event", "event": name},
            "action": {"type": "plain_message"},
            "channels": [{"type": "webhook", "event_name": "e", "url": receiver.url(path)}],
        }
        assert httpx.post(base + "/v1/distributions", headers=APP, json=distribution).is_success
    event = {"event": name, "customer": {"source_id": unique("c")}}
    tracked = httpx.post(base + "/v1/events", headers=APP, json=event).json()
    receiver.wait_for(ok_path, 1)

    def deliveries() -> list[dict[str, str]]:
        answer = httpx.get(base + "/v1/deliveries", headers=APP, params={"event_id": tracked["id"]})
        return list(answer.json()["deliveries"])

    # The receiver has the webhook a moment before the worker records it as delivered.
    eventually(lambda: {d["status"] for d in deliveries()} == {"delivered", "pending"})
    deadline = time.monotonic() + KEEP_SECONDS + 10
    while len(deliveries()) == 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    [left] = deliveries()
    assert left["status"] == "pending"  # still being retried: never purged
    events = httpx.get(base + "/v1/events", headers=APP, params={"event": name}).json()
    assert [e["id"] for e in events["events"]] == [tracked["id"]]
    assert "housekeeping.purged_deliveries" in short_memory.log_text()
