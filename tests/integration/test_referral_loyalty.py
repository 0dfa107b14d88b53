"""Events carrying referral codes and loyalty cards: conversion, points, webhook objects."""

from __future__ import annotations

import json

import httpx
import jsonschema

from conftest import unique
from support.promotions import (
    coupons,
    distribution,
    fixed_rule,
    loyalty,
    loyalty_program,
    ok,
    publish,
    referral_program,
    track,
)
from support.receiver import Receiver


def test_a_referral_converts_once_and_rewards_the_referee(
    api: httpx.Client, receiver: Receiver, make_schema, webhook_schema
) -> None:
    event = make_schema()["name"]
    reward = coupons(api, 1)
    program = referral_program(api, event, reward["id"])
    referrer = unique("referrer")
    code = publish(api, program["id"], referrer)["voucher"]
    path = "/" + unique("ref")
    distribution(api, event, receiver.url(path), {"type": "plain_message"})

    referee = unique("referee")
    tracked = track(api, event, referee, referral={"code": code["code"]})
    [received] = receiver.wait_for(path, 1)
    body = json.loads(received.body)
    jsonschema.validate(body, webhook_schema)
    data = body["data"]
    assert data["event"]["referral"] == {
        "referrer_id": code["holder_id"],
        "code": code["code"],
        "id": code["id"],
    }
    assert data["referral"]["referrer"]["id"] == code["holder_id"]
    assert data["referral"]["voucher"]["code"] == code["code"]
    assert data["referral"]["voucher"]["is_referral_code"] is True
    assert data["referral"]["campaign"]["id"] == program["id"]

    conversions = ok(api.get("/v1/referral-conversions", params={"referrer": referrer}))
    assert conversions["total"] == 1
    assert conversions["conversions"][0]["event_id"] == tracked["id"]
    rewarded = ok(api.get("/v1/publications", params={"campaign": reward["id"]}))
    assert rewarded["total"] == 1
    assert rewarded["publications"][0]["customer_id"] == data["customer"]["id"]
    assert rewarded["publications"][0]["metadata"]["source_type"] == "referral"

    track(api, event, referee, referral={"code": code["code"]})  # the same referee again
    assert ok(api.get("/v1/referral-conversions", params={"referrer": referrer}))["total"] == 1
    assert ok(api.get("/v1/publications", params={"campaign": reward["id"]}))["total"] == 1


def test_earning_rules_credit_the_loyalty_card(
    api: httpx.Client, receiver: Receiver, make_schema, webhook_schema
) -> None:
    event = make_schema({"amount": {"type": "number", "optional": True}})["name"]
    campaign = loyalty_program(api, event)
    holder = unique("member")
    card = publish(api, campaign["id"], holder)["voucher"]
    assert card["type"] == "LOYALTY_CARD" and card["loyalty_card"]["balance"] == 5
    path = "/" + unique("loyal")
    distribution(api, event, receiver.url(path), {"type": "plain_message"})

    track(api, event, holder, loyalty={"code": card["code"]}, metadata={"amount": 25})
    [received] = receiver.wait_for(path, 1)
    body = json.loads(received.body)
    jsonschema.validate(body, webhook_schema)
    loyalty = body["data"]["loyalty"]
    assert body["data"]["event"]["loyalty"] == {"code": card["code"]}
    assert loyalty["voucher"]["loyalty_card"] == {"points": 21, "balance": 21}
    assert loyalty["campaign"]["id"] == campaign["id"]

    assert ok(api.get(f"/v1/vouchers/{card['code']}"))["loyalty_card"]["balance"] == 21
    transactions = ok(api.get(f"/v1/vouchers/{card['code']}/transactions"))
    assert transactions["total"] == 2
    assert sorted(t["details"]["balance"]["points"] for t in transactions["data"]) == [6, 10]


def test_a_customer_shows_their_points_and_referrals(api: httpx.Client, make_schema) -> None:
    event = make_schema()["name"]
    points = loyalty(api, points=5)
    fixed_rule(api, points["id"], event, 100)
    program = referral_program(api, event)
    referrer, member = unique("referrer"), unique("member")
    code = publish(api, program["id"], referrer)["voucher"]
    card = publish(api, points["id"], member)["voucher"]["code"]
    tracked = track(api, event, member, referral={"code": code["code"]}, loyalty={"code": card})

    mine = ok(api.get(f"/v1/customers/{member}"))
    assert mine["loyalty"] == {
        "points": 105,
        "referred_customers": 0,
        "campaigns": {points["name"]: {"points": 105, "referred_customers": 0}},
    }
    assert mine["summary"]["redemptions"]["loyalty_card"] == {
        "redeemed_points": 0,
        "points_to_go": 105,
    }
    [referral] = mine["referrals"]["campaigns"]
    assert mine["referrals"]["total"] == 1 and referral == {
        "campaign_id": program["id"],
        "referrer_id": code["holder_id"],
        "related_object_id": tracked["id"],
        "related_object_type": "custom_event",
        "date": referral["date"],
    }
    theirs = ok(api.get(f"/v1/customers/{referrer}"))
    assert theirs["loyalty"] == {
        "points": 0,
        "referred_customers": 1,
        "campaigns": {program["name"]: {"points": 0, "referred_customers": 1}},
    }
    assert theirs["referrals"] == {"total": 0, "campaigns": []}
    listed = ok(api.get("/v1/customers", params={"limit": 100}))["customers"]
    by_source = {c["source_id"]: c for c in listed}
    assert by_source[member]["loyalty"] == mine["loyalty"]
    assert by_source[referrer]["loyalty"] == theirs["loyalty"]
