"""Every response shape of every route sendout shares with Voucherify, as a live server answers
it on each backend, parses with the official SDK's model for that route (and the promotion
objects of webhooks with the SDK's ``Simple*`` models)."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import voucherify

from conftest import unique
from support.promotions import coupons, distribution, ok
from support.receiver import Receiver

# (method, path as served with its parameters written {}, the SDK model of a 2xx body)
SHARED = [
    ("POST", "/v1/campaigns", "CampaignsCreateResponseBody"),
    ("GET", "/v1/campaigns", "CampaignsListResponseBody"),
    ("GET", "/v1/campaigns/{}", "CampaignsGetResponseBody"),
    ("PUT", "/v1/campaigns/{}", "CampaignsUpdateResponseBody"),
    ("DELETE", "/v1/campaigns/{}", "CampaignsDeleteResponseBody"),
    ("POST", "/v1/campaigns/{}/enable", None),
    ("POST", "/v1/campaigns/{}/disable", None),
    ("POST", "/v1/campaigns/{}/vouchers", "CampaignsVouchersCreateCombinedResponseBody"),
    ("POST", "/v1/campaigns/{}/vouchers/{}", "CampaignsVouchersCreateResponseBody"),
    ("GET", "/v1/async-actions", "AsyncActionsListResponseBody"),
    ("GET", "/v1/async-actions/{}", "AsyncActionGetResponseBody"),
    ("GET", "/v1/vouchers", "VouchersListResponseBody"),
    ("GET", "/v1/vouchers/{}", "VouchersGetResponseBody"),
    ("GET", "/v1/vouchers/{}/transactions", "VouchersTransactionsListResponseBody"),
    ("POST", "/v1/publications", "PublicationsCreateResponseBody"),
    ("GET", "/v1/publications", "PublicationsListResponseBody"),
    ("GET", "/v1/promotions/tiers", "PromotionsTiersListResponseBody"),
    ("GET", "/v1/promotions/{}/tiers", "PromotionsTiersListResponseBody"),
    ("POST", "/v1/promotions/{}/tiers", "PromotionsTiersCreateResponseBody"),
    ("GET", "/v1/promotions/tiers/{}", "PromotionsTiersGetResponseBody"),
    ("PUT", "/v1/promotions/tiers/{}", "PromotionsTiersUpdateResponseBody"),
    ("DELETE", "/v1/promotions/tiers/{}", None),
    ("POST", "/v1/promotions/tiers/{}/enable", "PromotionsTiersEnableResponseBody"),
    ("POST", "/v1/promotions/tiers/{}/disable", "PromotionsTiersDisableResponseBody"),
    ("POST", "/v1/loyalties/{}/earning-rules", "LoyaltiesEarningRulesCreateResponseBody"),
    ("GET", "/v1/loyalties/{}/earning-rules", "LoyaltiesEarningRulesListResponseBody"),
    ("GET", "/v1/loyalties/{}/earning-rules/{}", "LoyaltiesEarningRulesGetResponseBody"),
    ("DELETE", "/v1/loyalties/{}/earning-rules/{}", None),
    ("POST", "/v1/customers", "CustomersCreateResponseBody"),
    ("GET", "/v1/customers", "CustomersListResponseBody"),
    ("GET", "/v1/customers/{}", "CustomersGetResponseBody"),
    ("PUT", "/v1/customers/{}", "CustomersUpdateResponseBody"),
    ("DELETE", "/v1/customers/{}", None),
    ("POST", "/v1/events", "EventsCreateResponseBody"),
    ("GET", "/management/v1/projects", "ManagementProjectsListResponseBody"),
    ("GET", "/management/v1/projects/{}", "ManagementProjectsGetResponseBody"),
    (
        "POST",
        "/management/v1/projects/{}/custom-event-schemas",
        "ManagementProjectsCustomEventSchemasCreateResponseBody",
    ),
    (
        "GET",
        "/management/v1/projects/{}/custom-event-schemas",
        "ManagementProjectsCustomEventSchemasListResponseBody",
    ),
    (
        "GET",
        "/management/v1/projects/{}/custom-event-schemas/{}",
        "ManagementProjectsCustomEventSchemasGetResponseBody",
    ),
    (
        "PUT",
        "/management/v1/projects/{}/custom-event-schemas/{}",
        "ManagementProjectsCustomEventSchemasUpdateResponseBody",
    ),
    ("DELETE", "/management/v1/projects/{}/custom-event-schemas/{}", None),
]

# Routes Voucherify does not have (sendout's own), or that are not API resources.
OWN = {
    "/v1/events": {"GET"},
    "/v1/events/bulk": {"POST"},
    "/v1/distributions": {"GET", "POST"},
    "/v1/distributions/preview": {"POST"},
    "/v1/distributions/{}": {"GET", "PUT", "DELETE"},
    "/v1/distributions/{}/pause": {"POST"},
    "/v1/distributions/{}/resume": {"POST"},
    "/v1/distributions/{}/replay": {"POST"},
    "/v1/distributions/{}/preview": {"POST"},
    "/v1/distributions/simulate": {"POST"},
    "/v1/distributions/{}/simulate": {"POST"},
    "/v1/distributions/{}/stream": {"GET"},
    "/v1/deliveries": {"GET"},
    "/v1/deliveries/{}": {"GET"},
    "/v1/deliveries/{}/resend": {"POST"},
    "/v1/distribution-outcomes": {"GET"},
    "/v1/referral-conversions": {"GET"},
    "/management/v1/projects": {"POST"},  # sendout's answer carries the new keys and secret
    "/management/v1/projects/{}/webhook-secret/rotate": {"POST"},
    "/management/v1/projects/{}/voucherify-secret": {"PUT"},
    "/management/v1/projects/{}/voucherify-secret/stage": {"POST"},
    "/management/v1/projects/{}/voucherify-secret/switch": {"POST"},
    "/health": {"GET"},
    "/ready": {"GET"},
    "/metrics": {"GET"},
}

# The objects of a webhook's ``data`` (by distribution purpose) and the SDK model each one is.
WEBHOOK_OBJECTS = [
    ("plain", "customer", "SimpleCustomer"),
    ("plain", "referral.referrer", "SimpleCustomer"),
    ("plain", "referral.campaign", "SimpleCampaign"),
    ("plain", "referral.voucher", "SimpleVoucher"),
    ("plain", "loyalty.campaign", "SimpleCampaign"),
    ("plain", "loyalty.voucher", "SimpleVoucher"),
    ("coupon", "campaign", "SimpleCampaign"),
    ("coupon", "voucher", "SimpleVoucher"),
    ("promotion", "campaign", "SimpleCampaign"),
    ("promotion", "promotion_tier", "SimplePromotionTier"),
]

Answers = dict[tuple[str, str], list[Any]]


def _template(path: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", path)


class Recorder:
    """An API client that keeps every 2xx JSON body under its route's template."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client
        self.answers: Answers = defaultdict(list)

    def call(self, method: str, template: str, *args: str, **kwargs: Any) -> Any:
        response = self.client.request(method, template.format(*args), **kwargs)
        assert response.status_code < 300, (method, template, response.text)
        body = response.json() if response.content else None
        self.answers[(method, template)].append(body)
        return body


