"""Bring your Voucherify secret, and rotate it by stages without a receiver losing a webhook.

The receiver here checks exactly one ``x-voucherify-signature`` against the secrets it has been
taught, and answers 401 to anything else, as a Voucherify-style receiver does.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest
from standardwebhooks.webhooks import Webhook

from conftest import unique
from support.receiver import Receiver
from support.server import ServerProcess

BROUGHT = "myVoucherifySecretKey123"
NEXT = "myNextVoucherifyKey456"


@dataclass
class VoucherifyReceiver:
    """What the receiver's operator has configured: the secrets it accepts."""

    accepted: set[str] = field(default_factory=set)

    def accepts(self, headers: dict[str, str], body: bytes) -> bool:
        given = headers.get("x-voucherify-signature", "")
        return any(
            hmac.compare_digest(hmac.new(s.encode(), body, hashlib.sha256).hexdigest(), given)
            for s in self.accepted
        )


@dataclass
class Project:
    id: str
    api: httpx.Client
    webhook_secret: str
    event: str
    path: str


@pytest.fixture
def project(server: ServerProcess, mgmt: httpx.Client, receiver: Receiver) -> Iterator[Project]:
    created = mgmt.post("/management/v1/projects", json={"name": unique("vsec")}).json()
    creds = created["credentials"]
    assert creds["voucherify_secret"] == creds["webhook_secret"], "one secret until you bring one"
    api = httpx.Client(
        base_url=server.base_url,
        headers={"X-App-Id": creds["app_id"], "X-App-Token": creds["app_token"]},
        timeout=10,
    )
    event = unique("ev")
    mgmt.post(
        f"/management/v1/projects/{created['id']}/custom-event-schemas",
        json={"name": event, "schema": {"properties": {}}},
    )
    path = "/" + unique("vsec")
    made = api.post(
        "/v1/distributions",
        json={
            "name": "v",
            "trigger": {"type": "customer.custom_event", "event": event},
            "action": {"type": "plain_message"},
            "channels": [{"type": "webhook", "event_name": "v", "url": receiver.url(path)}],
        },
    )
    assert made.status_code == 200, made.text
    yield Project(created["id"], api, creds["webhook_secret"], event, path)
    api.close()


def _send(p: Project, receiver: Receiver, count: int) -> None:
    """Track one event and wait until the receiver has accepted it (2xx on its first try)."""
    tracked = p.api.post("/v1/events", json={"event": p.event, "customer": {"source_id": "x"}})
    assert tracked.status_code == 200, tracked.text
    got = receiver.wait_for(p.path, count)
    assert [r.status for r in got] == [200] * count, "a webhook was refused by the receiver"


def test_a_voucherify_secret_rotates_by_stages_without_losing_a_webhook(
    project: Project, mgmt: httpx.Client, receiver: Receiver
) -> None:
    base = f"/management/v1/projects/{project.id}/voucherify-secret"
    taught = VoucherifyReceiver({BROUGHT})
    receiver.check(project.path, taught.accepts)

    brought = mgmt.put(base, json={"voucherify_secret": BROUGHT})
    assert brought.status_code == 200, brought.text
    assert brought.json() == {
        "object": "voucherify_secret",
        "project_id": project.id,
        "voucherify_secret": BROUGHT,
        "staged_voucherify_secret": None,
    }
    _send(project, receiver, 1)
    [first] = receiver.at(project.path)
    Webhook(project.webhook_secret).verify(first.body, first.headers)  # the two stay apart

    # 1. Stage the new secret: sendout still signs with the one the receiver knows.
    staged = mgmt.post(f"{base}/stage", json={"voucherify_secret": NEXT}).json()
    assert (staged["voucherify_secret"], staged["staged_voucherify_secret"]) == (BROUGHT, NEXT)
    _send(project, receiver, 2)
    # A webhook-secret rotation in the middle does not touch x-voucherify-signature.
    rotated = mgmt.post(f"/management/v1/projects/{project.id}/webhook-secret/rotate")
    assert rotated.status_code == 200, rotated.text
    _send(project, receiver, 3)

    # 2. Teach the receiver to accept either; 3. switch signing.
    taught.accepted.add(NEXT)
    switched = mgmt.post(f"{base}/switch").json()
    assert (switched["voucherify_secret"], switched["staged_voucherify_secret"]) == (NEXT, None)
    _send(project, receiver, 4)

    # 4. Retire the old one at the receiver: everything since the switch is signed with NEXT.
    taught.accepted.discard(BROUGHT)
    _send(project, receiver, 5)
    got = receiver.at(project.path)
    signed_with = [
        s
        for r in got
        for s in (BROUGHT, NEXT)
        if VoucherifyReceiver({s}).accepts(r.headers, r.body)
    ]
    assert signed_with == [BROUGHT, BROUGHT, BROUGHT, NEXT, NEXT]

    again = mgmt.post(f"{base}/switch")
    assert again.status_code == 409 and again.json()["key"] == "no_staged_voucherify_secret"


def test_without_a_body_stage_generates_a_secret(project: Project, mgmt: httpx.Client) -> None:
    base = f"/management/v1/projects/{project.id}/voucherify-secret"
    staged = mgmt.post(f"{base}/stage")
    assert staged.status_code == 200, staged.text
    secret = staged.json()["staged_voucherify_secret"]
    assert len(secret) >= 40 and secret != project.webhook_secret
    assert staged.json()["voucherify_secret"] == project.webhook_secret


def test_voucherify_secret_refusals(
    server: ServerProcess, project: Project, mgmt: httpx.Client
) -> None:
    base = f"/management/v1/projects/{project.id}/voucherify-secret"
    cases = [
        ("PUT", base, {"voucherify_secret": "short"}, 400, "invalid_payload"),
        ("PUT", base, {"voucherify_secret": "has a space in it"}, 400, "invalid_payload"),
        ("PUT", base, {"voucherify_secret": True}, 400, "invalid_payload"),
        ("PUT", base, {}, 400, "missing_voucherify_secret"),
        ("PUT", base, {"voucherify_secret": BROUGHT, "grace": 1}, 400, "invalid_payload"),
        ("POST", f"{base}/switch", {"now": True}, 400, "invalid_payload"),
        ("POST", f"{base}/stage", {"voucherify_secret": "x"}, 400, "invalid_payload"),
        (
            "PUT",
            "/management/v1/projects/proj_nope/voucherify-secret",
            {"voucherify_secret": BROUGHT},
            404,
            "not_found",
        ),
    ]
    for method, url, body, status, key in cases:
        response = mgmt.request(method, url, json=body)
        assert (response.status_code, response.json()["key"]) == (status, key), (
            body,
            response.text,
        )
    unauthorized = httpx.put(
        f"{server.base_url}{base}", json={"voucherify_secret": BROUGHT}, timeout=10
    )
    assert unauthorized.status_code == 401
    still = mgmt.post(f"{base}/stage").json()
    assert still["voucherify_secret"] == project.webhook_secret, "nothing refused was stored"


def test_a_rotation_without_grace_revokes_the_same_string_everywhere(
    project: Project, mgmt: httpx.Client, receiver: Receiver
) -> None:
    rotated = mgmt.post(
        f"/management/v1/projects/{project.id}/webhook-secret/rotate",
        json={"grace_period_seconds": 0},
    ).json()
    _send(project, receiver, 1)
    [got] = receiver.at(project.path)
    assert VoucherifyReceiver({rotated["webhook_secret"]}).accepts(got.headers, got.body)
    assert not VoucherifyReceiver({project.webhook_secret}).accepts(got.headers, got.body)
