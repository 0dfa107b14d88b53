"""Limits a request meets, on a real server of each backend: what the HTTP layer refuses before
the app (an unparsable request, a head over 64 KB) answers in Voucherify's error object, and a
``metadata`` object over 32 KB is refused with nothing stored."""

from __future__ import annotations

import json
import socket
from typing import Any

import httpx
import pytest

from conftest import unique
from support.server import ServerProcess


def raw_exchange(server: ServerProcess, request: bytes) -> tuple[bytes, dict[str, str], bytes]:
    """Send raw bytes; the status line, headers and body of the (last) answer."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(request)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    head, _, body = received.rpartition(b"HTTP/1.1 ")[2].partition(b"\r\n\r\n")
    status, *lines = head.split(b"\r\n")
    headers = dict(line.decode().lower().split(": ", 1) for line in lines)
    return status, headers, body


@pytest.mark.parametrize(
    ("request_bytes", "status", "key"),
    [
        (b"GET /health HTTP/1.1\r\nHost: x\r\nX-A: a\x7fb\r\n\r\n", b"400", "invalid_request"),
        (b"NOT HTTP\r\n\r\n", b"400", "invalid_request"),
        (b"GET /" + b"a" * 100_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", b"431", None),
        (b"GET /health HTTP/1.1\r\nHost: x\r\nX-A: " + b"a" * 70_000 + b"\r\n\r\n", b"431", None),
        (b"GET /health HTTP/1.1\r\nHost: x\r\nX-A: " + b"a" * 300_000, b"431", None),
    ],
    ids=["DEL in a header", "not HTTP", "100 KB path", "70 KB header", "a header that never ends"],
)
def test_what_the_http_layer_refuses_is_a_json_error_object(
    server: ServerProcess, request_bytes: bytes, status: bytes, key: str | None
) -> None:
    line, headers, body = raw_exchange(server, request_bytes)
    assert line.startswith(status)
    assert headers["content-type"] == "application/json"
    assert headers["x-request-id"].startswith("v-")
    error = json.loads(body)
    assert error["code"] == int(status)
    assert error["key"] == (key or "request_header_fields_too_large")
    assert error["request_id"] == headers["x-request-id"] and error["details"]


def test_a_head_under_the_limit_and_pipelined_requests_are_served(server: ServerProcess) -> None:
    big = b"GET /health HTTP/1.1\r\nHost: x\r\nX-A: " + b"a" * 60_000 + b"\r\n\r\n"
    last = b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    line, _, body = raw_exchange(server, big + big + last)
    assert line.startswith(b"200") and json.loads(body) == {"status": "ok"}


def metadata_of(size: int) -> dict[str, Any]:
    """A metadata object of exactly ``size`` bytes as compact JSON."""
    return {"blob": "x" * (size - len('{"blob":""}'))}


def test_metadata_over_32_kb_is_refused_and_nothing_is_stored(
    api: httpx.Client, make_schema
) -> None:
    schema = make_schema()
    source_id = unique("big")
    for path, body in (
        (
            "/v1/events",
            {
                "event": schema["name"],
                "customer": {"source_id": source_id},
                "metadata": metadata_of(32 * 1024 + 1),
            },
        ),
        (
            "/v1/events",
            {
                "event": schema["name"],
                "customer": {"source_id": source_id, "metadata": metadata_of(40_000)},
            },
        ),
        ("/v1/customers", {"source_id": source_id, "metadata": metadata_of(40_000)}),
        (
            "/v1/campaigns",
            {"name": unique("big"), "campaign_type": "PROMOTION", "metadata": metadata_of(40_000)},
        ),
    ):
        refused = api.post(path, json=body)
        assert refused.status_code == 400, refused.text
        assert refused.json()["key"] == "metadata_too_large"
        assert "32768" in refused.json()["details"]
    assert api.get(f"/v1/customers/{source_id}").status_code == 404
    assert api.get("/v1/events", params={"event": schema["name"]}).json()["total"] == 0


def test_metadata_of_exactly_32_kb_is_kept(api: httpx.Client, make_schema) -> None:
    schema = make_schema()
    source_id = unique("fits")
    tracked = api.post(
        "/v1/events",
        json={
            "event": schema["name"],
            "customer": {"source_id": source_id, "metadata": metadata_of(32 * 1024)},
            "metadata": metadata_of(32 * 1024),
        },
    )
    assert tracked.status_code == 200, tracked.text
    customer = api.get(f"/v1/customers/{source_id}").json()
    assert customer["metadata"] == metadata_of(32 * 1024)
