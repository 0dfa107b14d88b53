"""Events tracked over HTTP arrive at a real receiver: shape, signatures, retries, records."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import httpx
import jsonschema
import pytest
from standardwebhooks.webhooks import Webhook

from conftest import unique
from support.receiver import Receiver
from support.server import WEBHOOK_SECRET


def track(api: httpx.Client, event: str, source_id: str, **extra: Any) -> dict[str, Any]:
    response = api.post(
        "/v1/events", json={"event": event, "customer": {"source_id": source_id}, **extra}
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_webhook_body_matches_the_documented_payload(
    api: httpx.Client, receiver: Receiver, make_schema, make_distribution, webhook_schema
) -> None:
    schema = make_schema({"plan": {"type": "string", "optional": False}})
    path = "/" + unique("hook")
    distribution = make_distribution(
        schema["name"], receiver.url(path), headers={"x-team": "growth"}
    )
    customer = api.post(
        "/v1/customers",
        json={"source_id": unique("c"), "name": "Alex Doe", "metadata": {"region": "EMEA"}},
    ).json()

    tracked = track(api, schema["name"], customer["source_id"], metadata={"plan": "pro"})
    [received] = receiver.wait_for(path, 1)
    body = json.loads(received.body)

    jsonschema.validate(body, webhook_schema)
    assert list(body) == ["id", "project_id", "created_at", "type", "data", "source", "event"]
    assert body["id"].startswith("whs_")
    assert body["type"] == "hook-0"
    assert body["source"] == {
        "id": distribution["id"],
        "object": "distribution",
        "target_url": receiver.url(path),
    }
    assert body["event"]["type"] == "customer.custom_event"
    assert body["event"]["id"].startswith("evcus_")
    assert body["event"]["entity_id"] == customer["id"]
    assert body["event"]["group_id"].startswith("v-")
    data = body["data"]
    assert list(data) == ["event", "event_schema", "customer", "referral", "loyalty"]
    assert data["event"]["id"] == tracked["id"]
    assert data["event"]["customer"] == {"id": customer["id"], "object": "customer"}
    assert data["event"]["metadata"] == {"plan": "pro"}
    assert data["event_schema"] == {"id": schema["id"], "name": schema["name"]}
    assert data["customer"] == {
        "id": customer["id"],
        "name": "Alex Doe",
        "email": None,
        "source_id": customer["source_id"],
        "metadata": {"region": "EMEA"},
        "object": "customer",
    }
    assert data["referral"] is None and data["loyalty"] is None
    assert received.headers["x-team"] == "growth"
    assert received.headers["content-type"] == "application/json"


def test_both_signatures_verify_with_independent_code(
    api: httpx.Client, receiver: Receiver, make_schema, make_distribution
) -> None:
    schema = make_schema()
    path = "/" + unique("hook")
    make_distribution(schema["name"], receiver.url(path))
    track(api, schema["name"], unique("c"), metadata={"note": "zażółć 🎉"})
    [received] = receiver.wait_for(path, 1)

    # Standard Webhooks, with the reference library.
    verified = Webhook(WEBHOOK_SECRET).verify(received.body, received.headers)
    assert verified["id"] == received.headers["webhook-id"]
    # Voucherify: lowercase hex HMAC-SHA256 of the exact body, keyed by the secret string.
    expected = hmac.new(WEBHOOK_SECRET.encode(), received.body, hashlib.sha256).hexdigest()
    assert received.headers["x-voucherify-signature"] == expected
    # The body is compact JSON, so Voucherify's "strip whitespace and re-hash" check agrees too.
    compact = json.dumps(json.loads(received.body), separators=(",", ":"), ensure_ascii=False)
    assert compact.encode() == received.body


def test_tampered_body_fails_verification(
    api: httpx.Client, receiver: Receiver, make_schema, make_distribution
) -> None:
    schema = make_schema()
    path = "/" + unique("hook")
    make_distribution(schema["name"], receiver.url(path))
    track(api, schema["name"], unique("c"))
    [received] = receiver.wait_for(path, 1)
    tampered = received.body.replace(b'"object":"event"', b'"object":"evil"')
    from standardwebhooks.webhooks import WebhookVerificationError

    with pytest.raises(WebhookVerificationError):
        Webhook(WEBHOOK_SECRET).verify(tampered, received.headers)
    signature = received.headers["webhook-signature"].split(",", 1)[1]
    assert len(base64.b64decode(signature)) == 32


def test_failing_receiver_is_retried_and_every_attempt_recorded(
    api: httpx.Client, receiver: Receiver, make_schema, make_distribution
) -> None:
    schema = make_schema()
    path = "/" + unique("flaky")
    receiver.script(path, 500, 503, 200)
    distribution = make_distribution(schema["name"], receiver.url(path))
    tracked = track(api, schema["name"], unique("c"))

    got = receiver.wait_for(path, 3)
    assert [r.status for r in got] == [500, 503, 200]
    assert len({r.headers["webhook-id"] for r in got}) == 1, (
        "the envelope id is stable across retries"
    )
    assert len({json.loads(r.body)["id"] for r in got}) == 1

    delivery = _wait_delivered(api, distribution["id"])
    assert delivery["event_id"] == tracked["id"]
    assert delivery["attempts_count"] == 3
    assert [a["status_code"] for a in delivery["attempts"]] == [500, 503, 200]
    assert all(a["latency_ms"] >= 0 for a in delivery["attempts"])
    assert "scripted failure" in delivery["attempts"][0]["response_excerpt"]


def _wait_delivered(api: httpx.Client, distribution_id: str) -> dict[str, Any]:
    import time

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        items = api.get("/v1/deliveries", params={"distribution_id": distribution_id}).json()[
            "deliveries"
        ]
        if items and items[0]["status"] == "delivered":
            return dict(items[0])
        time.sleep(0.05)
    raise AssertionError(f"delivery of {distribution_id} not recorded as delivered")


def test_retries_stop_after_the_schedule_and_the_delivery_is_failed(
    api: httpx.Client, receiver: Receiver, make_schema, make_distribution
) -> None:
    schema = make_schema()
    path = "/" + unique("down")
    receiver.script(path, *([500] * 10))
    distribution = make_distribution(schema["name"], receiver.url(path))
    track(api, schema["name"], unique("c"))
    receiver.wait_for(path, 4)  # the first attempt and three retries (SENDOUT_RETRY_SCHEDULE)

    import time

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        found = api.get(
            "/v1/deliveries", params={"distribution_id": distribution["id"], "status": "failed"}
        ).json()
        if found["total"] == 1:
            break
        time.sleep(0.05)
    assert found["total"] == 1
    assert found["deliveries"][0]["attempts_count"] == 4
    assert len(receiver.at(path)) == 4


def test_one_message_per_channel_and_paused_distributions_stay_quiet(
    api: httpx.Client, receiver: Receiver, make_schema, make_distribution
) -> None:
    schema = make_schema()
    a, b, c = ("/" + unique(x) for x in "abc")
    two = make_distribution(schema["name"], receiver.url(a), receiver.url(b))
    paused = make_distribution(schema["name"], receiver.url(c))
    assert api.post(f"/v1/distributions/{paused['id']}/pause").json()["status"] == "PAUSED"

    tracked = track(api, schema["name"], unique("c"))
    first, second = receiver.wait_for(a, 1)[0], receiver.wait_for(b, 1)[0]
    assert json.loads(first.body)["type"] == "hook-0"
    assert json.loads(second.body)["type"] == "hook-1"
    assert first.headers["webhook-id"] != second.headers["webhook-id"]
    listed = api.get("/v1/deliveries", params={"event_id": tracked["id"]}).json()
    assert listed["total"] == 2
    assert {d["distribution_id"] for d in listed["deliveries"]} == {two["id"]}
    assert receiver.at(c) == []
