"""The payload builder against the JSON Schemas extracted from Voucherify's spec."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema

from sendout.payloads.custom_event import build_data, build_envelope
from sendout.records import Customer, Event, EventSchema


def sample() -> dict[str, Any]:
    customer = Customer(
        "cust_154FDQKcbzygdo231M62r4CD",
        "proj_x",
        "4lx-d03",
        "Alex Doe",
        None,
        None,
        None,
        None,
        None,
        {"region": "EMEA"},
        "2024-03-14T11:47:24.598Z",
        None,
    )
    event = Event(
        "event_0e70ee5acd8b2555ce",
        "proj_x",
        "sign_up",
        customer.id,
        "ms_f1r5Tcu5T0m3v3nT5ch3ma",
        {"source": "API"},
        None,
        None,
        "v-0e70ee5acd8b2555aa",
        "2024-03-14T11:47:24.598Z",
    )
    schema = EventSchema(
        "ms_f1r5Tcu5T0m3v3nT5ch3ma", "proj_x", "sign_up", {}, "2024-01-01T00:00:00.000Z", None
    )
    data = build_data(event, schema, customer)
    return build_envelope(
        delivery_id="whs_0e16e42bc6e0c65b57",
        project_id="proj_5T4Rpl4T1nuM",
        created_at="2024-03-14T11:47:24.700Z",
        event_name="sign-up-webhook",
        data=data,
        distribution_id="distr_TrJj0lHV44EMt6HvLa2pyNlHTF",
        target_url="https://example.org/hooks/voucherify",
        activity_id="evcus_0e70ee5acd8b2555cf",
        event=event,
        event_source={"channel": "API"},
    )


def test_matches_the_documented_example(spec_dir: Path) -> None:
    """Same keys and values as the spec's whole-webhook example, plus ``event.customer.object``."""
    documented = json.loads((spec_dir / "examples" / "seed_whole_webhook.json").read_text())
    built = sample()
    documented["data"]["event"]["customer"]["object"] = "customer"
    assert built == documented


def test_lenient_schema_accepts_it(spec_dir: Path) -> None:
    schema = json.loads((spec_dir / "custom_event_webhook.lenient.schema.json").read_text())
    jsonschema.validate(sample(), {**schema, "$ref": "#/$defs/CustomerCustomEventWebhook"})


def test_faithful_schema_only_objects_to_voucherifys_own_nulls(spec_dir: Path) -> None:
    schema = json.loads((spec_dir / "custom_event_webhook.schema.json").read_text())
    validator = jsonschema.Draft202012Validator(
        {**schema, "$ref": "#/$defs/CustomerCustomEventWebhook"}
    )
    errors = sorted(
        "/".join(str(p) for p in e.absolute_path) for e in validator.iter_errors(sample())
    )
    # The documented example sends these as null; the faithful schema does not allow it.
    assert errors == ["data/customer/email", "data/event/loyalty", "data/event/referral"]
