"""Fields the official SDK's models have and clients read: present in sendout's answers and
webhooks (with the value that is true for sendout), on both backends."""

from __future__ import annotations

import json
from typing import Any

import httpx
import jsonschema
import voucherify

from conftest import unique
from support.promotions import coupons, distribution, fixed_rule, loyalty, ok, promotion, track
from support.receiver import Receiver

NO_ASSETS = {"qr": {"id": None, "url": None}, "barcode": {"id": None, "url": None}}


def test_a_customer_has_assets(api: httpx.Client) -> None:
    created = ok(api.post("/v1/customers", json={"source_id": unique("assets")}))
    assets = {"cockpit_url": None, "cockpit_preference_center_url": None}
    assert created["assets"] == assets
    assert ok(api.get(f"/v1/customers/{created['id']}"))["assets"] == assets
    parsed = voucherify.CustomersGetResponseBody.from_dict(created)
    assert parsed is not None and parsed.assets is not None


def test_a_voucher_has_validity_fields_and_assets(api: httpx.Client) -> None:
    campaign = coupons(api, 1)
    [voucher] = ok(api.get("/v1/vouchers", params={"campaign": campaign["id"]}))["vouchers"]
    fetched = ok(api.get(f"/v1/vouchers/{voucher['code']}"))
    for body in (voucher, fetched):
        assert body["validity_timeframe"] is None and body["validity_day_of_week"] is None
        assert "validity_timeframe" in body and "validity_day_of_week" in body
        assert body["assets"] == NO_ASSETS
    parsed = voucherify.VouchersGetResponseBody.from_dict(fetched)
    assert parsed is not None and parsed.assets is not None and parsed.assets.qr is not None


def test_a_promotion_tier_has_summary_rules_and_categories(api: httpx.Client) -> None:
    campaign, tier = promotion(api)
    listed = ok(api.get(f"/v1/promotions/{campaign['id']}/tiers"))["tiers"]
    for body in (tier, ok(api.get(f"/v1/promotions/tiers/{tier['id']}")), *listed):
        assert body["summary"] == {
            "redemptions": {"total_redeemed": 0},
            "orders": {"total_amount": 0, "total_discount_amount": 0},
        }
        assert body["validation_rule_assignments"] == {
            "object": "list",
            "data_ref": "data",
            "data": [],
            "total": 0,
        }
        assert body["category_id"] is None and body["categories"] == []


def _loyalty_card(api: httpx.Client, event: str) -> tuple[dict[str, Any], str, str]:
    campaign = loyalty(api)
    created = fixed_rule(api, campaign["id"], event, 7)
    holder = unique("holder")
    publication = {"campaign": {"name": campaign["id"]}, "customer": {"source_id": holder}}
    card = ok(api.post("/v1/publications", json=publication))["voucher"]["code"]
    return created, holder, card


def test_earning_rules_and_transactions_have_the_sdk_fields(api: httpx.Client, make_schema) -> None:
    event = make_schema()["name"]
    rule, holder, card = _loyalty_card(api, event)
    assert "automation_id" in rule and rule["automation_id"] is None
    fetched = ok(api.get(f"/v1/loyalties/{rule['source']['object_id']}/earning-rules/{rule['id']}"))
    assert "automation_id" in fetched and fetched["automation_id"] is None
    track(api, event, holder, loyalty={"code": card})
    [transaction] = ok(api.get(f"/v1/vouchers/{card}/transactions"))["data"]
    for key in ("source_id", "source", "reason", "related_transaction_id"):
        assert key in transaction and transaction[key] is None
    assert voucherify.VoucherTransaction.from_dict(transaction) is not None


def test_publish_unique_code_webhooks_carry_the_campaign_updated_at(
    api: httpx.Client, receiver: Receiver, make_schema, webhook_schema: dict[str, Any]
) -> None:
    event = make_schema()["name"]
    campaign = coupons(api, 3)
    path = "/" + unique("updated")
    action = {"type": "publish_unique_code", "campaign_id": campaign["id"]}
    distribution(api, event, receiver.url(path), action)
    track(api, event, unique("c"))
    [first] = receiver.wait_for(path, 1)
    body = json.loads(first.body)
    jsonschema.validate(body, webhook_schema)
    assert body["data"]["campaign"]["updated_at"] == campaign["created_at"]
    assert campaign["updated_at"] == campaign["created_at"]  # the answer says the same
    changed = ok(api.put(f"/v1/campaigns/{campaign['id']}", json={"description": "new"}))
    assert changed["updated_at"] >= campaign["created_at"]
    track(api, event, unique("c"))
    second = json.loads(receiver.wait_for(path, 2)[1].body)
    assert second["data"]["campaign"]["updated_at"] == changed["updated_at"]


def test_a_project_keeps_its_description_timezone_and_currency(mgmt: httpx.Client) -> None:
    body = {
        "name": unique("project"),
        "description": "EU shop",
        "timezone": "Europe/Warsaw",
        "currency": "PLN",
    }
    created = ok(mgmt.post("/management/v1/projects", json=body))
    kept = {k: created[k] for k in ("description", "timezone", "currency")}
    assert kept == {"description": "EU shop", "timezone": "Europe/Warsaw", "currency": "PLN"}
    fetched = ok(mgmt.get(f"/management/v1/projects/{created['id']}"))
    assert {k: fetched[k] for k in kept} == kept
    listed = ok(mgmt.get("/management/v1/projects"))["data"]
    assert {
        k: v for k, v in next(p for p in listed if p["id"] == created["id"]).items() if k in kept
    } == kept
    plain = ok(mgmt.post("/management/v1/projects", json={"name": unique("project")}))
    assert (plain["description"], plain["timezone"], plain["currency"]) == (None, "UTC", "USD")
    refused = mgmt.post("/management/v1/projects", json={**body, "currency": "zloty"})
    assert refused.status_code == 400 and refused.json()["key"] == "invalid_payload"


def test_a_webhook_customer_without_a_name_has_no_name(
    api: httpx.Client, receiver: Receiver, make_schema, webhook_schema: dict[str, Any]
) -> None:
    event = make_schema()["name"]
    path = "/" + unique("noname")
    distribution(api, event, receiver.url(path), {"type": "plain_message"})
    anon, kim = unique("anon"), unique("kim")
    track(api, event, anon)
    ok(api.post("/v1/events", json={"event": event, "customer": {"source_id": kim, "name": "Kim"}}))
    bodies = [json.loads(r.body) for r in receiver.wait_for(path, 2)]
    by_source = {b["data"]["customer"]["source_id"]: b for b in bodies}
    anonymous, named = by_source[anon], by_source[kim]
    for body in (anonymous, named):
        jsonschema.validate(body, webhook_schema)
    assert "name" not in anonymous["data"]["customer"]
    assert anonymous["data"]["customer"]["email"] is None  # as in Voucherify's examples
    assert named["data"]["customer"]["name"] == "Kim"
