"""The payload designer: what is refused at save, and what each mode renders from ``data``."""

from __future__ import annotations

from typing import Any

import pytest

from sendout.errors import InvalidInput
from sendout.payloads.designer import MAX_TEMPLATE_DEPTH, check_payload, render, roots_for

DATA: dict[str, Any] = {
    "event": {"id": "event_1", "type": "sign_up", "metadata": {"plan": "pro", "seats": 3}},
    "event_schema": {"id": "ms_1", "name": "sign_up"},
    "customer": {"id": "cust_1", "source_id": "alex", "name": None, "metadata": {"tags": ["a"]}},
    "referral": None,
    "loyalty": None,
}


def designed(raw: dict[str, Any], purpose: str = "plain_message") -> Any:
    checked = check_payload(raw, purpose, "channels[0]")
    assert checked is not None
    return render(checked, DATA)


def test_the_default_mode_is_stored_as_no_design() -> None:
    assert check_payload(None, "plain_message", "c") is None
    assert check_payload({"mode": "default"}, "plain_message", "c") is None


def test_fields_pick_and_rename_with_nested_targets_and_types_kept() -> None:
    got = designed(
        {
            "mode": "fields",
            "fields": {
                "customer.source_id": "user.id",
                "event.metadata.plan": "plan",
                "event.metadata.seats": "user.seats",
                "customer.metadata.tags.0": "first_tag",
                "event.metadata.missing": "nothing",
            },
        }
    )
    assert got == {
        "user": {"id": "alex", "seats": 3},
        "plan": "pro",
        "first_tag": "a",
        "nothing": None,
    }


def test_a_custom_template_keeps_types_fills_strings_and_nests_dotted_keys() -> None:
    got = designed(
        {
            "mode": "custom",
            "template": {
                "who": "{{customer.source_id}}",
                "seats": "{{ event.metadata.seats }}",
                "text": "{{customer.source_id}} took {{event.metadata.plan}} ({{event.metadata.seats}})",
                "absent": "{{customer.name}}",
                "gap": "[{{customer.name}}]",
                "user.meta.tags": "{{customer.metadata.tags}}",
                "list": ["{{event.id}}", 1, True, None],
                "fixed": {"n": 1},
            },
        }
    )
    assert got == {
        "who": "alex",
        "seats": 3,
        "text": "alex took pro (3)",
        "absent": None,
        "gap": "[]",
        "user": {"meta": {"tags": ["a"]}},
        "list": ["event_1", 1, True, None],
        "fixed": {"n": 1},
    }


def test_raw_is_kept_for_the_pipeline_to_send_the_template_as_the_whole_body() -> None:
    checked = check_payload(
        {"mode": "custom", "template": {"id": "{{event.id}}"}, "raw": True}, "plain_message", "c"
    )
    assert checked == {"mode": "custom", "template": {"id": "{{event.id}}"}, "raw": True}


def test_each_purpose_offers_its_own_roots() -> None:
    assert "voucher" not in roots_for("plain_message")
    assert {"campaign", "promotion_tier"} <= set(roots_for("notify_promotion"))
    assert {"campaign", "voucher", "publication"} <= set(roots_for("publish_unique_code"))
    template = {"mode": "custom", "template": {"code": "{{voucher.code}}"}}
    assert check_payload(template, "publish_unique_code", "c") is not None
    with pytest.raises(InvalidInput) as refused:
        check_payload(template, "plain_message", "channels[0]")
    assert "unknown path 'voucher.code'" in refused.value.details
    assert "event, event_schema, customer, referral, loyalty" in refused.value.details


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ({"mode": "pretty"}, "mode must be"),
        ("fields", "mode must be"),
        ({"mode": "fields"}, "fields must map"),
        ({"mode": "fields", "fields": {"order.id": "id"}}, "unknown path 'order.id'"),
        ({"mode": "fields", "fields": {"event.id": 5}}, "must be a dotted name"),
        ({"mode": "fields", "fields": {"event.id": "a", "event.type": "a.b"}}, "overlap"),
        (
            {
                "mode": "fields",
                "fields": {"event.id": "a", "event.type": "a-x", "customer.id": "a.b"},
            },
            "overlap",
        ),
        ({"mode": "custom", "template": {"a": 1, "a.b": "{{event.id}}"}}, "overlap"),
        ({"mode": "default", "fields": {}}, "takes no 'fields'"),
        ({"mode": "custom", "template": []}, "template must be"),
        ({"mode": "custom", "template": {}}, "template must be"),
        ({"mode": "custom", "template": {"a": "{{order.total}}"}}, "unknown path"),
        ({"mode": "custom", "template": {"a": 1}, "raw": "yes"}, "raw must be"),
        ({"mode": "custom", "template": {"a..b": 1}}, "empty part"),
        ({"mode": "custom", "template": {"a": "x" * 20_000}}, "at most 16384 bytes"),
    ],
)
def test_a_payload_sendout_does_not_take_is_refused(raw: Any, words: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_payload(raw, "plain_message", "channels[0]")
    assert refused.value.key == "invalid_payload_template"
    assert words in refused.value.details and "channels[0].payload" in refused.value.details


def test_a_template_nested_too_deep_is_refused() -> None:
    deep: Any = "{{event.id}}"
    for _ in range(MAX_TEMPLATE_DEPTH):
        deep = {"k": deep}
    with pytest.raises(InvalidInput) as refused:
        check_payload({"mode": "custom", "template": deep}, "plain_message", "c")
    assert "nest" in refused.value.details


def test_a_list_index_that_is_not_an_ascii_number_finds_nothing() -> None:
    got = designed({"mode": "custom", "template": {"x": "{{customer.metadata.tags.\u00b2}}"}})
    assert got == {"x": None}
