"""Booleans are not numbers and dates are strings (issue 13, item 10): every number and date field
of a request body refuses a value of another JSON type with ``400 invalid_payload`` naming the
field, and nothing is stored. (The rotation's ``grace_period_seconds``: test_rotation_body.py.)"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from test_bad_input import assert_error, assert_nothing_tracked

from conftest import unique
from support.promotions import coupons, ok, promotion

NOT_DATES = [0, 19900517, True, "0", "19900517", "1700000000", "17/05/1990", [1990, 5, 17]]
NOT_TIMES = [0, 1700000000, 1.7e9, True, "0", "1700000000", {"seconds": 0}]
NOT_INTEGERS = [True, False, "3", 1.5, 3.0, [3]]


def refused(response: httpx.Response, field: str) -> None:
    error = assert_error(response, 400, "invalid_payload")
    assert field in error["details"], error


@pytest.mark.parametrize("field", ["birthdate", "birthday"])
@pytest.mark.parametrize("value", NOT_DATES)
def test_customer_dates_must_be_iso_strings(api: httpx.Client, field: str, value: Any) -> None:
    source_id = unique("c")
    refused(api.post("/v1/customers", json={"source_id": source_id, field: value}), field)
    assert api.get(f"/v1/customers/{source_id}").status_code == 404

    kept = ok(api.post("/v1/customers", json={"source_id": source_id, "birthdate": "1990-05-17"}))
    refused(api.put(f"/v1/customers/{kept['id']}", json={field: value, "name": "changed"}), field)
    after = ok(api.get(f"/v1/customers/{kept['id']}"))
    assert after["birthdate"] == "1990-05-17" and after["name"] is None


def test_an_event_customer_with_a_numeric_birthdate_tracks_nothing(
    api: httpx.Client, make_schema
) -> None:
    event = make_schema()["name"]
    for field in ("birthdate", "birthday"):
        source_id = unique("c")
        body = {"event": event, "customer": {"source_id": source_id, field: 0}}
        refused(api.post("/v1/events", json=body), f"customer.{field}")
        assert_nothing_tracked(api, event, source_id)


@pytest.mark.parametrize("field", ["birthdate", "birthday"])
def test_iso_dates_are_kept(api: httpx.Client, field: str) -> None:
    source_id = unique("c")
    made = ok(api.post("/v1/customers", json={"source_id": source_id, field: "1990-05-17"}))
    assert made["birthdate"] == "1990-05-17"


def campaign_body(**changes: Any) -> dict[str, Any]:
    return {
        "name": unique("loose"),
        "campaign_type": "DISCOUNT_COUPONS",
        "voucher": {"discount": {"type": "PERCENT", "percent_off": 5}},
        **changes,
    }


def loyalty_body(points: Any) -> dict[str, Any]:
    return {
        "name": unique("loose"),
        "campaign_type": "LOYALTY_PROGRAM",
        "voucher": {"type": "LOYALTY_CARD", "loyalty_card": {"points": points}},
    }


@pytest.mark.parametrize(
    ("body", "field", "key"),
    [
        *[(campaign_body(vouchers_count=v), "vouchers_count", "invalid_payload") for v in NOT_INTEGERS],
        *[(campaign_body(start_date=v), "start_date", "invalid_payload") for v in NOT_TIMES],
        *[(campaign_body(expiration_date=v), "expiration_date", "invalid_payload") for v in NOT_TIMES],
        (
            {"name": unique("loose"), "campaign_type": "PROMOTION", "promotion": {"tiers": [{"name": "t", "hierarchy": True}]}},
            "hierarchy",
            "invalid_payload",
        ),
        (
            {"name": unique("loose"), "campaign_type": "PROMOTION", "promotion": {"tiers": [{"name": "t", "start_date": 0}]}},
            "start_date",
            "invalid_payload",
        ),
        # Numbers inside the free-form objects are checked by the campaign rules (already strict).
        (campaign_body(voucher={"discount": {"type": "PERCENT", "percent_off": True}}), "percent_off", "invalid_discount"),
        (campaign_body(voucher={"discount": {"type": "AMOUNT", "amount_off": "5"}}), "amount_off", "invalid_discount"),
        (campaign_body(voucher={"discount": {"type": "PERCENT", "percent_off": 5, "amount_limit": True}}), "amount_limit", "invalid_discount"),
        (campaign_body(voucher={"discount": {"type": "PERCENT", "percent_off": 5}, "redemption": {"quantity": True}}), "quantity", "invalid_voucher"),
        (loyalty_body(True), "points", "invalid_voucher"),
        (loyalty_body(1.5), "points", "invalid_voucher"),
    ],
)  # fmt: skip
def test_campaign_numbers_and_dates(api: httpx.Client, body: dict[str, Any], field: str, key: str) -> None:  # fmt: skip
    count_before = ok(api.get("/v1/campaigns"))["total"]
    error = assert_error(api.post("/v1/campaigns", json=body), 400, key)
    assert field in error["details"], error
    assert api.get(f"/v1/campaigns/{body['name']}").status_code == 404
    assert ok(api.get("/v1/campaigns"))["total"] == count_before


@pytest.mark.parametrize("value", NOT_TIMES)
def test_campaign_update_dates(api: httpx.Client, value: Any) -> None:
    campaign = coupons(api, 0)
    for field in ("start_date", "expiration_date"):
        body = {field: value, "description": "changed"}
        refused(api.put(f"/v1/campaigns/{campaign['id']}", json=body), field)
    after = ok(api.get(f"/v1/campaigns/{campaign['id']}"))
    assert after["start_date"] is None and after["expiration_date"] is None
    assert after["description"] == campaign["description"]


def test_valid_numbers_and_dates_are_taken(api: httpx.Client) -> None:
    body = campaign_body(
        vouchers_count=2,
        start_date="2024-01-31T10:00:00Z",
        expiration_date="2099-12-31T23:59:59.000Z",
        voucher={"discount": {"type": "PERCENT", "percent_off": 12.5}},
    )
    made = ok(api.post("/v1/campaigns", json=body))
    assert made["vouchers_count"] == 2
    assert made["start_date"].startswith("2024-01-31T10:00:00")
    assert made["voucher"]["discount"]["percent_off"] == 12.5


@pytest.mark.parametrize("value", [True, 1.5, "1"])
def test_promotion_tier_numbers_and_dates(api: httpx.Client, value: Any) -> None:
    campaign, tier = promotion(api)
    tiers = f"/v1/promotions/{campaign['id']}/tiers"
    refused(api.post(tiers, json={"name": "new", "hierarchy": value}), "hierarchy")
    refused(api.post(tiers, json={"name": "new", "expiration_date": 0}), "expiration_date")
    assert ok(api.get(tiers))["total"] == 1
    refused(api.put(f"/v1/promotions/tiers/{tier['id']}", json={"hierarchy": value}), "hierarchy")
    refused(api.put(f"/v1/promotions/tiers/{tier['id']}", json={"start_date": 0}), "start_date")
    after = ok(api.get(f"/v1/promotions/tiers/{tier['id']}"))
    assert after["hierarchy"] == tier["hierarchy"] and after.get("start_date") is None


@pytest.mark.parametrize("value", NOT_INTEGERS)
def test_publication_count(api: httpx.Client, value: Any) -> None:
    campaign = coupons(api, 3)
    stranger = unique("nobody")
    body = {
        "campaign": {"name": campaign["id"], "count": value},
        "customer": {"source_id": stranger},
    }
    refused(api.post("/v1/publications", json=body), "count")
    assert api.get(f"/v1/customers/{stranger}").status_code == 404
    assert ok(api.get("/v1/publications", params={"campaign": campaign["id"]}))["total"] == 0


@pytest.mark.parametrize("value", NOT_TIMES)
def test_a_replay_since_must_be_an_iso_string(
    api: httpx.Client, make_schema, make_distribution, value: Any
) -> None:
    distribution = make_distribution(make_schema()["name"], "https://example.com/h")
    url = f"/v1/distributions/{distribution['id']}/replay"
    refused(api.post(url, json={"since": value}), "since")
    assert api.post(url, json={"since": "2024-01-31T10:00:00Z"}).status_code == 200
