"""The payload designer over HTTP on both backends: each mode as a receiver gets it, signed the
same way as the documented body; templates checked at save against the action's purpose."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import httpx
import jsonschema
from standardwebhooks.webhooks import Webhook

from conftest import unique
from support.promotions import coupons, ok
from support.receiver import Receiver
from support.server import WEBHOOK_SECRET


def channel(url: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
    made: dict[str, Any] = {"type": "webhook", "event_name": "hook", "url": url}
    if payload is not None:
        made["payload"] = payload
    return made


def distribution(api: httpx.Client, event: str, *channels: dict[str, Any], **extra: Any) -> Any:
    body = {
        "name": unique("designed"),
        "trigger": {"type": "customer.custom_event", "event": event},
        "action": {"type": "plain_message"},
        "channels": list(channels),
        **extra,
    }
    return api.post("/v1/distributions", json=body)


def verified(received: Any) -> None:
    Webhook(WEBHOOK_SECRET).verify(received.body, received.headers)
    expected = hmac.new(WEBHOOK_SECRET.encode(), received.body, hashlib.sha256).hexdigest()
    assert received.headers["x-voucherify-signature"] == expected


def test_each_mode_arrives_as_designed_and_signed(
    api: httpx.Client, receiver: Receiver, make_schema, webhook_schema: dict[str, Any]
) -> None:
    schema = make_schema({"plan": {"type": "string"}, "seats": {"type": "number"}})
    paths = {mode: "/" + unique(mode) for mode in ("default", "fields", "custom", "raw")}
    fields = {
        "mode": "fields",
        "fields": {"customer.source_id": "user.id", "event.metadata.seats": "seats"},
    }
    template = {
        "who": "{{customer.source_id}}",
        "line": "{{customer.source_id}} on {{event.metadata.plan}}",
    }
    created = distribution(
        api,
        schema["name"],
        channel(receiver.url(paths["default"]), {"mode": "default"}),
        channel(receiver.url(paths["fields"]), fields),
        channel(receiver.url(paths["custom"]), {"mode": "custom", "template": template}),
        channel(receiver.url(paths["raw"]), {"mode": "custom", "template": template, "raw": True}),
    )
    assert created.status_code == 200, created.text
    shown = [c["payload"] for c in created.json()["channels"]]
    assert shown[0] == {"mode": "default"} and shown[1] == fields
    source_id = unique("alex")
    tracked = api.post(
        "/v1/events",
        json={
            "event": schema["name"],
            "customer": {"source_id": source_id},
            "metadata": {"plan": "pro", "seats": 3},
        },
    )
    assert tracked.status_code == 200, tracked.text

    got = {mode: receiver.wait_for(path, 1)[0] for mode, path in paths.items()}
    for received in got.values():
        verified(received)
    default = json.loads(got["default"].body)
    jsonschema.validate(default, webhook_schema)
    assert default["data"]["event"]["metadata"] == {"plan": "pro", "seats": 3}
    designed = json.loads(got["fields"].body)
    assert list(designed) == list(default)  # the envelope stays
    assert designed["data"] == {"user": {"id": source_id}, "seats": 3}
    custom = json.loads(got["custom"].body)
    assert custom["data"] == {"who": source_id, "line": f"{source_id} on pro"}
    assert json.loads(got["raw"].body) == {"who": source_id, "line": f"{source_id} on pro"}
    assert got["raw"].headers["webhook-id"].startswith("whs_")


def test_a_template_may_read_what_the_purpose_adds(
    api: httpx.Client, receiver: Receiver, make_schema
) -> None:
    schema = make_schema()
    campaign = coupons(api, 2)
    path = "/" + unique("code")
    body = {
        "name": unique("designed"),
        "trigger": {"type": "customer.custom_event", "event": schema["name"]},
        "action": {"type": "publish_unique_code", "campaign_id": campaign["id"]},
        "channels": [
            channel(
                receiver.url(path),
                {"mode": "fields", "fields": {"voucher.code": "code", "campaign.name": "campaign"}},
            )
        ],
    }
    ok(api.post("/v1/distributions", json=body))
    ok(
        api.post(
            "/v1/events", json={"event": schema["name"], "customer": {"source_id": unique("c")}}
        )
    )
    [received] = receiver.wait_for(path, 1)
    data = json.loads(received.body)["data"]
    assert data["campaign"] == campaign["name"] and data["code"].startswith("WELCOME-")


def test_a_path_the_purpose_does_not_provide_is_refused_and_nothing_is_saved(
    api: httpx.Client, make_schema
) -> None:
    schema = make_schema()
    before = api.get("/v1/distributions", params={"limit": 1}).json()["total"]
    payload = {"mode": "custom", "template": {"code": "{{voucher.code}}"}}
    refused = distribution(api, schema["name"], channel("https://example.com/h", payload))
    assert refused.status_code == 400, refused.text
    error = refused.json()
    assert error["key"] == "invalid_payload_template"
    assert "channels[0].payload" in error["details"] and "voucher.code" in error["details"]
    assert api.get("/v1/distributions", params={"limit": 1}).json()["total"] == before
    made = ok(distribution(api, schema["name"], channel("https://example.com/h")))
    changed = api.put(
        f"/v1/distributions/{made['id']}",
        json={"channels": [channel("https://example.com/h", payload)]},
    )
    assert changed.status_code == 400 and changed.json()["key"] == "invalid_payload_template"
