"""Previewing a distribution over HTTP on both backends: the decision and the exact deliveries,
signed as they would be, and nothing written (customers, events, codes, outcomes)."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import httpx
from standardwebhooks.webhooks import Webhook

from conftest import unique
from support.promotions import coupons, ok
from support.receiver import Receiver
from support.server import WEBHOOK_SECRET

PRO = {"event.metadata.plan": {"conditions": {"$is": ["pro"]}}}


def distribution_body(event: str, url: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": unique("preview"),
        "trigger": {"type": "customer.custom_event", "event": event},
        "action": {"type": "plain_message"},
        "channels": [{"type": "webhook", "event_name": "hook", "url": url}],
        **extra,
    }


def sample(event: str, source_id: str, **metadata: Any) -> dict[str, Any]:
    return {"event": event, "customer": {"source_id": source_id}, "metadata": metadata}


def events_of(api: httpx.Client, event: str) -> int:
    return int(api.get("/v1/events", params={"event": event, "limit": 1}).json()["total"])


def test_a_sample_event_previews_the_signed_delivery_and_writes_nothing(
    api: httpx.Client, make_schema
) -> None:
    schema = make_schema({"plan": {"type": "string"}})
    source_id = unique("never")
    body = {
        "distribution": distribution_body(schema["name"], "https://example.com/h", conditions=PRO),
        "event": sample(schema["name"], source_id, plan="pro"),
    }
    answer = ok(api.post("/v1/distributions/preview", json=body))
    assert answer["object"] == "distribution_preview" and answer["decision"] == "send"
    [delivery] = answer["deliveries"]
    raw = delivery["body"].encode()
    sent = json.loads(raw)
    assert sent["id"] == delivery["id"] == delivery["headers"]["webhook-id"]
    assert sent["data"]["event"]["metadata"] == {"plan": "pro"}
    assert sent["data"]["customer"]["source_id"] == source_id
    Webhook(WEBHOOK_SECRET).verify(raw, delivery["headers"])
    expected = hmac.new(WEBHOOK_SECRET.encode(), raw, hashlib.sha256).hexdigest()
    assert delivery["headers"]["x-voucherify-signature"] == expected
    assert WEBHOOK_SECRET not in json.dumps(answer)
    assert api.get(f"/v1/customers/{source_id}").status_code == 404
    assert events_of(api, schema["name"]) == 0


def test_a_sample_that_fails_the_conditions_previews_the_outcome_and_records_none(
    api: httpx.Client, make_schema
) -> None:
    schema = make_schema({"plan": {"type": "string"}})
    saved = ok(
        api.post(
            "/v1/distributions",
            json=distribution_body(schema["name"], "https://example.com/h", conditions=PRO),
        )
    )
    answer = ok(
        api.post(
            f"/v1/distributions/{saved['id']}/preview",
            json={"event": sample(schema["name"], unique("c"), plan="free")},
        )
    )
    assert answer["decision"] == "conditions_not_met" and answer["deliveries"] == []
    assert "event.metadata.plan" in answer["details"]
    outcomes = api.get("/v1/distribution-outcomes", params={"distribution_id": saved["id"]}).json()
    assert outcomes["total"] == 0


def test_a_stored_event_previews_a_code_without_publishing_it(
    api: httpx.Client, receiver: Receiver, make_schema
) -> None:
    schema = make_schema()
    campaign = coupons(api, 1)
    publishing = distribution_body(schema["name"], receiver.url("/" + unique("code")))
    publishing["action"] = {"type": "publish_unique_code", "campaign_id": campaign["id"]}
    stored = ok(
        api.post("/v1/events", json=sample(schema["name"], unique("c")))
    )  # before it exists
    saved = ok(api.post("/v1/distributions", json=publishing))
    answer = ok(
        api.post(f"/v1/distributions/{saved['id']}/preview", json={"event_id": stored["id"]})
    )
    assert answer["decision"] == "send" and answer["event_id"] == stored["id"]
    data = json.loads(answer["deliveries"][0]["body"])["data"]
    assert data["event"]["id"] == stored["id"] and data["voucher"]["code"].startswith("WELCOME-")
    codes = api.get("/v1/vouchers", params={"campaign": campaign["id"]}).json()
    assert codes["total"] == 1 and codes["vouchers"][0]["holder_id"] is None
    assert api.get("/v1/publications", params={"campaign": campaign["id"]}).json()["total"] == 0


def test_a_paused_or_other_event_distribution_says_so(api: httpx.Client, make_schema) -> None:
    schema, other = make_schema(), make_schema()
    body = distribution_body(schema["name"], "https://example.com/h", status="PAUSED")
    answer = ok(
        api.post(
            "/v1/distributions/preview",
            json={"distribution": body, "event": sample(schema["name"], "x")},
        )
    )
    assert answer["decision"] == "distribution_paused"
    body = distribution_body(other["name"], "https://example.com/h")
    answer = ok(
        api.post(
            "/v1/distributions/preview",
            json={"distribution": body, "event": sample(schema["name"], "x")},
        )
    )
    assert answer["decision"] == "not_triggered"


def test_a_preview_asks_for_one_event_and_a_distribution(api: httpx.Client, make_schema) -> None:
    schema = make_schema()
    body = distribution_body(schema["name"], "https://example.com/h")
    event = sample(schema["name"], "x")
    for sent, key in (
        ({"distribution": body}, "invalid_payload"),
        ({"distribution": body, "event": event, "event_id": "event_1"}, "invalid_payload"),
        ({"event": event}, "missing_distribution"),
        ({"distribution": body, "event": {"customer": {"source_id": "x"}}}, "missing_event"),
    ):
        refused = api.post("/v1/distributions/preview", json=sent)
        assert refused.status_code == 400 and refused.json()["key"] == key, refused.text
    missing = api.post(
        "/v1/distributions/preview", json={"distribution": body, "event_id": "event_nope"}
    )
    assert missing.status_code == 404, missing.text


def test_a_preview_is_byte_for_byte_what_tracking_then_sends(
    api: httpx.Client, receiver: Receiver, make_schema
) -> None:
    schema = make_schema({"plan": {"type": "string"}})
    path = "/" + unique("same")
    saved = ok(
        api.post(
            "/v1/distributions",
            json=distribution_body(schema["name"], receiver.url(path), conditions=PRO),
        )
    )
    source_id = unique("known")
    ok(
        api.post(
            "/v1/customers", json={"source_id": source_id, "name": "Known", "metadata": {"tier": 2}}
        )
    )
    event = sample(schema["name"], source_id, plan="pro")

    [previewed] = ok(api.post(f"/v1/distributions/{saved['id']}/preview", json={"event": event}))[
        "deliveries"
    ]
    tracked = ok(api.post("/v1/events", json=event))
    [sent] = receiver.wait_for(path, 1)

    preview_body, sent_body = json.loads(previewed["body"]), json.loads(sent.body)
    # The ids and times the preview could not know: put the real ones in, and then the
    # text must be the very bytes that were sent.
    fresh = {
        previewed["id"]: sent_body["id"],
        preview_body["data"]["event"]["id"]: tracked["id"],
        preview_body["created_at"]: sent_body["created_at"],
        preview_body["data"]["event"]["created_at"]: sent_body["data"]["event"]["created_at"],
        preview_body["event"]["id"]: sent_body["event"]["id"],  # the activity
        f'"group_id":"{preview_body["event"]["group_id"]}"': (
            f'"group_id":"{sent_body["event"]["group_id"]}"'  # the tracking request's id
        ),
    }
    text = previewed["body"]
    for old, new in fresh.items():
        text = text.replace(old, new)
    assert text.encode() == sent.body
