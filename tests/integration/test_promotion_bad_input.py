"""Every refusal of the promotion routes: exact status and key, and nothing stored."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from test_bad_input import assert_error

from conftest import unique
from support.promotions import coupons, distribution, ok, promotion


def test_campaign_refusals(api: httpx.Client) -> None:
    good = {
        "name": unique("c"),
        "campaign_type": "DISCOUNT_COUPONS",
        "voucher": {"discount": {"type": "PERCENT", "percent_off": 5}},
    }
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({k: v for k, v in good.items() if k != "name"}, 400, "missing_name"),
        ({**good, "campaign_type": "GIFT_VOUCHERS"}, 400, "invalid_campaign_type"),
        ({**good, "type": "STANDALONE"}, 400, "invalid_campaign"),
        ({**good, "voucher": {"discount": {"type": "PERCENT"}}}, 400, "invalid_discount"),
        ({**good, "voucher": {}}, 400, "invalid_discount"),
        (
            {**good, "vouchers_count": 11, "voucher": {**good["voucher"], "code_config": {"pattern": "X-#", "charset": "0123456789"}}},
            400,
            "invalid_code_config",
        ),
        ({**good, "vouchers_count": 1_000_001}, 400, "invalid_payload"),
        ({"name": unique("p"), "campaign_type": "PROMOTION", "vouchers_count": 3}, 400, "invalid_campaign"),
        ({**good, "referral_program": {"conversion_event_type": "custom_event"}}, 400, "invalid_referral_program"),
        (
            {"name": unique("r"), "campaign_type": "REFERRAL_PROGRAM", "referral_program": {"referee_reward": {"related_object_parent": {"id": "camp_nope"}}}},
            400,
            "invalid_referee_reward",
        ),
    ]  # fmt: skip
    for body, status, key in cases:
        assert_error(api.post("/v1/campaigns", json=body), status, key)
        if "name" in body:
            assert api.get(f"/v1/campaigns/{body['name']}").status_code == 404
    ok(api.post("/v1/campaigns", json=good))
    assert_error(api.post("/v1/campaigns", json=good), 409, "duplicate_found")
    assert_error(api.get("/v1/campaigns/camp_nope"), 404, "not_found")
    assert_error(
        api.post("/v1/campaigns/camp_nope/vouchers", params={"vouchers_count": 2}), 404, "not_found"
    )
    small = coupons(api, 0, voucher={"discount": {"type": "PERCENT", "percent_off": 5}, "code_config": {"pattern": "#", "charset": "AB"}})  # fmt: skip
    assert_error(
        api.post(f"/v1/campaigns/{small['id']}/vouchers", params={"vouchers_count": 3}),
        400,
        "invalid_code_config",
    )
    assert ok(api.get(f"/v1/campaigns/{small['id']}"))["vouchers_count"] == 0
    ok(api.post(f"/v1/campaigns/{small['id']}/vouchers/SAME-1"))
    assert_error(api.post(f"/v1/campaigns/{small['id']}/vouchers/SAME-1"), 409, "duplicate_found")


def test_publication_refusals_write_nothing(api: httpx.Client) -> None:
    campaign = coupons(api, 1)
    promo, _ = promotion(api)
    stranger = unique("nobody")

    def publish(**body: Any) -> httpx.Response:
        return api.post("/v1/publications", json={"customer": {"source_id": stranger}, **body})

    assert_error(publish(), 400, "missing_vouchers")
    assert_error(
        api.post("/v1/publications", json={"campaign": campaign["id"]}), 400, "missing_customer"
    )
    assert_error(publish(campaign={"name": "camp_nope"}), 404, "not_found")
    assert_error(publish(campaign={"name": promo["id"]}), 400, "invalid_campaign_type")
    assert_error(
        publish(campaign={"name": campaign["id"], "count": 51}), 400, "too_many_vouchers_requested"
    )
    assert_error(
        publish(campaign={"name": campaign["id"], "count": 2}),
        400,
        "no_voucher_suitable_for_publication",
    )
    assert_error(publish(voucher="NO-SUCH-CODE"), 404, "not_found")
    assert api.get(f"/v1/customers/{stranger}").status_code == 404

    first = ok(api.post("/v1/publications", json={"campaign": campaign["id"], "customer": {"source_id": unique("a")}, "source_id": "src-1" + stranger}))  # fmt: skip
    code = first["voucher"]["code"]
    assert_error(publish(voucher=code), 400, "voucher_already_published")
    assert_error(publish(campaign={"name": campaign["id"]}, source_id="src-1" + stranger), 400, "duplicate_source_id")  # fmt: skip
    assert_error(
        publish(campaign={"name": campaign["id"]}), 400, "no_voucher_suitable_for_publication"
    )
    ok(api.post(f"/v1/campaigns/{campaign['id']}/disable"))
    ok(api.post(f"/v1/campaigns/{campaign['id']}/vouchers/EXTRA-{stranger}"))
    assert_error(
        publish(campaign={"name": campaign["id"]}), 400, "no_voucher_suitable_for_publication"
    )
    assert_error(publish(voucher=f"EXTRA-{stranger}"), 400, "voucher_cannot_be_published")
    assert api.get(f"/v1/customers/{stranger}").status_code == 404
    assert ok(api.get("/v1/publications", params={"campaign": campaign["id"]}))["total"] == 1


def test_distribution_action_refusals(api: httpx.Client, make_schema, receiver) -> None:
    event = make_schema()["name"]
    codes = coupons(api, 1)
    promo, tier = promotion(api)
    other, other_tier = promotion(api)
    url = receiver.url("/never")
    cases = [
        ({"type": "publish_unique_code"}, "invalid_action"),
        ({"type": "publish_unique_code", "campaign_id": "camp_nope"}, "unknown_campaign"),
        ({"type": "publish_unique_code", "campaign_id": promo["id"]}, "invalid_campaign_type"),
        ({"type": "notify_promotion", "campaign_id": promo["id"]}, "invalid_action"),
        ({"type": "notify_promotion", "campaign_id": codes["id"], "promotion_tier_id": tier["id"]}, "invalid_campaign_type"),
        ({"type": "notify_promotion", "campaign_id": promo["id"], "promotion_tier_id": "promo_nope"}, "unknown_promotion_tier"),
        ({"type": "notify_promotion", "campaign_id": promo["id"], "promotion_tier_id": other_tier["id"]}, "unknown_promotion_tier"),
    ]  # fmt: skip
    for action, key in cases:
        body = {
            "name": unique("d"),
            "trigger": {"type": "customer.custom_event", "event": event},
            "action": action,
            "channels": [{"type": "webhook", "event_name": "x", "url": url}],
        }
        assert_error(api.post("/v1/distributions", json=body), 400, key)
    distribution(api, event, url, {"type": "publish_unique_code", "campaign_id": codes["name"]})
    distribution(api, event, url, {"type": "notify_promotion", "campaign_id": promo["id"], "promotion_tier_id": tier["id"]})  # fmt: skip
    assert_error(api.delete(f"/v1/campaigns/{codes['id']}"), 409, "campaign_in_use")
    assert_error(api.delete(f"/v1/promotions/tiers/{tier['id']}"), 409, "promotion_tier_in_use")
    assert api.delete(f"/v1/promotions/tiers/{other_tier['id']}").status_code == 204
    assert ok(api.get(f"/v1/campaigns/{codes['id']}"))["id"] == codes["id"]
    assert other["id"]


@pytest.fixture
def programs(api: httpx.Client, make_schema) -> dict[str, Any]:
    event = make_schema({"amount": {"type": "number", "optional": True}})["name"]
    referral = ok(api.post("/v1/campaigns", json={"name": unique("ref"), "campaign_type": "REFERRAL_PROGRAM", "vouchers_count": 2}))  # fmt: skip
    loyalty = ok(api.post("/v1/campaigns", json={"name": unique("loy"), "campaign_type": "LOYALTY_PROGRAM", "vouchers_count": 2}))  # fmt: skip
    referrer, member = unique("referrer"), unique("member")
    ref_code = ok(api.post("/v1/publications", json={"campaign": referral["id"], "customer": {"source_id": referrer}}))["voucher"]  # fmt: skip
    card = ok(api.post("/v1/publications", json={"campaign": loyalty["id"], "customer": {"source_id": member}}))["voucher"]  # fmt: skip
    unpublished = ok(api.get("/v1/vouchers", params={"campaign": referral["id"]}))["vouchers"]
    coupon = coupons(api, 1)
    coupon_code = ok(api.get("/v1/vouchers", params={"campaign": coupon["id"]}))["vouchers"][0]
    return {
        "event": event,
        "loyalty": loyalty,
        "referrer": referrer,
        "member": member,
        "ref_code": ref_code["code"],
        "card": card["code"],
        "free_ref_code": next(v["code"] for v in unpublished if v["holder_id"] is None),
        "coupon_code": coupon_code["code"],
    }


def test_referral_and_loyalty_refusals_store_no_event(api: httpx.Client, programs) -> None:
    p = programs
    someone = unique("someone")
    cases = [
        (someone, {"referral": {"code": "NO-SUCH"}}, "referral_code_not_found"),
        (someone, {"referral": {"code": p["coupon_code"]}}, "not_a_referral_code"),
        (someone, {"referral": {"code": p["card"]}}, "not_a_referral_code"),
        (someone, {"referral": {"code": p["free_ref_code"]}}, "referral_code_not_published"),
        (someone, {"referral": {"code": p["ref_code"], "referrer_id": "cust_other"}}, "referrer_mismatch"),
        (p["referrer"], {"referral": {"code": p["ref_code"]}}, "self_referral"),
        (someone, {"loyalty": {"code": "NO-SUCH"}}, "loyalty_card_not_found"),
        (someone, {"loyalty": {"code": p["coupon_code"]}}, "not_a_loyalty_card"),
        (someone, {"loyalty": {"code": p["card"]}}, "loyalty_card_holder_mismatch"),
        (someone, {"referral": {}}, "invalid_payload"),
    ]  # fmt: skip
    before = ok(api.get("/v1/events", params={"event": p["event"]}))["total"]
    for source_id, extra, key in cases:
        body = {"event": p["event"], "customer": {"source_id": source_id}, **extra}
        assert_error(api.post("/v1/events", json=body), 400, key)
    assert ok(api.get("/v1/events", params={"event": p["event"]}))["total"] == before
    assert api.get(f"/v1/customers/{someone}").status_code == 404


def test_earning_rule_refusals(api: httpx.Client, programs) -> None:
    p = programs
    rules = f"/v1/loyalties/{p['loyalty']['id']}/earning-rules"
    cases = [
        ([{"event": "no_such_event", "loyalty": {"type": "FIXED", "points": 1}}], "invalid_earning_rule"),
        ([{"event": p["event"], "loyalty": {"type": "FIXED", "points": -1}}], "invalid_earning_rule"),
        ([{"event": p["event"], "loyalty": {"type": "PROPORTIONAL", "calculation_type": "CUSTOM_EVENT_METADATA", "custom_event": {"metadata": {"every": 1, "points": 1, "property": "nope"}}}}], "invalid_earning_rule"),
        ([{"event": p["event"]}], "missing_loyalty"),
        ([], "invalid_payload"),
    ]  # fmt: skip
    for body, key in cases:
        assert_error(api.post(rules, json=body), 400, key)
    assert ok(api.get(rules))["total"] == 0
    coupon = coupons(api, 0)
    assert_error(
        api.post(
            f"/v1/loyalties/{coupon['id']}/earning-rules",
            json=[{"event": p["event"], "loyalty": {"type": "FIXED", "points": 1}}],
        ),
        400,
        "invalid_campaign_type",
    )
