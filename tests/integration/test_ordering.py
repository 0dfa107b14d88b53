"""A channel with ``"ordering": "per_customer"`` on a running server: one customer's webhooks
arrive in event order, a failing one holds only that customer's later ones."""

from __future__ import annotations

import json
from typing import Any

import httpx

from conftest import unique
from support.receiver import Receiver
from support.waiting import eventually


def ordered(retry_schedule: list[float]) -> dict[str, Any]:
    """The channel settings of these tests: ordered per customer, with their own retries."""
    return {"ordering": "per_customer", "retry_schedule": retry_schedule}


def track(api: httpx.Client, event: str, source_id: str, step: int) -> str:
    body = {"event": event, "customer": {"source_id": source_id}, "metadata": {"step": step}}
    response = api.post("/v1/events", json=body)
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


def sent(receiver: Receiver, path: str, count: int) -> list[tuple[str, int, int]]:
    """(customer source id, step, status answered) of the first ``count`` requests, in order."""
    out = []
    for r in receiver.wait_for(path, count):
        data = json.loads(r.body)["data"]
        out.append((data["customer"]["source_id"], data["event"]["metadata"]["step"], r.status))
    return out


def test_a_failing_webhook_holds_only_its_customers_later_ones(
    api: httpx.Client, receiver: Receiver, make_schema, make_distribution
) -> None:
    schema = make_schema({"step": {"type": "number"}})
    path = "/" + unique("ordered")
    receiver.script(path, 500)  # the first request fails; its retry comes 2 s later
    distribution = make_distribution(schema["name"], receiver.url(path), channel=ordered([2]))
    assert distribution["channels"][0]["ordering"] == "per_customer"
    ann, bob = unique("ann"), unique("bob")
    track(api, schema["name"], ann, 1)
    assert sent(receiver, path, 1) == [(ann, 1, 500)]
    track(api, schema["name"], ann, 2)
    track(api, schema["name"], bob, 1)

    assert sent(receiver, path, 2)[1] == (bob, 1, 200), "another customer is not held"
    listed = api.get("/v1/deliveries", params={"distribution_id": distribution["id"]}).json()
    by_event = {d["event_id"]: d for d in listed["deliveries"]}
    assert sorted(d["held"] for d in by_event.values()) == [False, False, True]
    [waiting] = [d for d in by_event.values() if d["held"]]
    assert waiting["status"] == "pending" and waiting["next_attempt_at"] is None

    assert sent(receiver, path, 4) == [(ann, 1, 500), (bob, 1, 200), (ann, 1, 200), (ann, 2, 200)]
    delivered = {"distribution_id": distribution["id"], "status": "delivered"}
    eventually(lambda: len(api.get("/v1/deliveries", params=delivered).json()["deliveries"]) == 3)


def test_a_webhook_failed_for_good_lets_the_next_one_go(
    api: httpx.Client, receiver: Receiver, make_schema, make_distribution
) -> None:
    schema = make_schema({"step": {"type": "number"}})
    path = "/" + unique("ordered")
    receiver.script(path, 500, 500)  # the first webhook's two attempts (one retry) both fail
    distribution = make_distribution(schema["name"], receiver.url(path), channel=ordered([0.2]))
    ann = unique("ann")
    track(api, schema["name"], ann, 1)
    track(api, schema["name"], ann, 2)
    assert sent(receiver, path, 3) == [(ann, 1, 500), (ann, 1, 500), (ann, 2, 200)]
    failed = {"distribution_id": distribution["id"], "status": "failed"}
    eventually(lambda: len(api.get("/v1/deliveries", params=failed).json()["deliveries"]) == 1)


def test_an_unknown_ordering_is_refused(api: httpx.Client, make_schema) -> None:
    schema = make_schema()
    response = api.post(
        "/v1/distributions",
        json={
            "name": unique("ordered"),
            "trigger": {"type": "customer.custom_event", "event": schema["name"]},
            "action": {"type": "plain_message"},
            "channels": [
                {"type": "webhook", "event_name": "hook", "url": "https://hooks.example.com/x"}
                | {"ordering": "per_event"}
            ],
        },
    )
    assert response.status_code == 400
    body = response.json()
    assert body["key"] == "invalid_channel"
    assert "channels[0].ordering" in body["details"] and "per_event" in body["details"]
