"""Real deliveries of every purpose, from a running server to a loopback receiver, checked with
the receiver kit (``sendout_receiver``) as a user would: both signature schemes, typed models,
and nothing in the body dropped or reshaped by the models."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sendout_receiver import (
    CustomerCustomEventData,
    CustomerCustomEventWebhook,
    InvalidSignature,
    verify_and_parse,
)

from conftest import unique
from support.promotions import (
    coupons,
    distribution,
    loyalty_program,
    ok,
    promotion,
    publish,
    referral_program,
    track,
)
from support.receiver import Received, Receiver
from support.server import WEBHOOK_SECRET, ServerProcess

OTHER_SECRET = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"


def checked(received: Received, secret: str = WEBHOOK_SECRET) -> CustomerCustomEventWebhook:
    """The webhook through both of the kit's checks; the models give back the exact body."""
    webhook = verify_and_parse(received.body, received.headers, secret)
    voucherify_only = {"x-voucherify-signature": received.headers["x-voucherify-signature"]}
    again = verify_and_parse(received.body, voucherify_only, secret, scheme="voucherify")
    assert again == webhook
    with pytest.raises(InvalidSignature):
        verify_and_parse(received.body, received.headers, OTHER_SECRET)
    assert webhook.model_dump(mode="json", exclude_unset=True) == json.loads(received.body)
    assert webhook.id == received.headers["webhook-id"]
    return webhook


@dataclass
class Purpose:
    """A distribution's action, what the event carries, and what its webhook must hold."""

    action: dict[str, Any]
    check: Callable[[CustomerCustomEventData], None]
    track: dict[str, Any] = field(default_factory=dict)
    source_id: str = field(default_factory=lambda: unique("c"))


def plain_message(api: httpx.Client, event: str) -> Purpose:
    def check(data: CustomerCustomEventData) -> None:
        assert data.referral is None and data.loyalty is None
        assert (data.campaign, data.voucher, data.publication, data.promotion_tier) == (None,) * 4

    return Purpose({"type": "plain_message"}, check)


def notify_promotion(api: httpx.Client, event: str) -> Purpose:
    campaign, tier = promotion(api)

    def check(data: CustomerCustomEventData) -> None:
        assert data.campaign is not None and data.campaign.id == campaign["id"]
        assert data.campaign.campaign_type == "PROMOTION"
        assert data.promotion_tier is not None and data.promotion_tier.id == tier["id"]
        assert data.promotion_tier.banner == "Get 10% off"
        assert data.promotion_tier.campaign is not None
        assert data.promotion_tier.campaign.id == campaign["id"]

    action = {"type": "notify_promotion", "campaign_id": campaign["id"]}
    return Purpose({**action, "promotion_tier_id": tier["id"]}, check)


def publish_unique_code(api: httpx.Client, event: str) -> Purpose:
    campaign = coupons(api, 1)

    def check(data: CustomerCustomEventData) -> None:
        assert data.campaign is not None and data.campaign.id == campaign["id"]
        assert data.campaign.voucher is not None and data.campaign.voucher.code_config is not None
        voucher, publication = data.voucher, data.publication
        assert voucher is not None and voucher.code.startswith("WELCOME-")
        assert voucher.holder_id == data.customer.id
        assert voucher.discount is not None and voucher.discount.percent_off == 10
        assert publication is not None and publication.vouchers_id == [voucher.id]
        assert publication.customer is not None
        assert publication.customer.source_id == data.customer.source_id

    return Purpose({"type": "publish_unique_code", "campaign_id": campaign["id"]}, check)


def referral(api: httpx.Client, event: str) -> Purpose:
    program = referral_program(api, event)
    code = publish(api, program["id"], unique("referrer"))["voucher"]

    def check(data: CustomerCustomEventData) -> None:
        assert data.event.referral is not None and data.event.referral.code == code["code"]
        assert data.referral is not None and data.referral.referrer is not None
        assert data.referral.referrer.id == code["holder_id"]
        assert data.referral.voucher is not None and data.referral.voucher.code == code["code"]
        assert data.referral.voucher.is_referral_code is True
        assert data.referral.campaign is not None and data.referral.campaign.id == program["id"]

    return Purpose({"type": "plain_message"}, check, {"referral": {"code": code["code"]}})