def _customers(api: Recorder) -> None:
    created = api.call("POST", "/v1/customers", json={"source_id": unique("shape"), "name": "A"})
    api.call("POST", "/v1/customers", json={"source_id": unique("shape")})  # no name, no email
    api.call("GET", "/v1/customers/{}", created["id"])
    api.call("PUT", "/v1/customers/{}", created["id"], json={"email": "a@example.com"})
    api.call("GET", "/v1/customers", params={"limit": 100})
    api.call("DELETE", "/v1/customers/{}", created["id"])


def _management(mgmt: Recorder) -> str:
    project_id = str(mgmt.call("GET", "/management/v1/projects")["data"][0]["id"])
    mgmt.call("GET", "/management/v1/projects/{}", project_id)
    schemas = "/management/v1/projects/{}/custom-event-schemas"
    properties = {"amount": {"type": "number", "optional": True}}
    body = {"name": unique("shape"), "schema": {"properties": properties}}
    schema = mgmt.call("POST", schemas, project_id, json=body)
    one = schemas + "/{}"
    mgmt.call("GET", schemas, project_id)
    mgmt.call("GET", one, project_id, schema["id"])
    mgmt.call("PUT", one, project_id, schema["id"], json={"schema": {"properties": properties}})
    spare = mgmt.call(
        "POST", schemas, project_id, json={"name": unique("shape"), "schema": {"properties": {}}}
    )
    mgmt.call("DELETE", one, project_id, spare["id"])
    return str(schema["name"])


