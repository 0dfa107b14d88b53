"""``POST /v1/events/bulk`` over HTTP on both backends: one result per item in order, a bad item
refused alone with the error a single request would get, one customer's events in order,
``idempotency_key`` per item, and the refusals of the request as a whole (nothing stored)."""

from __future__ import annotations

import re
from typing import Any

import httpx

from conftest import unique
from support.promotions import ok
from support.receiver import Receiver


def item(event: str, source_id: str, **extra: Any) -> dict[str, Any]:
    return {"event": event, "customer": {"source_id": source_id}, **extra}


def bulk(api: httpx.Client, *items: Any) -> dict[str, Any]:
    return dict(ok(api.post("/v1/events/bulk", json={"events": list(items)})))


def stored(api: httpx.Client, event: str) -> int:
    return int(ok(api.get("/v1/events", params={"event": event, "limit": 1}))["total"])


def test_each_item_gets_what_a_single_request_would_and_bad_ones_alone_are_refused(
    api: httpx.Client, make_schema
) -> None:
    schema = make_schema({"plan": {"type": "string", "optional": False}})
    name, who = schema["name"], unique("bulk")
    items = [
        item(name, who, metadata={"plan": "pro"}),
        item(unique("nope"), who, metadata={"plan": "pro"}),
        item(name, who, metadata={"plan": 5}),
        "not an event",
        item(name, who + "-2", metadata={"plan": "free"}),
        {"event": name, "customer": {}, "metadata": {"plan": "pro"}},
    ]
    answer = bulk(api, *items)
    assert (answer["total"], answer["accepted"], answer["refused"]) == (6, 2, 4)
    statuses = [(r["status"], r.get("error", {}).get("key")) for r in answer["results"]]
    assert statuses == [
        (200, None),
        (400, "unknown_event"),
        (400, "metadata_validation_failed"),
        (400, "invalid_payload"),
        (200, None),
        (400, "missing_customer_identifier"),
    ]
    for single, result in zip(items, answer["results"], strict=True):
        if result["status"] != 200 or not isinstance(single, dict):
            continue
        assert result["event"]["object"] == "event" and result["replayed"] is False
        assert result["event"]["customer"]["source_id"] == single["customer"]["source_id"]
    refused = api.post("/v1/events", json=items[2])  # the same item alone
    assert refused.status_code == 400
    error = answer["results"][2]["error"]
    assert {k: error[k] for k in ("code", "key", "message", "details")} == {
        k: refused.json()[k] for k in ("code", "key", "message", "details")
    }
    assert stored(api, name) == 2


def test_one_customers_events_are_tracked_in_the_order_given(
    api: httpx.Client, receiver: Receiver, make_schema
) -> None:
    schema = make_schema({"step": {"type": "number"}})
    path = "/" + unique("bulk")
    ok(
        api.post(
            "/v1/distributions",
            json={
                "name": unique("once"),
                "trigger": {"type": "customer.custom_event", "event": schema["name"]},
                "action": {"type": "plain_message"},
                "channels": [{"type": "webhook", "event_name": "b", "url": receiver.url(path)}],
                "reentry": {"mode": "once_per_customer"},
            },
        )
    )
    who = unique("ordered")
    steps = [
        {
            **item(schema["name"], who, metadata={"step": n}),
            "customer": {"source_id": who, "name": f"n{n}"},
        }
        for n in range(20)
    ]
    others = [item(schema["name"], unique("other"), metadata={"step": 0}) for _ in range(10)]
    answer = bulk(api, *steps, *others)
    assert answer["accepted"] == 30
    assert ok(api.get(f"/v1/customers/{who}"))["name"] == "n19"  # the last update wins
    [sent] = [r for r in receiver.wait_for(path, 11) if who.encode() in r.body]
    first = answer["results"][0]["event"]["id"]
    assert first.encode() in sent.body  # once per customer: the first event in the list


