"""Re-entry limits over HTTP on both backends: enforced atomically in the tracking transaction,
also with events of one customer racing through two API processes on PostgreSQL."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import unique
from support.receiver import Receiver
from support.server import APP_ID, APP_TOKEN, MANAGEMENT_ID, MANAGEMENT_TOKEN, ServerProcess

APP = {"X-App-Id": APP_ID, "X-App-Token": APP_TOKEN}
MGMT = {"X-Management-Id": MANAGEMENT_ID, "X-Management-Token": MANAGEMENT_TOKEN}


def limited(api: httpx.Client, event: str, url: str, reentry: dict[str, Any]) -> dict[str, Any]:
    response = api.post(
        "/v1/distributions",
        json={
            "name": unique("reentry"),
            "trigger": {"type": "customer.custom_event", "event": event},
            "action": {"type": "plain_message"},
            "channels": [{"type": "webhook", "event_name": "hook", "url": url}],
            "reentry": reentry,
        },
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def track_all(base_urls: list[str], event: str, source_id: str, count: int) -> list[str]:
    """``count`` events of one customer sent at once, spread over the API processes given."""

    def send(i: int) -> str:
        with httpx.Client(base_url=base_urls[i % len(base_urls)], headers=APP) as client:
            response = client.post(
                "/v1/events", json={"event": event, "customer": {"source_id": source_id}}
            )
        assert response.status_code == 200, response.text
        return str(response.json()["id"])

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(send, range(count)))


def sent_for(api: httpx.Client, distribution_id: str) -> int:
    found = api.get("/v1/deliveries", params={"distribution_id": distribution_id, "limit": 1})
    return int(found.json()["total"])


def held_back(api: httpx.Client, distribution_id: str) -> list[dict[str, Any]]:
    found = api.get(
        "/v1/distribution-outcomes",
        params={"distribution_id": distribution_id, "result": "reentry_limit", "limit": 100},
    )
    return list(found.json()["outcomes"])


def test_twenty_events_at_once_send_once_per_customer(
    api: httpx.Client, server: ServerProcess, receiver: Receiver, make_schema
) -> None:
    schema = make_schema()
    distribution = limited(
        api, schema["name"], receiver.url("/once"), {"mode": "once_per_customer"}
    )
    assert distribution["reentry"] == {"mode": "once_per_customer"}
    source_id = unique("racer")
    events = track_all([server.base_url], schema["name"], source_id, 20)
    assert sent_for(api, distribution["id"]) == 1
    skipped = held_back(api, distribution["id"])
    assert len(skipped) == 19 and {o["event_id"] for o in skipped} < set(events)
    assert "once per customer" in skipped[0]["details"]
    another = track_all([server.base_url], schema["name"], unique("other"), 1)
    assert len(another) == 1 and sent_for(api, distribution["id"]) == 2


def test_a_limited_rule_sends_at_most_n_per_period(
    api: httpx.Client, server: ServerProcess, receiver: Receiver, make_schema
) -> None:
    schema = make_schema()
    rule = {"mode": "limited", "limit": 2, "period": "P1D"}
    distribution = limited(api, schema["name"], receiver.url("/limited"), rule)
    track_all([server.base_url], schema["name"], unique("c"), 5)
    assert sent_for(api, distribution["id"]) == 2
    assert len(held_back(api, distribution["id"])) == 3


def test_a_rule_is_replaced_by_put_and_refused_when_sendout_cannot_apply_it(
    api: httpx.Client, receiver: Receiver, make_schema
) -> None:
    schema = make_schema()
    distribution = limited(api, schema["name"], receiver.url("/r"), {"mode": "once_per_customer"})
    url = f"/v1/distributions/{distribution['id']}"
    refused = api.put(url, json={"reentry": {"mode": "limited", "limit": 1, "period": "P1M"}})
    assert refused.status_code == 400 and refused.json()["key"] == "invalid_reentry"
    assert api.get(url).json()["reentry"] == {"mode": "once_per_customer"}
    assert api.put(url, json={"reentry": {"mode": "every_time"}}).json()["reentry"] == {
        "mode": "every_time"
    }


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)  # SQLite: one writer process
def test_two_api_processes_on_postgresql_still_send_once(
    backend: str, database_url: str, receiver: Receiver, tmp_path: Path
) -> None:
    first = ServerProcess(tmp_path / "api-1", database_url=database_url).start()
    second = ServerProcess(tmp_path / "api-2", database_url=database_url).start("--no-worker")
    try:
        with httpx.Client(base_url=first.base_url, headers=APP, timeout=10) as api:
            project = api.get("/management/v1/projects", headers=MGMT).json()["data"][0]["id"]
            name = unique("ev")
            made = api.post(
                f"/management/v1/projects/{project}/custom-event-schemas",
                headers=MGMT,
                json={"name": name, "schema": {"properties": {}}},
            )
            assert made.status_code == 200, made.text
            rule = {"mode": "once_per_customer"}
            distribution = limited(api, name, receiver.url("/two"), rule)
            track_all([first.base_url, second.base_url], name, unique("racer"), 20)
            assert sent_for(api, distribution["id"]) == 1
            assert len(held_back(api, distribution["id"])) == 19
    finally:
        for process in (second, first):
            process.stop()
            assert "Traceback" not in process.log_text()