def _coupons(api: Recorder) -> dict[str, Any]:
    body = {
        "name": unique("shape_coupons"),
        "campaign_type": "DISCOUNT_COUPONS",
        "vouchers_count": 3,
        "voucher": {"type": "DISCOUNT_VOUCHER", "discount": {"type": "PERCENT", "percent_off": 5}},
    }
    campaign: dict[str, Any] = api.call("POST", "/v1/campaigns", json=body)
    one = "/v1/campaigns/{}"
    api.call("GET", one, campaign["id"])
    api.call("GET", one, campaign["name"])
    api.call("PUT", one, campaign["id"], json={"description": "five off"})
    api.call("POST", one + "/disable", campaign["id"])
    api.call("POST", one + "/enable", campaign["id"])
    api.call("POST", one + "/vouchers", campaign["id"], params={"vouchers_count": 1})
    more = api.call("POST", one + "/vouchers", campaign["id"], params={"vouchers_count": 2})
    api.call("GET", "/v1/async-actions/{}", more["async_action_id"])  # enqueued, or done
    api.call("GET", "/v1/async-actions", params={"limit": 100})
    api.call("POST", one + "/vouchers/{}", campaign["id"], unique("SHAPE").upper())
    return campaign


def _referral(api: Recorder, event: str, reward: dict[str, Any]) -> dict[str, Any]:
    program = {
        "conversion_event_type": "custom_event",
        "custom_event": {"name": event},
        "referee_reward": {"related_object_parent": {"id": reward["name"]}},
    }
    body = {
        "name": unique("shape_referral"),
        "campaign_type": "REFERRAL_PROGRAM",
        "vouchers_count": 1,
        "referral_program": program,
    }
    campaign: dict[str, Any] = api.call("POST", "/v1/campaigns", json=body)
    api.call("GET", "/v1/campaigns/{}", campaign["id"])
    api.call("PUT", "/v1/campaigns/{}", campaign["id"], json={"referral_program": program})
    return campaign


def _loyalty(api: Recorder, event: str) -> dict[str, Any]:
    body = {
        "name": unique("shape_loyalty"),
        "campaign_type": "LOYALTY_PROGRAM",
        "vouchers_count": 1,
        "voucher": {"type": "LOYALTY_CARD", "loyalty_card": {"points": 5}},
    }
    campaign: dict[str, Any] = api.call("POST", "/v1/campaigns", json=body)
    rules = "/v1/loyalties/{}/earning-rules"
    rule = {"event": event, "loyalty": {"type": "FIXED", "points": 100}}
    [kept] = api.call("POST", rules, campaign["id"], json=[rule])
    [spare] = api.call("POST", rules, campaign["id"], json=[{**rule, "metadata": {"spare": 1}}])
    api.call("GET", rules, campaign["id"])
    api.call("GET", rules + "/{}", campaign["id"], kept["id"])
    api.call("DELETE", rules + "/{}", campaign["id"], spare["id"])
    api.call("GET", "/v1/campaigns/{}", campaign["id"])
    return campaign


def _tiers(api: Recorder) -> tuple[dict[str, Any], dict[str, Any]]:
    body = {
        "name": unique("shape_promo"),
        "campaign_type": "PROMOTION",
        "promotion": {"tiers": [{"name": "10% off", "banner": "Get 10% off"}]},
    }
    campaign = api.call("POST", "/v1/campaigns", json=body)
    api.call("GET", "/v1/campaigns/{}", campaign["id"])
    tier = campaign["promotion"]["tiers"][0]
    one = "/v1/promotions/tiers/{}"
    api.call("GET", "/v1/promotions/{}/tiers", campaign["id"])
    spare = api.call("POST", "/v1/promotions/{}/tiers", campaign["id"], json={"name": "20% off"})
    api.call("GET", one, tier["id"])
    api.call("PUT", one, tier["id"], json={"banner": "Now 10% off"})
    api.call("POST", one + "/disable", spare["id"])
    api.call("POST", one + "/enable", spare["id"])
    api.call("DELETE", one, spare["id"])
    api.call("GET", "/v1/promotions/tiers", params={"limit": 100})
    return campaign, tier


def _publish(api: Recorder, campaign: str, source_id: str, count: int = 1) -> Any:
    body = {"campaign": {"name": campaign, "count": count}, "customer": {"source_id": source_id}}
    return api.call("POST", "/v1/publications", json=body)


def _hooks(
    client: httpx.Client, receiver: Receiver, event: str, coupon: str, promo: tuple[str, str]
) -> dict[str, str]:
    paths = {name: "/" + unique(name) for name in ("plain", "coupon", "promotion")}
    actions = {
        "plain": {"type": "plain_message"},
        "coupon": {"type": "publish_unique_code", "campaign_id": coupon},
        "promotion": {
            "type": "notify_promotion",
            "campaign_id": promo[0],
            "promotion_tier_id": promo[1],
        },
    }
    for name, path in paths.items():
        distribution(client, event, receiver.url(path), actions[name])
    return paths


