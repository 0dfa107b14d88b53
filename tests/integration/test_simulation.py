"""Simulating a distribution over stored events, over HTTP on both backends: the counts, that
nothing is written, the refusals, and that the counts equal what live tracking then does for
the same events (sends, outcomes, codes)."""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from conftest import unique
from support.promotions import coupons, ok, promotion
from support.receiver import Receiver

PRO = {"event.metadata.plan": {"conditions": {"$is": ["pro"]}}}
# Who tracks what, in order: (customer, plan). a: pro 3 times, b: free twice, c: pro, d: pro twice.
EVENTS = [("a", "pro"), ("b", "free"), ("a", "pro"), ("c", "pro"), ("b", "free")]
EVENTS += [("a", "pro"), ("d", "pro"), ("d", "pro")]


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def body(event: str, url: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": unique("simulated"),
        "trigger": {"type": "customer.custom_event", "event": event},
        "action": {"type": "plain_message"},
        "channels": [{"type": "webhook", "event_name": "hook", "url": url}],
        **extra,
    }


def track_all(api: httpx.Client, event: str, prefix: str) -> tuple[str, str]:
    """Track ``EVENTS`` for customers named ``prefix-<who>``; the range that holds them."""
    time.sleep(0.003)  # ranges of two calls never share a millisecond
    since = datetime.now(UTC)
    for who, plan in EVENTS:
        ok(
            api.post(
                "/v1/events",
                json={
                    "event": event,
                    "customer": {"source_id": f"{prefix}-{who}"},
                    "metadata": {"plan": plan},
                },
            )
        )
    return iso(since), iso(datetime.now(UTC) + timedelta(milliseconds=1))


def simulate(api: httpx.Client, path: str, **sent: Any) -> dict[str, Any]:
    return dict(ok(api.post(f"/v1/distributions{path}", json=sent)))


def written(api: httpx.Client) -> list[int]:
    """How many distributions, deliveries and outcomes the project holds."""
    paths = ("/v1/distributions", "/v1/deliveries", "/v1/distribution-outcomes")
    return [ok(api.get(path, params={"limit": 1}))["total"] for path in paths]


def live(api: httpx.Client, distribution_id: str) -> dict[str, Any]:
    """What tracking did for a distribution: its deliveries and its outcomes by result."""
    params = {"distribution_id": distribution_id, "limit": 100}
    deliveries = ok(api.get("/v1/deliveries", params=params))["total"]
    outcomes = ok(api.get("/v1/distribution-outcomes", params=params))["outcomes"]
    return {"sent": deliveries, "skipped": dict(Counter(o["result"] for o in outcomes))}


def test_conditions_and_reentry_are_counted_in_order_and_nothing_is_written(
    api: httpx.Client, make_schema
) -> None:
    schema = make_schema({"plan": {"type": "string"}})
    since, until = track_all(api, schema["name"], unique("sim"))
    before = written(api)
    sent = body(
        schema["name"],
        "https://example.com/h",
        conditions=PRO,
        reentry={"mode": "once_per_customer"},
    )

    answer = simulate(api, "/simulate", distribution=sent, since=since, until=until)

    assert answer == {
        "object": "distribution_simulation",
        "distribution_id": None,
        "event": schema["name"],
        "since": since,
        "until": until,
        "events": 8,
        "would_send": 3,  # a, c, d once each
        "skipped": {"conditions_not_met": 2, "reentry_limit": 3},
        "customers": 4,
        "customers_sent": 3,
        "codes": None,
    }
    assert written(api) == before


def test_a_range_only_takes_its_events_and_every_time_sends_each(
    api: httpx.Client, make_schema
) -> None:
    schema = make_schema({"plan": {"type": "string"}})
    since, until = track_all(api, schema["name"], unique("sim"))
    sent = body(schema["name"], "https://example.com/h")
    everything = simulate(api, "/simulate", distribution=sent, since=since)
    assert (everything["events"], everything["would_send"], everything["skipped"]) == (8, 8, {})
    after = iso(datetime.now(UTC) + timedelta(seconds=1))
    later = simulate(api, "/simulate", distribution=sent, since=until, until=after)
    assert (later["events"], later["customers"]) == (0, 0)
    limited = simulate(
        api,
        "/simulate",
        distribution={**sent, "reentry": {"mode": "limited", "limit": 2, "period": "P1D"}},
        since=since,
        until=until,
    )
    assert (limited["would_send"], limited["skipped"]) == (7, {"reentry_limit": 1})  # a's third


def test_simulation_counts_equal_what_live_tracking_then_does(
    api: httpx.Client, receiver: Receiver, make_schema
) -> None:
    schema = make_schema({"plan": {"type": "string"}})
    rules = {"conditions": PRO, "reentry": {"mode": "limited", "limit": 1, "period": "P1D"}}
    sent = body(schema["name"], receiver.url("/" + unique("sim")), **rules)
    prefix = unique("sim")
    since, until = track_all(api, schema["name"], prefix)
    predicted = simulate(api, "/simulate", distribution=sent, since=since, until=until)

    saved = ok(api.post("/v1/distributions", json=sent))
    since, until = track_all(api, schema["name"], prefix)  # the same events, now tracked live

    assert live(api, saved["id"]) == {
        "sent": predicted["would_send"],
        "skipped": predicted["skipped"],
    }
    again = simulate(api, f"/{saved['id']}/simulate", since=since, until=until)
    assert again["distribution_id"] == saved["id"]
    assert {k: again[k] for k in ("events", "would_send", "skipped", "customers")} == {
        k: predicted[k] for k in ("events", "would_send", "skipped", "customers")
    }


