"""Auto-pause, set live, resend, replay, idempotency and secret rotation on a running server."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from conftest import unique
from support.receiver import Receiver
from support.waiting import eventually


def deliveries(api: httpx.Client, **params: Any) -> list[dict[str, Any]]:
    return list(api.get("/v1/deliveries", params={"limit": 100, **params}).json()["deliveries"])


def track(api: httpx.Client, event: str, **extra: Any) -> httpx.Response:
    return api.post(
        "/v1/events", json={"event": event, "customer": {"source_id": unique("c")}, **extra}
    )


def test_failing_channel_pauses_and_set_live_delivers_the_backlog(
    api: httpx.Client, receiver: Receiver, make_schema, make_distribution
) -> None:
    schema = make_schema()
    path = "/" + unique("down")
    receiver.script(path, *([500] * 100))
    distribution = make_distribution(schema["name"], receiver.url(path))
    for _ in range(3):
        assert track(api, schema["name"]).status_code == 200

    def paused() -> dict[str, Any] | None:
        found = api.get(f"/v1/distributions/{distribution['id']}").json()
        return found if found["channels"][0]["status"] == "PAUSED" else None

    state = eventually(paused)["channels"][0]
    assert state["pause_reason"] == "5 consecutive failed attempts"
    assert state["paused_at"] is not None

    # Attempts already in flight when the fifth failure was recorded may still land (3 at most):
    # the count is taken once every attempt the receiver saw is recorded.
    def settled() -> int | None:
        seen = len(receiver.at(path))
        recorded = sum(
            d["attempts_count"] for d in deliveries(api, distribution_id=distribution["id"])
        )
        return seen if seen == recorded else None

    attempts = eventually(settled)
    assert 5 <= attempts <= 8
    time.sleep(1.0)  # several retry periods (0.2 s): a paused channel gets no further attempt
    assert len(receiver.at(path)) == attempts
    pending = deliveries(api, distribution_id=distribution["id"], status="pending")
    assert len(pending) == 3, "deliveries are kept while the channel is paused"

    receiver.script(path)  # the receiver recovers
    resumed = api.post(f"/v1/distributions/{distribution['id']}/resume").json()
    assert resumed["channels"][0]["status"] == "ACTIVE"
    assert resumed["channels"][0]["consecutive_failures"] == 0
    got = receiver.wait_for(path, attempts + 3)
    assert [r.status for r in got[attempts:]] == [200, 200, 200]
    assert eventually(
        lambda: len(deliveries(api, distribution_id=distribution["id"], status="delivered")) == 3
    )

    again = api.post(f"/v1/distributions/{distribution['id']}/resume")
    assert again.status_code == 409
    assert again.json()["key"] == "distribution_not_paused"


def test_410_gone_pauses_the_channel_at_once(
    api: httpx.Client, receiver: Receiver, make_schema, make_distribution
) -> None:
    schema = make_schema()
    path = "/" + unique("gone")
    receiver.script(path, 410)
    distribution = make_distribution(schema["name"], receiver.url(path))
    track(api, schema["name"])
    receiver.wait_for(path, 1)
    channel = eventually(
        lambda: (
            (c := api.get(f"/v1/distributions/{distribution['id']}").json()["channels"][0])[
                "status"
            ]
            == "PAUSED"
            and c
        )
    )
    assert channel["pause_reason"] == "the receiver answered 410 Gone"


def test_resend_is_a_new_attempt_of_the_same_message(
    api: httpx.Client, receiver: Receiver, make_schema, make_distribution
) -> None:
    schema = make_schema()
    path = "/" + unique("resend")
    distribution = make_distribution(schema["name"], receiver.url(path))
    track(api, schema["name"])
    [first] = receiver.wait_for(path, 1)
    delivery_id = first.headers["webhook-id"]
    eventually(lambda: api.get(f"/v1/deliveries/{delivery_id}").json()["status"] == "delivered")

    resent = api.post(f"/v1/deliveries/{delivery_id}/resend")
    assert resent.status_code == 200
    second = receiver.wait_for(path, 2)[1]
    assert second.headers["webhook-id"] == delivery_id
    assert json.loads(second.body) == json.loads(first.body)
    done = eventually(
        lambda: (d := api.get(f"/v1/deliveries/{delivery_id}").json())["attempts_count"] == 2 and d
    )
    assert done["status"] == "delivered"
    assert deliveries(api, distribution_id=distribution["id"])[0]["id"] == delivery_id
    missing = api.post("/v1/deliveries/whs_nope/resend")
    assert missing.status_code == 404


def test_replay_redelivers_failed_deliveries_since_a_time(
    api: httpx.Client, receiver: Receiver, make_schema, make_distribution
) -> None:
    schema = make_schema()
    path = "/" + unique("replay")
    receiver.script(path, *([503] * 4))
    distribution = make_distribution(schema["name"], receiver.url(path))
    since = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(time.time() - 5))
    track(api, schema["name"])
    [failed] = eventually(
        lambda: deliveries(api, distribution_id=distribution["id"], status="failed")
    )
    assert failed["attempts_count"] == 4

    replay = api.post(f"/v1/distributions/{distribution['id']}/replay", json={"since": since})
    assert replay.json()["replayed"] == 1
    assert receiver.wait_for(path, 5)[4].status == 200
    assert eventually(
        lambda: deliveries(api, distribution_id=distribution["id"], status="delivered")
    )
    future = api.post(
        f"/v1/distributions/{distribution['id']}/replay", json={"since": "2999-01-01T00:00:00Z"}
    )
    assert future.json()["replayed"] == 0
    bad = api.post(f"/v1/distributions/{distribution['id']}/replay", json={"since": "yesterday"})
    assert bad.status_code == 400


def test_idempotency_key_returns_the_first_response_and_creates_nothing(
    api: httpx.Client, receiver: Receiver, make_schema, make_distribution
) -> None:
    schema = make_schema()
    path = "/" + unique("idem")
    make_distribution(schema["name"], receiver.url(path))
    source_id = unique("c")
    body = {"event": schema["name"], "customer": {"source_id": source_id}}
    key = {"Idempotency-Key": unique("key")}
    first = api.post("/v1/events", json=body, headers=key)
    # The same body, spelled differently (key order, explicit nulls), is the same request.
    same = api.post(
        "/v1/events",
        content=json.dumps(
            {"customer": {"source_id": source_id, "name": None}, "event": schema["name"]}
        ),
        headers={**key, "content-type": "application/json"},
    )
    assert first.status_code == same.status_code == 200
    assert same.json() == first.json()
    assert same.headers["idempotent-replayed"] == "true"
    assert api.get("/v1/events", params={"event": schema["name"]}).json()["total"] == 1
    receiver.wait_for(path, 1)

    other = api.post("/v1/events", json={**body, "metadata": {"x": 1}}, headers=key)
    assert other.status_code == 409
    assert other.json()["key"] == "idempotency_key_reused"
    assert api.get("/v1/events", params={"event": schema["name"]}).json()["total"] == 1
    bad_key = api.post("/v1/events", json=body, headers={"Idempotency-Key": "x" * 300})
    assert bad_key.json()["key"] == "invalid_idempotency_key"
    assert len(receiver.at(path)) == 1, "a retried event never triggers a distribution twice"


def test_rotated_secret_signs_at_once_and_the_old_one_during_grace(
    server,
    api: httpx.Client,
    receiver: Receiver,
    mgmt: httpx.Client,
    make_schema,
    make_distribution,
) -> None:
    created = mgmt.post("/management/v1/projects", json={"name": unique("rotation")}).json()
    creds = created["credentials"]
    old_secret = creds["webhook_secret"]
    own = httpx.Client(
        base_url=server.base_url,
        headers={"X-App-Id": creds["app_id"], "X-App-Token": creds["app_token"]},
    )
    name = unique("ev")
    mgmt.post(
        f"/management/v1/projects/{created['id']}/custom-event-schemas",
        json={"name": name, "schema": {"properties": {}}},
    )
    path = "/" + unique("rot")
    own.post(
        "/v1/distributions",
        json={
            "name": "r",
            "trigger": {"type": "customer.custom_event", "event": name},
            "action": {"type": "plain_message"},
            "channels": [{"type": "webhook", "event_name": "r", "url": receiver.url(path)}],
        },
    )

    rotated = mgmt.post(f"/management/v1/projects/{created['id']}/webhook-secret/rotate").json()
    new_secret = rotated["webhook_secret"]
    assert new_secret != old_secret and new_secret.startswith("whsec_")
    own.post("/v1/events", json={"event": name, "customer": {"source_id": "x"}})
    [got] = receiver.wait_for(path, 1)
    assert len(got.headers["webhook-signature"].split(" ")) == 2
    Webhook(new_secret).verify(got.body, got.headers)
    Webhook(old_secret).verify(got.body, got.headers)
    import hashlib
    import hmac

    # x-voucherify-signature carries one signature: a rotation with grace leaves it to its own
    # staged rotation (…/voucherify-secret), so one-signature receivers lose nothing.
    assert (
        got.headers["x-voucherify-signature"]
        == hmac.new(old_secret.encode(), got.body, hashlib.sha256).hexdigest()
    )

    mgmt.post(
        f"/management/v1/projects/{created['id']}/webhook-secret/rotate",
        json={"grace_period_seconds": 0},
    )
    own.post("/v1/events", json={"event": name, "customer": {"source_id": "x"}})
    later = receiver.wait_for(path, 2)[1]
    assert len(later.headers["webhook-signature"].split(" ")) == 1
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret).verify(later.body, later.headers)
    own.close()
    listed = mgmt.get("/management/v1/projects").json()["data"]
    assert all("credentials" not in p and "webhook_secret" not in p for p in listed)


@pytest.mark.parametrize(
    ("schedule", "ok"),
    [
        ([1, 5, 30], True),
        ([], False),
        ([-1], False),
        (["soon"], False),
        ([True], False),
        ([1] * 51, False),
        ([10**9], False),
    ],
)
def test_channel_retry_schedules(
    api: httpx.Client, make_schema, schedule: list[Any], ok: bool
) -> None:
    schema = make_schema()
    body = {
        "name": "s",
        "trigger": {"type": "customer.custom_event", "event": schema["name"]},
        "action": {"type": "plain_message"},
        "channels": [
            {
                "type": "webhook",
                "event_name": "x",
                "url": "http://127.0.0.1:9/x",
                "retry_schedule": schedule,
            }
        ],
    }
    response = api.post("/v1/distributions", json=body)
    if ok:
        assert response.status_code == 200
        assert response.json()["channels"][0]["retry_schedule"] == schedule
    else:
        assert response.status_code == 400
        assert response.json()["key"] == "invalid_retry_schedule"


def test_channel_schedule_overrides_the_default(
    api: httpx.Client, receiver: Receiver, make_schema
) -> None:
    schema = make_schema()
    path = "/" + unique("own")
    receiver.script(path, 500, 500, 500)
    body = {
        "name": "s",
        "trigger": {"type": "customer.custom_event", "event": schema["name"]},
        "action": {"type": "plain_message"},
        "channels": [
            {
                "type": "webhook",
                "event_name": "x",
                "url": receiver.url(path),
                "retry_schedule": [0.1],
            }
        ],
    }
    distribution = api.post("/v1/distributions", json=body).json()
    track(api, schema["name"])
    [failed] = eventually(
        lambda: deliveries(api, distribution_id=distribution["id"], status="failed")
    )
    assert failed["attempts_count"] == 2, "one retry, as the channel's schedule says"


def test_idempotency_key_on_publications(api: httpx.Client) -> None:
    from support.promotions import coupons

    campaign = coupons(api, 3)
    body = {
        "campaign": {"name": campaign["id"], "count": 1},
        "customer": {"source_id": unique("c")},
    }
    key = {"Idempotency-Key": unique("pub")}
    first = api.post("/v1/publications", json=body, headers=key)
    again = api.post("/v1/publications", json=body, headers=key)
    assert first.status_code == again.status_code == 200, first.text
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    listed = api.get("/v1/publications", params={"campaign": campaign["name"]}).json()
    assert listed["total"] == 1, "the repeat published nothing"

    other = api.post("/v1/publications", json={**body, "metadata": {"x": 1}}, headers=key)
    assert other.status_code == 409
    assert other.json()["key"] == "idempotency_key_reused"
    assert api.get("/v1/publications", params={"campaign": campaign["name"]}).json()["total"] == 1
