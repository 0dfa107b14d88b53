"""Distributions that publish codes or notify about promotion tiers, over real HTTP."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import jsonschema

from conftest import unique
from support.promotions import coupons, distribution, ok, promotion, track
from support.receiver import Receiver
from support.server import APP_ID, APP_TOKEN, ServerProcess


def bodies(receiver: Receiver, path: str, count: int) -> list[dict[str, Any]]:
    return [json.loads(r.body) for r in receiver.wait_for(path, count)]


def test_publish_unique_code_sends_the_published_code(
    api: httpx.Client, receiver: Receiver, make_schema, webhook_schema
) -> None:
    event = make_schema()["name"]
    campaign = coupons(api, 2)
    path = "/" + unique("publish")
    dist = distribution(
        api,
        event,
        receiver.url(path),
        {"type": "publish_unique_code", "campaign_id": campaign["id"]},
    )
    source_id = unique("c")
    track(api, event, source_id)
    [body] = bodies(receiver, path, 1)
    jsonschema.validate(body, webhook_schema)
    data = body["data"]
    assert list(data) == [
        "event", "event_schema", "customer", "referral", "loyalty", "campaign", "voucher", "publication"
    ]  # fmt: skip
    customer_id = data["customer"]["id"]
    assert data["campaign"]["id"] == campaign["id"]
    assert data["voucher"]["holder_id"] == customer_id
    assert data["voucher"]["code"].startswith("WELCOME-")
    publication = data["publication"]
    assert publication["metadata"] == {
        "source_type": "distribution",
        "source_id": dist["id"],
        "distribution_id": dist["id"],
    }
    assert publication["vouchers_id"] == [data["voucher"]["id"]]
    assert publication["customer_id"] == customer_id and publication["tracking_id"] == source_id

    listed = ok(api.get("/v1/publications", params={"campaign": campaign["name"]}))
    assert [p["id"] for p in listed["publications"]] == [publication["id"]]
    assert listed["publications"][0]["channel"] == "Automation"
    voucher = ok(api.get(f"/v1/vouchers/{data['voucher']['code']}"))
    assert voucher["holder_id"] == customer_id


def test_a_retried_delivery_reuses_its_publication(
    api: httpx.Client, receiver: Receiver, make_schema
) -> None:
    event = make_schema()["name"]
    campaign = coupons(api, 3)
    path = "/" + unique("retry")
    receiver.script(path, 500, 500)
    distribution(
        api,
        event,
        receiver.url(path),
        {"type": "publish_unique_code", "campaign_id": campaign["id"]},
    )
    track(api, event, unique("c"))
    attempts = bodies(receiver, path, 3)
    assert len({b["id"] for b in attempts}) == 1
    assert len({b["data"]["publication"]["id"] for b in attempts}) == 1
    assert ok(api.get("/v1/publications", params={"campaign": campaign["id"]}))["total"] == 1


def test_join_once_gives_a_returning_customer_the_same_code(
    api: httpx.Client, receiver: Receiver, make_schema
) -> None:
    event = make_schema()["name"]
    campaign = coupons(api, 5, join_once=True)
    path = "/" + unique("once")
    distribution(
        api,
        event,
        receiver.url(path),
        {"type": "publish_unique_code", "campaign_id": campaign["id"]},
    )
    source_id = unique("c")
    track(api, event, source_id)
    track(api, event, source_id)
    first, second = bodies(receiver, path, 2)
    assert first["data"]["voucher"]["code"] == second["data"]["voucher"]["code"]
    assert first["data"]["publication"]["id"] == second["data"]["publication"]["id"]
    assert ok(api.get("/v1/publications", params={"campaign": campaign["id"]}))["total"] == 1


def test_an_empty_static_pool_records_an_outcome_instead_of_a_webhook(
    api: httpx.Client, receiver: Receiver, make_schema
) -> None:
    event = make_schema()["name"]
    campaign = coupons(api, 1)
    path = "/" + unique("empty")
    dist = distribution(
        api,
        event,
        receiver.url(path),
        {"type": "publish_unique_code", "campaign_id": campaign["id"]},
    )
    plain = "/" + unique("plain")
    distribution(api, event, receiver.url(plain), {"type": "plain_message"})
    track(api, event, unique("c"))
    late = track(api, event, unique("c"))
    bodies(receiver, plain, 2)
    assert len(bodies(receiver, path, 1)) == 1
    outcomes = ok(api.get("/v1/distribution-outcomes", params={"distribution_id": dist["id"]}))
    assert outcomes["total"] == 1
    [outcome] = outcomes["outcomes"]
    assert outcome["result"] == "no_voucher_suitable_for_publication"
    assert outcome["event_id"] == late["id"] and outcome["campaign_id"] == campaign["id"]
    assert len(receiver.at(path)) == 1


def test_auto_update_generates_a_fresh_code_when_the_pool_is_empty(
    api: httpx.Client, receiver: Receiver, make_schema
) -> None:
    event = make_schema()["name"]
    campaign = coupons(api, 0, kind="AUTO_UPDATE")
    path = "/" + unique("auto")
    distribution(
        api,
        event,
        receiver.url(path),
        {"type": "publish_unique_code", "campaign_id": campaign["id"]},
    )
    for _ in range(3):
        track(api, event, unique("c"))
    codes = {b["data"]["voucher"]["code"] for b in bodies(receiver, path, 3)}
    assert len(codes) == 3
    assert ok(api.get(f"/v1/campaigns/{campaign['id']}"))["vouchers_count"] == 3


def test_notify_promotion_adds_the_campaign_and_tier(
    api: httpx.Client, receiver: Receiver, make_schema, webhook_schema
) -> None:
    event = make_schema()["name"]
    campaign, tier = promotion(api)
    path = "/" + unique("notify")
    distribution(
        api,
        event,
        receiver.url(path),
        {
            "type": "notify_promotion",
            "campaign_id": campaign["id"],
            "promotion_tier_id": tier["id"],
        },
    )
    track(api, event, unique("c"))
    [body] = bodies(receiver, path, 1)
    jsonschema.validate(body, webhook_schema)
    data = body["data"]
    assert list(data)[-2:] == ["campaign", "promotion_tier"]
    assert data["campaign"]["id"] == campaign["id"]
    assert data["campaign"]["campaign_type"] == "PROMOTION"
    assert data["promotion_tier"] == {
        "id": tier["id"],
        "name": "10% off",
        "banner": "Get 10% off",
        "campaign": {"id": campaign["id"]},
        "metadata": {},
    }


def test_a_pool_of_k_codes_goes_to_exactly_k_of_n_concurrent_customers(
    server: ServerProcess, api: httpx.Client, receiver: Receiver, make_schema
) -> None:
    k, n = 7, 40
    event = make_schema()["name"]
    campaign = coupons(api, k)
    path = "/" + unique("race")
    dist = distribution(
        api,
        event,
        receiver.url(path),
        {"type": "publish_unique_code", "campaign_id": campaign["id"]},
    )
    headers = {"X-App-Id": APP_ID, "X-App-Token": APP_TOKEN}
    prefix = unique("racer")

    def send(i: int) -> int:
        with httpx.Client(base_url=server.base_url, headers=headers, timeout=30) as own:
            body = {"event": event, "customer": {"source_id": f"{prefix}-{i}"}}
            return own.post("/v1/events", json=body).status_code

    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(send, range(n)))
    assert statuses == [200] * n

    webhooks = bodies(receiver, path, k)
    holders = {b["data"]["voucher"]["code"]: b["data"]["customer"]["id"] for b in webhooks}
    assert len(webhooks) == k and len(holders) == k and len(set(holders.values())) == k
    publications = ok(
        api.get("/v1/publications", params={"campaign": campaign["id"], "limit": 100})
    )
    assert publications["total"] == k
    assert {p["voucher"]["code"]: p["customer_id"] for p in publications["publications"]} == holders
    outcomes = ok(
        api.get(
            "/v1/distribution-outcomes",
            params={"distribution_id": dist["id"], "limit": 100},
        )
    )
    assert outcomes["total"] == n - k
    assert {o["result"] for o in outcomes["outcomes"]} == {"no_voucher_suitable_for_publication"}
    published = {o["customer_id"] for o in outcomes["outcomes"]} & set(holders.values())
    assert not published
    assert ok(api.get("/v1/vouchers", params={"campaign": campaign["id"]}))["total"] == k
    assert len(receiver.at(path)) == k