def test_codes_needed_against_codes_available_and_live_publishing_agrees(
    api: httpx.Client, receiver: Receiver, make_schema
) -> None:
    schema = make_schema({"plan": {"type": "string"}})
    campaign = coupons(api, 2)
    sent = body(schema["name"], receiver.url("/" + unique("sim")), conditions=PRO)
    sent["action"] = {"type": "publish_unique_code", "campaign_id": campaign["id"]}
    prefix = unique("sim")
    since, until = track_all(api, schema["name"], prefix)

    predicted = simulate(api, "/simulate", distribution=sent, since=since, until=until)

    assert predicted["codes"] == {
        "campaign_id": campaign["id"],
        "needed": 6,
        "available": 2,
        "missing": 4,
    }
    assert predicted["would_send"] == 2
    assert predicted["skipped"] == {
        "conditions_not_met": 2,
        "no_voucher_suitable_for_publication": 4,
    }
    saved = ok(api.post("/v1/distributions", json=sent))
    track_all(api, schema["name"], prefix)
    assert live(api, saved["id"]) == {"sent": 2, "skipped": predicted["skipped"]}


def test_join_once_and_generated_codes(api: httpx.Client, make_schema) -> None:
    schema = make_schema({"plan": {"type": "string"}})
    once = coupons(api, 1, join_once=True)
    sent = body(schema["name"], "https://example.com/h")
    sent["action"] = {"type": "publish_unique_code", "campaign_id": once["id"]}
    since, until = track_all(api, schema["name"], unique("sim"))
    answer = simulate(api, "/simulate", distribution=sent, since=since, until=until)
    # one code: the first customer keeps theirs for each of a's events; b and d find none
    assert answer["codes"] == {"campaign_id": once["id"], "needed": 6, "available": 1, "missing": 5}
    assert (answer["would_send"], answer["skipped"]) == (
        3,
        {"no_voucher_suitable_for_publication": 5},
    )
    growing = coupons(api, 1, kind="AUTO_UPDATE")
    sent["action"] = {"type": "publish_unique_code", "campaign_id": growing["id"]}
    answer = simulate(api, "/simulate", distribution=sent, since=since, until=until)
    assert answer["codes"] == {
        "campaign_id": growing["id"],
        "needed": 8,
        "available": 1,
        "missing": 7,
    }
    assert (answer["would_send"], answer["skipped"]) == (8, {})


def test_a_disabled_promotion_tier_sends_nothing(api: httpx.Client, make_schema) -> None:
    schema = make_schema({"plan": {"type": "string"}})
    campaign, tier = promotion(api)
    sent = body(schema["name"], "https://example.com/h")
    sent["action"] = {
        "type": "notify_promotion",
        "campaign_id": campaign["id"],
        "promotion_tier_id": tier["id"],
    }
    since, until = track_all(api, schema["name"], unique("sim"))
    answer = simulate(api, "/simulate", distribution=sent, since=since, until=until)
    assert (answer["would_send"], answer["skipped"]) == (8, {})
    ok(api.post(f"/v1/campaigns/{campaign['id']}/disable"))
    answer = simulate(api, "/simulate", distribution=sent, since=since, until=until)
    assert (answer["would_send"], answer["skipped"]) == (0, {"promotion_tier_inactive": 8})


def test_refusals_name_what_is_wrong(api: httpx.Client, make_schema) -> None:
    schema = make_schema()
    sent = body(schema["name"], "https://example.com/h")
    saved = ok(api.post("/v1/distributions", json=sent))
    now = iso(datetime.now(UTC))
    for path, payload, status, key in (
        ("/simulate", {"since": now}, 400, "missing_distribution"),
        ("/simulate", {"distribution": sent}, 400, "missing_since"),
        ("/simulate", {"distribution": sent, "since": 0}, 400, "invalid_payload"),
        ("/simulate", {"distribution": sent, "since": now, "until": now}, 400, "invalid_payload"),
        ("/simulate", {"distribution": sent, "since": now, "limit": 5}, 400, "invalid_payload"),
        (f"/{saved['id']}/simulate", {"distribution": sent, "since": now}, 400, "invalid_payload"),
        ("/distr_missing/simulate", {"since": now}, 404, "not_found"),
        (
            "/simulate",
            {"distribution": {**sent, "conditions": {"x.y": {}}}, "since": now},
            400,
            "invalid_conditions",
        ),
    ):
        refused = api.post(f"/v1/distributions{path}", json=payload)
        assert refused.status_code == status and refused.json()["key"] == key, refused.text