def test_an_item_idempotency_key_replays_its_first_result(api: httpx.Client, make_schema) -> None:
    schema = make_schema()
    key, who = unique("key"), unique("idem")
    first = bulk(
        api, {**item(schema["name"], who), "idempotency_key": key}, item(schema["name"], who)
    )
    again = bulk(
        api, {**item(schema["name"], who), "idempotency_key": key}, item(schema["name"], who)
    )
    assert again["results"][0]["replayed"] is True
    assert again["results"][0]["event"] == first["results"][0]["event"]
    assert again["results"][1]["replayed"] is False
    assert stored(api, schema["name"]) == 3
    reused = bulk(api, {**item(schema["name"], unique("else")), "idempotency_key": key})
    assert reused["results"][0]["status"] == 409
    assert reused["results"][0]["error"]["key"] == "idempotency_key_reused"
    single = api.post(
        "/v1/events", json=item(schema["name"], who), headers={"Idempotency-Key": key}
    )
    assert single.headers.get("idempotent-replayed") == "true"  # one namespace with the header


def test_an_idempotency_key_in_the_wrong_place_is_refused_not_ignored(
    api: httpx.Client, make_schema
) -> None:
    """Ignored, either would let a retry track its events twice."""
    schema = make_schema()
    one = item(schema["name"], unique("misplaced"))
    header = api.post("/v1/events/bulk", json={"events": [one]}, headers={"Idempotency-Key": "k"})
    assert header.status_code == 400, header.text
    assert header.json()["key"] == "invalid_idempotency_key"
    assert "give each item its own idempotency_key" in header.json()["details"]
    field = api.post("/v1/events", json={**one, "idempotency_key": "k"})
    assert field.status_code == 400, field.text
    assert field.json()["key"] == "invalid_idempotency_key"
    assert "send the Idempotency-Key header" in field.json()["details"]
    assert stored(api, schema["name"]) == 0
    bad = bulk(api, {**one, "idempotency_key": ""})["results"][0]
    assert bad["status"] == 400 and bad["error"]["key"] == "invalid_idempotency_key"
    assert bad["error"]["details"].startswith("idempotency_key must be")  # the field, by name


def counted(api: httpx.Client) -> tuple[float, float]:
    """``/metrics``' events tracked and webhooks enqueued, so far."""
    text = api.get("/metrics").text

    def total(name: str) -> float:
        [value] = re.findall(rf"^{name}_total (\S+)$", text, re.MULTILINE)
        return float(value)

    return total("sendout_events_tracked"), total("sendout_webhooks_enqueued")


def test_metrics_count_the_items_tracked_not_those_refused_or_replayed(
    api: httpx.Client, receiver: Receiver, make_schema, make_distribution
) -> None:
    schema = make_schema()
    make_distribution(schema["name"], receiver.url("/" + unique("a")), receiver.url("/b"))
    key, who = unique("key"), unique("counted")
    bulk(api, {**item(schema["name"], who), "idempotency_key": key})
    before = counted(api)
    answer = bulk(
        api,
        {**item(schema["name"], who), "idempotency_key": key},  # replayed
        item(unique("nope"), who),  # refused
        item(schema["name"], who),
        item(schema["name"], unique("counted")),
    )
    assert (answer["accepted"], answer["refused"]) == (3, 1)
    events, enqueued = counted(api)
    # Two events tracked now, each enqueueing a webhook per channel of the distribution.
    assert (events - before[0], enqueued - before[1]) == (2, 4)


def test_a_request_that_is_not_a_list_of_events_is_refused_whole(
    api: httpx.Client, make_schema
) -> None:
    schema = make_schema()
    one = item(schema["name"], unique("whole"))
    for body, key in (
        ({}, "missing_events"),
        ({"events": []}, "invalid_payload"),
        ({"events": one}, "invalid_payload"),
        ({"events": [one] * 1001}, "invalid_payload"),
        ({"events": [one], "mode": "fast"}, "invalid_payload"),
        ([one], "invalid_payload"),
    ):
        refused = api.post("/v1/events/bulk", json=body)
        assert refused.status_code == 400 and refused.json()["key"] == key, refused.text
        if key == "missing_events":
            assert refused.json()["message"] == "Missing events"
    assert (
        api.post(
            "/v1/events/bulk", content=b"[", headers={"content-type": "application/json"}
        ).json()["key"]
        == "invalid_json"
    )
    assert stored(api, schema["name"]) == 0