def loyalty(api: httpx.Client, event: str) -> Purpose:
    program = loyalty_program(api, event)
    holder = unique("member")
    card = publish(api, program["id"], holder)["voucher"]

    def check(data: CustomerCustomEventData) -> None:
        assert data.event.loyalty is not None and data.event.loyalty.code == card["code"]
        assert data.loyalty is not None and data.loyalty.voucher is not None
        assert data.loyalty.voucher.code == card["code"]
        assert data.loyalty.voucher.loyalty_card is not None
        assert data.loyalty.voucher.loyalty_card.points == 5 + 10 + 6  # start, fixed, 3 per 10
        assert data.loyalty.campaign is not None and data.loyalty.campaign.id == program["id"]

    extras = {"loyalty": {"code": card["code"]}, "metadata": {"amount": 25}}
    return Purpose({"type": "plain_message"}, check, extras, holder)


PURPOSES = [plain_message, notify_promotion, publish_unique_code, referral, loyalty]


@pytest.mark.parametrize("purpose", PURPOSES, ids=lambda p: p.__name__)
def test_a_real_delivery_of_every_purpose_verifies_and_parses(
    api: httpx.Client,
    receiver: Receiver,
    make_schema: Callable[..., dict[str, Any]],
    purpose: Callable[[httpx.Client, str], Purpose],
) -> None:
    event = make_schema({"amount": {"type": "number", "optional": True}})["name"]
    made = purpose(api, event)
    path = "/" + unique("kit")
    dist = distribution(api, event, receiver.url(path), made.action)
    tracked = track(api, event, made.source_id, **made.track)
    [received] = receiver.wait_for(path, 1)
    webhook = checked(received)
    assert webhook.type == "promo" and webhook.source.id == dist["id"]
    assert webhook.event.type == "customer.custom_event"
    assert webhook.data.event.id == tracked["id"] and webhook.data.event.type == event
    assert webhook.data.customer.source_id == made.source_id
    made.check(webhook.data)


def test_during_a_rotation_the_kit_accepts_the_old_and_the_new_secret(
    server: ServerProcess, mgmt: httpx.Client, receiver: Receiver
) -> None:
    created = ok(mgmt.post("/management/v1/projects", json={"name": unique("kit-rotation")}))
    creds = created["credentials"]
    own = httpx.Client(
        base_url=server.base_url,
        headers={"X-App-Id": creds["app_id"], "X-App-Token": creds["app_token"]},
    )
    event = unique("ev")
    schemas = f"/management/v1/projects/{created['id']}/custom-event-schemas"
    ok(mgmt.post(schemas, json={"name": event, "schema": {"properties": {}}}))
    path = "/" + unique("kit-rot")
    distribution(own, event, receiver.url(path), {"type": "plain_message"})
    rotate = f"/management/v1/projects/{created['id']}/webhook-secret/rotate"
    new_secret = ok(mgmt.post(rotate))["webhook_secret"]
    track(own, event, "x")
    [received] = receiver.wait_for(path, 1)
    own.close()
    # Standard Webhooks: both signatures ride along, so either secret verifies.
    verify_and_parse(received.body, received.headers, creds["webhook_secret"])  # not yet updated
    assert verify_and_parse(received.body, received.headers, new_secret).project_id == created["id"]
    # x-voucherify-signature keeps its own secret through a webhook-secret rotation.
    voucherify_only = {"x-voucherify-signature": received.headers["x-voucherify-signature"]}
    verify_and_parse(
        received.body, voucherify_only, creds["voucherify_secret"], scheme="voucherify"
    )
    with pytest.raises(InvalidSignature):
        verify_and_parse(received.body, voucherify_only, new_secret, scheme="voucherify")
