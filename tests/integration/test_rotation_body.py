"""The rotation route reads its body as every JSON route does (issue 13, item 6): a chunked
body counts, a wrong media type is 415, a body over the limit is 413, and only an empty body
means the default grace period. Each case is judged by the next webhook's signatures."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from test_bad_input import assert_error

from conftest import unique
from support.receiver import Receiver

DEFAULT_GRACE = 24 * 3600  # the server's SENDOUT_SECRET_GRACE_SECONDS (not set: the default)
LIMIT = 1024 * 1024  # its SENDOUT_MAX_BODY_BYTES (not set: the default)


@dataclass
class Rotating:
    """A project of its own, with one distribution to the receiver."""

    mgmt: httpx.Client
    own: httpx.Client
    receiver: Receiver
    project_id: str
    secret: str
    event: str
    path: str
    sent: int = 0

    @property
    def route(self) -> str:
        return f"/management/v1/projects/{self.project_id}/webhook-secret/rotate"

    def rotate(self, **request: Any) -> httpx.Response:
        return self.mgmt.post(self.route, **request)

    def next_webhook(self) -> Any:
        response = self.own.post(
            "/v1/events", json={"event": self.event, "customer": {"source_id": "x"}}
        )
        assert response.status_code == 200, response.text
        self.sent += 1
        return self.receiver.wait_for(self.path, self.sent)[-1]

    def signers(self) -> int:
        """How many secrets sign the next webhook (after checking the current one does)."""
        got = self.next_webhook()
        Webhook(self.secret).verify(got.body, got.headers)
        return len(got.headers["webhook-signature"].split(" "))


@pytest.fixture
def rotating(server, mgmt: httpx.Client, receiver: Receiver) -> Iterator[Rotating]:
    created = mgmt.post("/management/v1/projects", json={"name": unique("rotation")}).json()
    creds = created["credentials"]
    headers = {"X-App-Id": creds["app_id"], "X-App-Token": creds["app_token"]}
    with httpx.Client(base_url=server.base_url, headers=headers, timeout=10) as own:
        event = unique("ev")
        schema = mgmt.post(
            f"/management/v1/projects/{created['id']}/custom-event-schemas",
            json={"name": event, "schema": {"properties": {}}},
        )
        assert schema.status_code == 200, schema.text
        path = "/" + unique("rot")
        distribution = own.post(
            "/v1/distributions",
            json={
                "name": "r",
                "trigger": {"type": "customer.custom_event", "event": event},
                "action": {"type": "plain_message"},
                "channels": [{"type": "webhook", "event_name": "r", "url": receiver.url(path)}],
            },
        )
        assert distribution.status_code == 200, distribution.text
        yield Rotating(mgmt, own, receiver, created["id"], creds["webhook_secret"], event, path)


def chunked(*parts: bytes) -> Iterator[bytes]:
    """A body httpx sends with ``Transfer-Encoding: chunked`` (no ``Content-Length``)."""
    yield from parts


def rotated(r: Rotating, response: httpx.Response) -> float:
    """Follow a rotation that was accepted; the grace period it granted, in seconds."""
    assert response.status_code == 200, response.text
    body = response.json()
    old, r.secret = r.secret, body["webhook_secret"]
    assert r.secret != old
    expires = dt.datetime.fromisoformat(body["previous_secret_expires_at"])
    return (expires - dt.datetime.now(dt.UTC)).total_seconds()


def test_a_chunked_body_is_read(rotating: Rotating) -> None:
    old = rotating.secret
    sent = chunked(b'{"grace_period_', b'seconds": 0}')
    response = rotating.rotate(content=sent, headers={"content-type": "application/json"})
    assert response.request.headers["transfer-encoding"] == "chunked"
    assert "content-length" not in response.request.headers
    assert abs(rotated(rotating, response)) < 30, "no grace: the old secret expires now"
    got = rotating.next_webhook()
    assert len(got.headers["webhook-signature"].split(" ")) == 1
    Webhook(rotating.secret).verify(got.body, got.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(got.body, got.headers)


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_a_body_that_is_not_json_is_refused(rotating: Rotating, framing: str) -> None:
    raw = b'{"grace_period_seconds": 0}'
    content = raw if framing == "content-length" else chunked(raw)
    response = rotating.rotate(content=content, headers={"content-type": "text/plain"})
    assert_error(response, 415, "unsupported_media_type")
    assert rotating.signers() == 1, "not rotated: only the first secret signs"


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_a_body_over_the_limit_is_refused(rotating: Rotating, framing: str) -> None:
    raw = b'{"grace_period_seconds": 0, "pad": "' + b"x" * (10 * 1024 * 1024) + b'"}'
    assert len(raw) > LIMIT
    content = raw if framing == "content-length" else chunked(*(raw[i : i + 65536] for i in range(0, len(raw), 65536)))  # fmt: skip
    response = rotating.rotate(content=content, headers={"content-type": "application/json"})
    assert_error(response, 413, "payload_too_large")
    assert rotating.signers() == 1, "not rotated: only the first secret signs"


@pytest.mark.parametrize(
    "request_",
    [
        {},
        {"content": b"", "headers": {"content-type": "application/json"}},
        {"content": chunked(), "headers": {"content-type": "application/json"}},
        {"content": chunked(b""), "headers": {"content-type": "text/plain"}},
    ],
    ids=["no-body", "content-length-0", "chunked-empty", "chunked-empty-text"],
)
def test_an_empty_body_means_the_default_grace(
    rotating: Rotating, request_: dict[str, Any]
) -> None:
    grace = rotated(rotating, rotating.rotate(**request_))
    assert DEFAULT_GRACE - 60 < grace <= DEFAULT_GRACE
    assert rotating.signers() == 2, "the old secret still signs during the grace period"


@pytest.mark.parametrize("grace", [True, False, "0", "86400", [0]])
def test_a_grace_period_that_is_not_a_number_is_refused(rotating: Rotating, grace: Any) -> None:
    error = assert_error(
        rotating.rotate(json={"grace_period_seconds": grace}), 400, "invalid_payload"
    )
    assert "grace_period_seconds" in error["details"]
    assert rotating.signers() == 1, "not rotated: only the first secret signs"


def test_a_misspelt_key_is_refused_not_ignored(rotating: Rotating) -> None:
    """``grace_period`` for ``grace_period_seconds`` would otherwise rotate with the default
    24 h grace, the opposite of what ``0`` asks for."""
    error = assert_error(rotating.rotate(json={"grace_period": 0}), 400, "invalid_payload")
    assert "grace_period" in error["details"]
    assert rotating.signers() == 1, "not rotated: only the first secret signs"


def test_a_grace_period_of_whole_or_fractional_seconds(rotating: Rotating) -> None:
    assert 100 - 30 < rotated(rotating, rotating.rotate(json={"grace_period_seconds": 100})) <= 100
    assert 0 < rotated(rotating, rotating.rotate(json={"grace_period_seconds": 90.5})) <= 90.5
    assert rotating.signers() == 2
