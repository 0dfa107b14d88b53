"""Factories for the promotion tests: campaigns, distributions with a purpose, events."""

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
