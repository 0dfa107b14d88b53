"""Distribution conditions over HTTP, on both backends: saved and shown, checked at save, an event
that does not meet them sends nothing and records why; unknown keys on distribution routes."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from conftest import unique
from support.receiver import Receiver

PRO_IN_EMEA = {
    "junction": "AND",
    "event.metadata.plan": {"conditions": {"$is": ["pro"]}},
    "customer.metadata.region": {"conditions": {"$in": ["EMEA", "NA"]}},
}


def body(event: str, url: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": unique("conditional"),
        "trigger": {"type": "customer.custom_event", "event": event},
        "action": {"type": "plain_message"},
        "channels": [{"type": "webhook", "event_name": "hook", "url": url}],
        **extra,
    }


def track(api: httpx.Client, event: str, source_id: str, **metadata: Any) -> str:
    response = api.post(
        "/v1/events",
        json={"event": event, "customer": {"source_id": source_id}, "metadata": metadata},
    )
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


def deliveries_of(api: httpx.Client, event_id: str) -> int:
    response = api.get("/v1/deliveries", params={"event_id": event_id})
    assert response.status_code == 200, response.text
    return int(response.json()["total"])


def distributions(api: httpx.Client) -> int:
    return int(api.get("/v1/distributions", params={"limit": 1}).json()["total"])


def refused(response: httpx.Response, key: str, *words: str) -> None:
    assert response.status_code == 400, response.text
    error = response.json()
    assert error["key"] == key, error
    for word in words:
        assert word in error["details"], error


def test_an_event_that_does_not_meet_the_conditions_sends_nothing_and_says_why(
    api: httpx.Client, receiver: Receiver, make_schema
) -> None:
    schema = make_schema({"plan": {"type": "string", "optional": True}})
    path = "/" + unique("cond")
    created = api.post(
        "/v1/distributions", json=body(schema["name"], receiver.url(path), conditions=PRO_IN_EMEA)
    )
    assert created.status_code == 200, created.text
    distribution = created.json()
    assert distribution["conditions"] == PRO_IN_EMEA
    emea, apac = unique("emea"), unique("apac")
    for source_id, region in ((emea, "EMEA"), (apac, "APAC")):
        made = api.post(
            "/v1/customers", json={"source_id": source_id, "metadata": {"region": region}}
        )
        assert made.status_code == 200, made.text

    free = track(api, schema["name"], emea, plan="free")
    elsewhere = track(api, schema["name"], apac, plan="pro")
    sent = track(api, schema["name"], emea, plan="pro")

    assert (deliveries_of(api, free), deliveries_of(api, elsewhere), deliveries_of(api, sent)) == (
        0,
        0,
        1,
    )
    [received] = receiver.wait_for(path, 1)
    assert json.loads(received.body)["data"]["event"]["id"] == sent
    outcomes = api.get(
        "/v1/distribution-outcomes",
        params={"distribution_id": distribution["id"], "result": "conditions_not_met"},
    ).json()
    found = {o["event_id"]: o["details"] for o in outcomes["outcomes"]}
    assert set(found) == {free, elsewhere}
    assert "event.metadata.plan" in found[free]
    assert "customer.metadata.region" in found[elsewhere]


def test_conditions_are_replaced_and_removed_by_put(
    api: httpx.Client, receiver: Receiver, make_schema
) -> None:
    schema = make_schema()
    created = api.post(
        "/v1/distributions", json=body(schema["name"], receiver.url("/x"), conditions=PRO_IN_EMEA)
    ).json()
    url = f"/v1/distributions/{created['id']}"
    email_only = {"customer.email": {"conditions": {"$has_value": True}}}
    replaced = api.put(url, json={"conditions": email_only})
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["conditions"] == {"junction": "AND", **email_only}
    assert api.put(url, json={"name": "renamed"}).json()["conditions"] == {
        "junction": "AND",
        **email_only,
    }
    assert api.put(url, json={"conditions": {}}).json()["conditions"] is None
    assert api.get(url).json()["conditions"] is None


@pytest.mark.parametrize(
    ("conditions", "words"),
    [
        ({"order.total": {"conditions": {"$is": [1]}}}, ["conditions.order.total", "unknown path"]),
        ({"customer.email": {"conditions": {"$like": ["x"]}}}, ["customer.email", "$like"]),
        (
            {"event.metadata.n": {"conditions": {"$more_than": ["later"]}}},
            ["event.metadata.n", "$more_than"],
        ),
        ({"junction": "XOR", "customer.email": {"conditions": {"$has_value": True}}}, ["junction"]),
    ],
)
def test_conditions_sendout_cannot_evaluate_are_refused_and_nothing_is_saved(
    api: httpx.Client, make_schema, conditions: dict[str, Any], words: list[str]
) -> None:
    schema = make_schema()
    before = distributions(api)
    response = api.post(
        "/v1/distributions",
        json=body(schema["name"], "https://example.com/h", conditions=conditions),
    )
    refused(response, "invalid_conditions", *words)
    assert distributions(api) == before


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"condition": PRO_IN_EMEA}, "'condition'"),
        (
            {"trigger": {"type": "customer.custom_event", "event": "E", "filter": 1}},
            "'trigger.filter'",
        ),
        ({"action": {"type": "plain_message", "campaign_id": "camp_1"}}, "'action.campaign_id'"),
        (
            {
                "channels": [
                    {
                        "type": "webhook",
                        "event_name": "h",
                        "url": "https://example.com/h",
                        "secret": "s",
                    }
                ]
            },
            "'channels.0.secret'",
        ),
    ],
)
def test_an_unknown_key_on_a_distribution_route_is_refused_naming_it(
    api: httpx.Client, make_schema, change: dict[str, Any], named: str
) -> None:
    schema = make_schema()
    sent = {**body(schema["name"], "https://example.com/h"), **change}
    if "trigger" in change:
        sent["trigger"]["event"] = schema["name"]
    before = distributions(api)
    refused(api.post("/v1/distributions", json=sent), "invalid_payload", named)
    assert distributions(api) == before
    created = api.post(
        "/v1/distributions", json=body(schema["name"], "https://example.com/h")
    ).json()
    refused(api.put(f"/v1/distributions/{created['id']}", json=change), "invalid_payload", named)
    assert api.get(f"/v1/distributions/{created['id']}").json()["name"] == created["name"]


def test_voucherify_routes_stay_lenient_about_unknown_keys(api: httpx.Client, make_schema) -> None:
    schema = make_schema()
    response = api.post(
        "/v1/events",
        json={"event": schema["name"], "customer": {"source_id": unique("c")}, "sdk_only_field": 1},
    )
    assert response.status_code == 200, response.text
