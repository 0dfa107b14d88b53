"""Factories for the promotion tests: campaigns (coupons, promotions, referral and loyalty
programs), publications, distributions with a purpose, events."""

from __future__ import annotations

from typing import Any

import httpx

from conftest import unique


def ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


def coupons(
    api: httpx.Client, count: int, *, kind: str = "STATIC", join_once: bool = False, **extra: Any
) -> dict[str, Any]:
    body = {
        "name": unique("coupons"),
        "campaign_type": "DISCOUNT_COUPONS",
        "type": kind,
        "join_once": join_once,
        "vouchers_count": count,
        "voucher": {
            "type": "DISCOUNT_VOUCHER",
            "discount": {"type": "PERCENT", "percent_off": 10, "effect": "APPLY_TO_ORDER"},
            "code_config": {"pattern": "WELCOME-########"},
        },
        **extra,
    }
    return dict(ok(api.post("/v1/campaigns", json=body)))


def loyalty(api: httpx.Client, *, points: int = 0, count: int = 1) -> dict[str, Any]:
    """A LOYALTY_PROGRAM campaign of ``count`` cards, each starting with ``points``."""
    body = {
        "name": unique("loyalty"),
        "campaign_type": "LOYALTY_PROGRAM",
        "vouchers_count": count,
        "voucher": {"type": "LOYALTY_CARD", "loyalty_card": {"points": points}},
    }
    return dict(ok(api.post("/v1/campaigns", json=body)))


def fixed_rule(api: httpx.Client, campaign_id: str, event: str, points: int) -> dict[str, Any]:
    """A FIXED earning rule: ``points`` for every ``event`` on a card of the campaign."""
    rule = {"event": event, "loyalty": {"type": "FIXED", "points": points}}
    [created] = ok(api.post(f"/v1/loyalties/{campaign_id}/earning-rules", json=[rule]))
    return dict(created)


def promotion(api: httpx.Client) -> tuple[dict[str, Any], dict[str, Any]]:
    campaign = ok(
        api.post(
            "/v1/campaigns",
            json={
                "name": unique("promo"),
                "campaign_type": "PROMOTION",
                "promotion": {"tiers": [{"name": "10% off", "banner": "Get 10% off"}]},
            },
        )
    )
    return campaign, campaign["promotion"]["tiers"][0]


def distribution(api: httpx.Client, event: str, url: str, action: dict[str, Any]) -> dict[str, Any]:
    body = {
        "name": unique("distribution"),
        "trigger": {"type": "customer.custom_event", "event": event},
        "action": action,
        "channels": [{"type": "webhook", "event_name": "promo", "url": url}],
    }
    return dict(ok(api.post("/v1/distributions", json=body)))


def track(api: httpx.Client, event: str, source_id: str, **extra: Any) -> dict[str, Any]:
    return dict(
        ok(
            api.post(
                "/v1/events", json={"event": event, "customer": {"source_id": source_id}, **extra}
            )
        )
    )


def referral_program(api: httpx.Client, event: str, reward: str | None = None) -> dict[str, Any]:
    program: dict[str, Any] = {
        "conversion_event_type": "custom_event",
        "custom_event": {"name": event},
    }
    if reward is not None:
        program["referee_reward"] = {"related_object_parent": {"id": reward}}
    body = {
        "name": unique("referral"),
        "campaign_type": "REFERRAL_PROGRAM",
        "vouchers_count": 2,
        "referral_program": program,
        "voucher": {"discount": {"type": "AMOUNT", "amount_off": 1000}},
    }
    return dict(ok(api.post("/v1/campaigns", json=body)))


def publish(api: httpx.Client, campaign: str, source_id: str) -> dict[str, Any]:
    body = {"campaign": {"name": campaign, "count": 1}, "customer": {"source_id": source_id}}
    return dict(ok(api.post("/v1/publications", json=body)))


def loyalty_program(api: httpx.Client, event: str) -> dict[str, Any]:
    campaign = loyalty(api, points=5, count=2)
    rules = [
        {"event": event, "loyalty": {"type": "FIXED", "points": 10}},
        {
            "event": event,
            "loyalty": {
                "type": "PROPORTIONAL",
                "calculation_type": "CUSTOM_EVENT_METADATA",
                "custom_event": {"metadata": {"every": 10, "points": 3, "property": "amount"}},
            },
        },
    ]
    created = ok(api.post(f"/v1/loyalties/{campaign['id']}/earning-rules", json=rules))
    assert [r["object"] for r in created] == ["earning_rule", "earning_rule"]
    return dict(campaign)