def _scenario(api: Recorder, mgmt: Recorder, receiver: Receiver) -> dict[str, Any]:
    _customers(api)
    event = _management(mgmt)
    reward = _coupons(api)
    pool = coupons(api.client, 2)  # what distributions publish from
    referral = _referral(api, event, reward)
    loyalty = _loyalty(api, event)
    promo, tier = _tiers(api)
    paths = _hooks(api.client, receiver, event, pool["id"], (promo["id"], tier["id"]))
    referrer, member = unique("referrer"), unique("member")
    code = _publish(api, referral["id"], referrer)["voucher"]["code"]
    card = _publish(api, loyalty["id"], member)["voucher"]["code"]
    _publish(api, reward["id"], unique("many"), count=2)
    body = {
        "event": event,
        "customer": {"source_id": member},
        "referral": {"code": code},
        "loyalty": {"code": card},
        "metadata": {"amount": 12},
    }
    api.call("POST", "/v1/events", json=body)
    api.call("GET", "/v1/customers/{}", member)
    api.call("GET", "/v1/customers/{}", referrer)
    api.call("GET", "/v1/vouchers", params={"limit": 100})
    api.call("GET", "/v1/vouchers", params={"campaign": loyalty["id"]})
    for voucher in (code, card):
        api.call("GET", "/v1/vouchers/{}", voucher)
    api.call("GET", "/v1/vouchers/{}/transactions", card)
    api.call("GET", "/v1/publications", params={"limit": 100})
    api.call("GET", "/v1/campaigns", params={"limit": 100})
    api.call("GET", "/v1/campaigns", params={"campaign_type": "REFERRAL_PROGRAM"})
    doomed = coupons(api.client, 1)
    api.call("DELETE", "/v1/campaigns/{}", doomed["id"])
    return {name: json.loads(receiver.wait_for(path, 1)[0].body) for name, path in paths.items()}


@pytest.fixture(scope="module")
def shapes(
    api: httpx.Client, mgmt: httpx.Client, receiver: Receiver
) -> tuple[Answers, dict[str, Any]]:
    app, management = Recorder(api), Recorder(mgmt)
    hooks = _scenario(app, management, receiver)
    return {**app.answers, **management.answers}, hooks


def _parse(model: str, body: Any) -> None:
    parse: Callable[[Any], Any] = getattr(voucherify, model).from_dict
    for item in body if isinstance(body, list) else [body]:
        assert parse(item) is not None
        assert getattr(voucherify, model).from_json(json.dumps(item)) is not None


@pytest.mark.parametrize(("method", "template", "model"), SHARED, ids=lambda v: str(v))
def test_every_answer_parses_with_the_sdk_model(
    shapes: tuple[Answers, dict[str, Any]], method: str, template: str, model: str | None
) -> None:
    answers = shapes[0].get((method, template))
    assert answers, f"the scenario never called {method} {template}"
    if model is None:
        return
    for body in answers:
        _parse(model, body)


def _at(data: dict[str, Any], dotted: str) -> Any:
    value: Any = data
    for key in dotted.split("."):
        value = value[key]
    return value


@pytest.mark.parametrize(("hook", "where", "model"), WEBHOOK_OBJECTS, ids=lambda v: str(v))
def test_webhook_objects_parse_with_the_sdk_models(
    shapes: tuple[Answers, dict[str, Any]], hook: str, where: str, model: str
) -> None:
    _parse(model, _at(shapes[1][hook]["data"], where))


def test_every_shared_route_is_in_the_table(server_openapi: dict[str, Any]) -> None:
    served = {
        (method.upper(), _template(path))
        for path, item in server_openapi["paths"].items()
        for method in item
    }
    own = {(m, p) for p, methods in OWN.items() for m in methods}
    assert served - own == {(m, p) for m, p, _ in SHARED}


@pytest.fixture(scope="module")
def server_openapi(api: httpx.Client) -> dict[str, Any]:
    return dict(ok(api.get("/openapi.json")))


def test_a_referee_reward_is_named_by_id_and_name(shapes: tuple[Answers, dict[str, Any]]) -> None:
    referrals = [
        c for c in shapes[0][("POST", "/v1/campaigns")] if c["campaign_type"] == "REFERRAL_PROGRAM"
    ]
    rewards = {c["name"]: c["id"] for c in shapes[0][("POST", "/v1/campaigns")]}
    for campaign in referrals:
        reward = campaign["referral_program"]["referee_reward"]
        parent = reward["related_object_parent"]
        assert parent == {
            "id": rewards[parent["name"]],
            "name": parent["name"],
            "object": "CAMPAIGN",
        }
        assert "type" not in reward  # a discount coupon reward: Voucherify's type is for cards
