"""Webhooks of the three purposes, with referral and loyalty, against the extracted schemas."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from sendout.payloads.custom_event import build_data, build_envelope
from sendout.payloads.promotions import (
    loyalty_data,
    publication_item,
    referral_data,
    simple_campaign,
    simple_promotion_tier,
    simple_voucher,
)
from sendout.promotions.campaigns import check_referral_program, voucher_template
from sendout.promotions.records import Campaign, PromotionTier, Publication, Voucher
from sendout.records import Customer, Event, EventSchema

NOW = "2024-03-14T11:47:24.598Z"


def customer(cid: str, source_id: str, name: str) -> Customer:
    return Customer(
        cid, "proj_x", source_id, name, None, None, None, None, None, {"region": "EMEA"}, NOW, None
    )


ALEX = customer("cust_154FDQKcbzygdo231M62r4CD", "4lx-d03", "Alex Doe")
JACK = customer("cust_IdgAFZxYwwHctOk9pPuMu308", "jck-wbhk", "Jack Referrer")


def campaign(kind: str, cid: str, voucher: dict[str, Any] | None) -> Campaign:
    return Campaign(
        id=cid,
        project_id="proj_x",
        name=f"{kind} campaign",
        campaign_type=kind,
        type="STATIC" if kind == "PROMOTION" else "AUTO_UPDATE",
        description="Spring 2024 big campaign",
        join_once=False,
        auto_join=False,
        active=True,
        voucher=None if kind == "PROMOTION" else voucher_template(kind, voucher),
        referral_program=check_referral_program(kind, {"custom_event": {"name": "sign_up"}})
        if kind == "REFERRAL_PROGRAM"
        else None,
        metadata={},
        vouchers_count=3,
        start_date=None,
        expiration_date=None,
        created_at=NOW,
        updated_at=NOW,
    )


COUPONS = campaign(
    "DISCOUNT_COUPONS",
    "camp_iRMdcq07g9W4dOSRXuTovupi",
    {"discount": {"type": "PERCENT", "percent_off": 10}, "code_config": {"pattern": "SPR-###"}},
)
PROMO = campaign("PROMOTION", "camp_SGq39XXJ47vm7Xys3D0NLgQ0", None)
REFERRAL = campaign(
    "REFERRAL_PROGRAM",
    "camp_R3f3rra1Pr0gram00000000",
    {"discount": {"type": "AMOUNT", "amount_off": 1000}},
)
LOYALTY = campaign(
    "LOYALTY_PROGRAM", "camp_L0ya1tyPr0gram000000000", {"loyalty_card": {"points": 0}}
)


def voucher(vid: str, code: str, c: Campaign, holder: str | None, points: int = 0) -> Voucher:
    return Voucher(vid, "proj_x", c.id, code, holder, True, points, points, {}, NOW, NOW)


def data(extras: dict[str, Any], *, referral: bool = False, loyalty: bool = False) -> Any:
    event = Event(
        "event_0e70ee5acd8b2555ce",
        "proj_x",
        "sign_up",
        ALEX.id,
        "ms_f1r5Tcu5T0m3v3nT5ch3ma",
        {"source": "API"},
        {"referrer_id": JACK.id, "code": "REF-1", "id": "v_ref"} if referral else None,
        {"code": "CARD-1"} if loyalty else None,
        "v-0e70ee5acd8b2555aa",
        NOW,
    )
    schema = EventSchema("ms_f1r5Tcu5T0m3v3nT5ch3ma", "proj_x", "sign_up", {}, NOW, None)
    rewards: dict[str, Any] = {}
    if referral:
        rewards["referral"] = referral_data(
            JACK, voucher("v_ref", "REF-1", REFERRAL, JACK.id), REFERRAL
        )
    if loyalty:
        rewards["loyalty"] = loyalty_data(
            voucher("v_card", "CARD-1", LOYALTY, ALEX.id, points=40), LOYALTY
        )
    body = build_data(event, schema, ALEX, rewards)
    body.update(extras)
    return build_envelope(
        delivery_id="whs_0e16e42bc6e0c65b57",
        project_id="proj_5T4Rpl4T1nuM",
        created_at=NOW,
        event_name="hook",
        data=body,
        distribution_id="distr_TrJj0lHV44EMt6HvLa2pyNlHTF",
        target_url="https://example.org/hook",
        activity_id="evcus_0e70ee5acd8b2555cf",
        event=event,
        event_source={"channel": "API"},
    )


def publish_extras() -> dict[str, Any]:
    code = voucher("v_ae1exRSLU9I4ncJjY5heHvVTE189Y3NB", "SPR-osO", COUPONS, ALEX.id)
    publication = Publication(
        "pub_eB4okLT7vHrFoajHJGeoKir285dBxY1z",
        "proj_x",
        COUPONS.id,
        ALEX.id,
        (code,),
        None,
        "Automation",
        {
            "source_type": "distribution",
            "source_id": "distr_TrJj0lHV44EMt6HvLa2pyNlHTF",
            "distribution_id": "distr_TrJj0lHV44EMt6HvLa2pyNlHTF",
        },
        NOW,
    )
    return {
        "campaign": simple_campaign(COUPONS),
        "voucher": simple_voucher(code, COUPONS),
        "publication": publication_item(publication, ALEX),
    }


def notify_extras() -> dict[str, Any]:
    tier = PromotionTier(
        "promo_63fYCt81Aw0h7lzyRkrGZh9p",
        "proj_x",
        PROMO.id,
        "10% off",
        "Get 10% off",
        None,
        {},
        1,
        True,
        None,
        None,
        NOW,
        None,
    )
    return {"campaign": simple_campaign(PROMO), "promotion_tier": simple_promotion_tier(tier)}


PAYLOADS = {
    "plain": lambda: data({}),
    "notify_promotion": lambda: data(notify_extras()),
    "publish_unique_code": lambda: data(publish_extras()),
    "publish_with_referral_and_loyalty": lambda: data(
        publish_extras(), referral=True, loyalty=True
    ),
}

# What the faithful schema refuses: exactly the nulls Voucherify's own examples send
# (customer.email, event.referral/loyalty when absent, campaign category/dates,
# campaign.voucher.gift/loyalty_card, voucher dates).
CAMPAIGN_NULLS = ["category", "expiration_date", "start_date"]
CODE_CAMPAIGN_NULLS = [*CAMPAIGN_NULLS, "voucher/gift", "voucher/loyalty_card"]
LOYALTY_CAMPAIGN_NULLS = [*CAMPAIGN_NULLS, "voucher/gift"]
VOUCHER_NULLS = ["expiration_date", "start_date"]
FAITHFUL_VIOLATIONS = {
    "plain": ["data/customer/email", "data/event/loyalty", "data/event/referral"],
    "notify_promotion": ["data/campaign/" + n for n in CAMPAIGN_NULLS]
    + ["data/customer/email", "data/event/loyalty", "data/event/referral"],
    "publish_unique_code": ["data/campaign/" + n for n in CODE_CAMPAIGN_NULLS]
    + ["data/customer/email", "data/event/loyalty", "data/event/referral"]
    + ["data/voucher/" + n for n in VOUCHER_NULLS],
    "publish_with_referral_and_loyalty": ["data/campaign/" + n for n in CODE_CAMPAIGN_NULLS]
    + ["data/customer/email"]
    + ["data/loyalty/campaign/" + n for n in LOYALTY_CAMPAIGN_NULLS]
    + ["data/loyalty/voucher/" + n for n in VOUCHER_NULLS]
    + ["data/referral/campaign/" + n for n in CODE_CAMPAIGN_NULLS]
    + ["data/referral/referrer/email"]
    + ["data/referral/voucher/" + n for n in VOUCHER_NULLS]
    + ["data/voucher/" + n for n in VOUCHER_NULLS],
}


def load(spec_dir: Path, name: str) -> dict[str, Any]:
    schema = json.loads((spec_dir / name).read_text())
    return {**schema, "$ref": "#/$defs/CustomerCustomEventWebhook"}


@pytest.mark.parametrize("purpose", list(PAYLOADS))
def test_lenient_schema_accepts_every_purpose(spec_dir: Path, purpose: str) -> None:
    jsonschema.validate(
        PAYLOADS[purpose](), load(spec_dir, "custom_event_webhook.lenient.schema.json")
    )


@pytest.mark.parametrize("purpose", list(PAYLOADS))
def test_faithful_schema_only_objects_to_voucherifys_own_nulls(
    spec_dir: Path, purpose: str
) -> None:
    validator = jsonschema.Draft202012Validator(load(spec_dir, "custom_event_webhook.schema.json"))
    errors = sorted(
        "/".join(str(p) for p in e.absolute_path)
        for e in validator.iter_errors(PAYLOADS[purpose]())
    )
    assert errors == sorted(FAITHFUL_VIOLATIONS[purpose])


def test_publish_payload_has_the_documented_keys_in_order(spec_dir: Path) -> None:
    documented = json.loads((spec_dir / "examples" / "send_publish_data.json").read_text())
    built = PAYLOADS["publish_unique_code"]()["data"]
    assert list(built) == list(documented)
    for key in ("campaign", "voucher", "publication"):
        assert set(built[key]) <= set(documented[key]) | {"loyalty_card"}, key
    assert list(built["publication"]) == list(documented["publication"])


def test_notify_payload_has_the_documented_keys(spec_dir: Path) -> None:
    documented = json.loads((spec_dir / "examples" / "notify_promotion_data.json").read_text())
    built = PAYLOADS["notify_promotion"]()["data"]
    assert list(built) == list(documented)
    assert built["promotion_tier"] == {
        **documented["promotion_tier"],
        "campaign": {"id": PROMO.id},
    }
