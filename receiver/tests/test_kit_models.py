"""parse() and parse_data(): every shared example, nothing dropped, the nulls Voucherify
sends, unknown keys kept, the spec's fields all modelled, and clear errors for a bad body."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from kit_support import SHARED_EXAMPLES, SHARED_SPEC, example_files, load, need
from sendout_receiver import (
    CustomerCustomEventData,
    CustomerCustomEventWebhook,
    InvalidPayload,
    ReceiverError,
    parse,
    parse_data,
)
from sendout_receiver import models as m

EXAMPLES = example_files()


def _model_of(path: Path) -> type[BaseModel]:
    if path.name.endswith("_webhook.json"):
        return CustomerCustomEventWebhook
    if path.name.endswith("_data.json"):
        return CustomerCustomEventData
    raise AssertionError(f"{path.name}: neither *_webhook.json nor *_data.json, parse which way?")


@pytest.mark.parametrize("path", EXAMPLES or [None], ids=lambda p: p.name if p else "missing")
def test_every_shared_example_parses_and_dumps_back_unchanged(path: Path | None) -> None:
    need(path is not None, f"{SHARED_EXAMPLES} is not there (the shared spec folder)")
    assert path is not None
    original = load(path)
    model = _model_of(path)
    parsed = (
        parse(path.read_bytes()) if model is CustomerCustomEventWebhook else parse_data(original)
    )
    assert isinstance(parsed, model)
    assert parsed.model_dump(mode="json", exclude_unset=True) == original


def test_the_examples_cover_every_purpose() -> None:
    need(bool(EXAMPLES), f"{SHARED_EXAMPLES} is not there (the shared spec folder)")
    keys = {k for p in EXAMPLES for k in load(p).get("data", load(p))}
    assert {"campaign", "promotion_tier", "voucher", "publication"} <= keys


def _envelope(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "whs_1",
        "project_id": "proj_1",
        "created_at": "2024-03-14T11:47:24.700Z",
        "type": "welcome",
        "data": data,
        "source": {"id": "distr_1", "object": "distribution", "target_url": "https://x.test/h"},
        "event": {
            "id": "evcus_1",
            "type": "customer.custom_event",
            "created_at": "2024-03-14T11:47:24.598Z",
            "group_id": "v-1",
            "event_source": {"channel": "API", "api_key": {"name": "default", "app_id": "a"}},
        },
    }


CORE = {
    "event": {"id": "event_1", "object": "event", "type": "sign_up", "customer": {"id": "c"},
              "referral": None, "loyalty": None, "metadata": {}, "created_at": None},
    "event_schema": {"id": "ms_1", "name": "sign_up"},
    "customer": {"id": "c", "name": None, "email": None, "source_id": None, "metadata": None,
                 "object": "customer"},
    "referral": None,
    "loyalty": None,
}  # fmt: skip


def test_typed_access_to_a_whole_webhook() -> None:
    webhook = parse(json.dumps(_envelope(CORE)))
    assert webhook.id == "whs_1" and webhook.type == "welcome"
    assert webhook.created_at.year == 2024 and webhook.created_at.utcoffset() is not None
    assert webhook.data.event.type == "sign_up"
    assert webhook.data.customer.email is None
    assert webhook.source.id == "distr_1"
    assert webhook.event.event_source is not None
    assert webhook.event.event_source.api_key is not None
    assert webhook.event.event_source.api_key.app_id == "a"
    assert webhook.data.campaign is None and webhook.data.publication is None


def test_unknown_keys_are_kept_at_every_level_and_dumped_again() -> None:
    body = _envelope(copy.deepcopy(CORE))
    body["livemode"] = False
    body["data"]["event"]["customer"]["segment"] = "gold"
    body["data"]["score"] = 7
    webhook = parse(body)
    assert webhook.model_extra == {"livemode": False}
    assert webhook.data.model_extra == {"score": 7}
    assert webhook.data.event.customer.model_extra == {"segment": "gold"}
    assert webhook.model_dump(mode="json", exclude_unset=True) == body


def test_nulls_in_fields_the_spec_does_not_mark_nullable_are_accepted() -> None:
    campaign = {"id": "camp_1", "category": None, "start_date": None, "expiration_date": None,
                "voucher": {"type": "DISCOUNT_VOUCHER", "gift": None, "loyalty_card": None,
                            "redemption": {"quantity": None, "redeemed_quantity": 0},
                            "code_config": {"pattern": "###"}}}  # fmt: skip
    voucher = {"code": "A-1", "start_date": None, "expiration_date": None, "category_id": None}
    data = {**CORE, "campaign": campaign, "voucher": voucher}
    parsed = parse_data(data)
    assert parsed.campaign is not None and parsed.campaign.voucher is not None
    assert parsed.campaign.voucher.redemption is not None
    assert parsed.campaign.voucher.redemption.quantity is None
    assert parsed.voucher is not None and parsed.voucher.code == "A-1"


def test_not_json_is_an_invalid_payload() -> None:
    with pytest.raises(InvalidPayload) as raised:
        parse(b"{not json")
    assert isinstance(raised.value, ReceiverError)
    assert not isinstance(raised.value, ValidationError)
    assert raised.value.errors[0]["type"] == "json_invalid"


def test_a_missing_field_is_named_in_the_error() -> None:
    body = _envelope(copy.deepcopy(CORE))
    del body["data"]["event"]["type"]
    with pytest.raises(InvalidPayload, match=r"data\.event\.type: Field required"):
        parse(body)


def test_many_errors_are_summarised() -> None:
    with pytest.raises(InvalidPayload, match=r"and \d+ more") as raised:
        parse(b"{}")
    assert len(raised.value.errors) == 7  # the seven envelope keys


def test_a_json_array_is_an_invalid_payload() -> None:
    with pytest.raises(InvalidPayload, match=r"not a customer\.custom_event webhook"):
        parse("[]")


def _props(schema: dict[str, Any], name: str) -> dict[str, Any]:
    definition = schema["$defs"][name]
    props = dict(definition.get("properties", {}))
    for part in definition.get("allOf", []):
        if "$ref" in part:
            props.update(_props(schema, part["$ref"].rsplit("/", 1)[1]))
        props.update(part.get("properties", {}))
    return props


SCHEMA_MODELS: dict[str, type[BaseModel]] = {
    "WebhookDistributionPayload": m.CustomerCustomEventWebhook,
    "EventCustomerCustomEvent": m.CustomerCustomEventData,
    "EventDistributionScenariosPromotionSendCode": m.CustomerCustomEventData,
    "EventSource": m.EventSource,
    "CustomEvent": m.CustomEvent,
    "SimpleCustomEvent": m.SimpleCustomEvent,
    "SimpleCustomer": m.SimpleCustomer,
    "SimpleCustomerRequiredObjectType": m.EventCustomer,
    "SimpleVoucher": m.SimpleVoucher,
    "SimpleCampaign": m.SimpleCampaign,
    "SimpleCampaignVoucher": m.CampaignVoucher,
    "ReferralProgram": m.ReferralProgram,
    "PublicationsDistributionItemBase": m.Publication,
    "CustomerWithSummaryLoyaltyReferrals": m.PublicationCustomer,
    "SimplePromotionTier": m.SimplePromotionTier,
    "SimplePromotionTierCampaign": m.PromotionTierCampaign,
    "Gift": m.Gift,
    "SimpleLoyaltyCard": m.LoyaltyCard,
    "CampaignLoyaltyCard": m.LoyaltyCard,
    "CodeConfig": m.CodeConfig,
    "DiscountAmount": m.Discount,
    "DiscountPercent": m.Discount,
    "DiscountFixed": m.Discount,
    "DiscountUnit": m.Discount,
    "DiscountUnitMultiple": m.Discount,
}


def test_every_field_of_the_spec_schema_is_a_typed_field() -> None:
    path = SHARED_SPEC / "custom_event_webhook.schema.json"
    need(path.is_file(), f"{path} is not there (the shared spec folder)")
    schema = json.loads(path.read_text())
    for name, model in SCHEMA_MODELS.items():
        missing = set(_props(schema, name)) - set(model.model_fields)
        assert not missing, f"{model.__name__} lacks {sorted(missing)} of {name}"
    core = _props(schema, "EventCustomerCustomEvent")
    assert set(core["referral"]["properties"]) <= set(m.Referral.model_fields)
    assert set(core["loyalty"]["properties"]) <= set(m.Loyalty.model_fields)
    event = _props(schema, "CustomEvent")
    assert set(event["referral"]["properties"]) <= set(m.EventReferral.model_fields)
    assert set(event["loyalty"]["properties"]) <= set(m.EventLoyalty.model_fields)
