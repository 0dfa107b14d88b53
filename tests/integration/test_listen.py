"""``sendout listen`` end to end, on both backends: a real ``sendout listen`` process following
a real server's stream forwards each webhook to a local receiver with the exact body and headers
(verifiable with the channel's secret), while the real channel is delivered too; ``--fail-with``
sends it again with the same ``webhook-id``; the stream's refusals and ``missed`` on reconnect."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from standardwebhooks.webhooks import Webhook

from conftest import unique
from support.promotions import ok
from support.receiver import Receiver
from support.server import (
    APP_ID,
    APP_KEYS,
    APP_TOKEN,
    WEBHOOK_SECRET,
    ServerProcess,
    distribution_to,
)


class Lines:
    """A child process's standard output, read in the background."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        assert process.stdout is not None
        self._thread = threading.Thread(target=self._read, args=(process.stdout,), daemon=True)
        self._thread.start()

    def _read(self, stream: Any) -> None:
        for line in stream:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, text: str, timeout: float = 15.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [line for line in self.lines if text in line]
            if found:
                return found[-1]
            time.sleep(0.05)
        raise AssertionError(f"no line with {text!r} in {self.lines}")


def setup(api: httpx.Client, make_schema: Any, receiver: Receiver) -> tuple[str, str, str]:
    """A distribution with one real channel: (its id, the event name, the channel's path)."""
    event = make_schema()["name"]
    real = "/" + unique("real")
    made = ok(
        api.post(
            "/v1/distributions",
            json={
                "name": unique("listen"),
                "trigger": {"type": "customer.custom_event", "event": event},
                "action": {"type": "plain_message"},
                "channels": [{"type": "webhook", "event_name": "hook", "url": receiver.url(real)}],
            },
        )
    )
    return str(made["id"]), event, real


@pytest.fixture
def listening(server: ServerProcess) -> Iterator[Any]:
    started: list[subprocess.Popen[str]] = []

    def start(distribution_id: str, forward_to: str, *extra: str) -> Lines:
        process = subprocess.Popen(
            [sys.executable, "-m", "sendout", "listen", "--distribution", distribution_id,
             "--forward-to", forward_to, "--url", server.base_url, "--app-id", APP_ID,
             "--app-token", APP_TOKEN, *extra],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        started.append(process)
        lines = Lines(process)
        lines.wait_for("listening to " + distribution_id)
        return lines

    yield start
    for process in started:
        process.terminate()
        process.wait(10)
        if process.stdout is not None:
            process.stdout.close()


def test_each_webhook_is_forwarded_exactly_and_the_real_channel_is_delivered_too(
    api: httpx.Client, receiver: Receiver, make_schema: Any, listening: Any
) -> None:
    distribution_id, event, real = setup(api, make_schema, receiver)
    local = "/" + unique("local")
    lines = listening(distribution_id, receiver.url(local))
    ok(api.post("/v1/events", json={"event": event, "customer": {"source_id": unique("c")}}))

    [delivered] = receiver.wait_for(real, 1)
    [copy] = receiver.wait_for(local, 1)
    assert copy.body == delivered.body
    assert copy.headers["webhook-id"] == delivered.headers["webhook-id"]
    assert copy.headers["x-voucherify-signature"] == delivered.headers["x-voucherify-signature"]
    Webhook(WEBHOOK_SECRET).verify(copy.body, copy.headers)
    line = lines.wait_for(copy.headers["webhook-id"])
    assert "hook" in line and "-> 200 in" in line
    deliveries = ok(api.get("/v1/deliveries", params={"distribution_id": distribution_id}))
    assert deliveries["total"] == 1  # the copy is not a delivery


def test_fail_with_sends_the_webhook_again_with_the_same_id(
    api: httpx.Client, receiver: Receiver, make_schema: Any, listening: Any
) -> None:
    distribution_id, event, _ = setup(api, make_schema, receiver)
    local = "/" + unique("local")
    lines = listening(distribution_id, receiver.url(local), "--fail-with", "500")
    ok(api.post("/v1/events", json={"event": event, "customer": {"source_id": unique("c")}}))
    first, again = receiver.wait_for(local, 2)
    assert first.headers["webhook-id"] == again.headers["webhook-id"]
    assert first.body == again.body
    assert first.headers["webhook-id"] in lines.wait_for("counted as 500")
    assert first.headers["webhook-id"] in lines.wait_for("(the retry)")


def test_the_stream_refuses_what_it_cannot_follow_and_counts_what_was_missed(
    server: ServerProcess, api: httpx.Client, receiver: Receiver, make_schema: Any
) -> None:
    assert api.get("/v1/distributions/distr_nope/stream").status_code == 404
    anonymous = httpx.get(server.base_url + "/v1/distributions/distr_nope/stream")
    assert anonymous.status_code == 401
    distribution_id, event, real = setup(api, make_schema, receiver)
    seen = ok(api.post("/v1/events", json={"event": event, "customer": {"source_id": "m"}}))
    for _ in range(3):
        ok(api.post("/v1/events", json={"event": event, "customer": {"source_id": "m"}}))
    receiver.wait_for(real, 4)
    first = ok(api.get("/v1/deliveries", params={"event_id": seen["id"]}))["deliveries"][0]
    url = f"/v1/distributions/{distribution_id}/stream"
    with api.stream("GET", url, headers={"Last-Event-ID": first["id"]}) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        events = []
        for line in stream.iter_lines():
            if line.startswith("data: "):
                events.append(json.loads(line.removeprefix("data: ")))
            if len(events) == 2:
                break
    assert events[0] == {"count": 3}
    assert events[1]["distribution_id"] == distribution_id


# More than the loopback socket buffers hold (about 1.5 KB a webhook), so that the server's
# writes to a consumer that reads nothing stop, and more than the stream lets one fall behind.
BEHIND = 8_000


def test_a_consumer_that_falls_far_behind_is_dropped_not_waited_for(tmp_path: Path) -> None:
    """On a server of its own without a worker: 8,000 webhooks need not be sent to show it
    (the stream follows what is stored; which backend stores it is the storage suite's)."""
    server = ServerProcess(tmp_path).start("--no-worker")
    api = httpx.Client(base_url=server.base_url, headers=APP_KEYS, timeout=30)
    try:
        event, distribution_id = distribution_to(server, "https://example.com/hooks")
        url = f"/v1/distributions/{distribution_id}/stream"
        with api.stream("GET", url) as stream:
            lines = stream.iter_lines()
            assert next(line for line in lines if line.startswith("event: ")) == "event: ready"
            for _ in range(BEHIND // 1000):  # while the consumer reads nothing
                items = [{"event": event, "customer": {"source_id": unique("b")}}] * 1000
                assert ok(api.post("/v1/events/bulk", json={"events": items}))["accepted"] == 1000
            kinds = [line for line in lines if line.startswith("event: ")]
        assert kinds[-1] == "event: dropped" and len(kinds) < BEHIND
        listed = ok(api.get("/v1/deliveries", params={"distribution_id": distribution_id}))
        assert listed["total"] == BEHIND  # the real deliveries are all there
    finally:
        api.close()
        server.stop()
