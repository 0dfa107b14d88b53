"""OpenTelemetry traces from a real ``sendout serve`` to a loopback OTLP/HTTP collector, on
both backends: an event's request, its tracking transaction and each attempt of its webhook
arrive as spans carrying the same ids, from the API process and from its worker child. Without
the variables that ask for traces, nothing is exported and delivery is as before."""

from __future__ import annotations

import secrets
import signal
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from conftest import unique
from support.cli import sendout
from support.collector import Collector, ExportedSpan
from support.receiver import Receiver
from support.server import APP_KEYS, ServerProcess, distribution_to, free_port, track_one

SERVER, CLIENT = 2, 3  # opentelemetry.proto.trace.v1.Span.SpanKind
UNSET, ERROR = 0, 2  # opentelemetry.proto.trace.v1.Status.StatusCode


@pytest.fixture
def collector() -> Iterator[Collector]:
    c = Collector().start()
    yield c
    c.stop()


def traced(tmp_path: Path, database_url: str, env: dict[str, str]) -> ServerProcess:
    return ServerProcess(tmp_path, env_overrides=env, database_url=database_url).start()


def tracked(server: ServerProcess, event: str) -> str:
    """Track ``event`` for a new customer; the stored event's id."""
    body = {"event": event, "customer": {"source_id": unique("c")}}
    answer = httpx.post(server.base_url + "/v1/events", headers=APP_KEYS, json=body)
    answer.raise_for_status()
    return str(answer.json()["id"])


def named(spans: list[ExportedSpan], name: str, event_id: str) -> list[ExportedSpan]:
    return [s for s in spans if s.name == name and s.attributes.get("sendout.event_id") == event_id]


def test_the_request_its_transaction_and_its_attempts_are_spans_linked_by_ids(
    tmp_path: Path, database_url: str, receiver: Receiver, collector: Collector
) -> None:
    env = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": collector.endpoint,
        "OTEL_BSP_SCHEDULE_DELAY": "100",
        "OTEL_SERVICE_NAME": "sendout-test",
    }
    server = traced(tmp_path, database_url, env)
    try:
        path = "/" + unique("traced")
        receiver.script(path, 500)  # the first attempt fails, its retry delivers
        name, distribution = distribution_to(server, receiver.url(path))
        event_id = tracked(server, name)
        _, delivered = receiver.wait_for(path, 2)
        delivery_id = orjson.loads(delivered.body)["id"]

        def complete(spans: list[ExportedSpan]) -> bool:
            return (
                len(named(spans, "POST /v1/events", event_id)) == 1
                and len(named(spans, "sendout.track", event_id)) == 1
                and len(named(spans, "sendout.attempt", event_id)) == 2
            )

        spans = collector.wait_for(complete)
    finally:
        assert server.stop() in (0, -signal.SIGTERM)
    assert "Traceback" not in server.log_text()
    [request] = named(spans, "POST /v1/events", event_id)
    [transaction] = named(spans, "sendout.track", event_id)
    failed, succeeded = sorted(
        named(spans, "sendout.attempt", event_id), key=lambda s: s.attributes["sendout.attempt"]
    )
    project_id = request.attributes["sendout.project_id"]
    assert project_id.startswith("proj_")
    assert request.kind == SERVER
    assert request.attributes["http.request.method"] == "POST"
    assert request.attributes["http.route"] == "/v1/events"
    assert request.attributes["http.response.status_code"] == 200
    assert request.resource["service.name"] == "sendout-test"
    assert request.resource["sendout.process"] == "api"
    # The transaction is the request's child, in its trace.
    assert transaction.trace_id == request.trace_id
    assert transaction.parent_span_id == request.span_id
    assert transaction.attributes["sendout.project_id"] == project_id
    assert transaction.attributes["sendout.enqueued"] == 1
    assert transaction.attributes["sendout.replayed"] is False
    assert transaction.attributes["sendout.request_id"] == request.attributes["sendout.request_id"]
    # Each attempt comes from the worker child, found by the event's id.
    for attempt in (failed, succeeded):
        assert attempt.kind == CLIENT
        assert attempt.resource["sendout.process"] == "worker"
        assert attempt.resource["process.pid"] != request.resource["process.pid"]
        assert attempt.attributes["sendout.delivery_id"] == delivery_id
        assert attempt.attributes["sendout.distribution_id"] == distribution
        assert attempt.attributes["sendout.project_id"] == project_id
        assert attempt.attributes["sendout.request_id"] == request.attributes["sendout.request_id"]
        assert attempt.attributes["server.address"] == "127.0.0.1"
    assert failed.attributes["sendout.attempt"] == 1
    assert failed.attributes["http.response.status_code"] == 500
    assert failed.attributes["sendout.outcome"] == "retry"
    assert failed.attributes["error.type"] == "500"
    assert failed.status_code == ERROR
    assert succeeded.attributes["sendout.attempt"] == 2
    assert succeeded.attributes["http.response.status_code"] == 200
    assert succeeded.attributes["sendout.outcome"] == "delivered"
    assert succeeded.status_code == UNSET
    assert collector.paths and set(collector.paths) == {"/v1/traces"}


def test_a_caller_s_trace_context_makes_each_tracking_request_its_child(
    tmp_path: Path, database_url: str, receiver: Receiver, collector: Collector
) -> None:
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": collector.endpoint, "OTEL_BSP_SCHEDULE_DELAY": "100"}
    server = traced(tmp_path, database_url, env)
    single_trace, single_parent = secrets.token_hex(16), secrets.token_hex(8)
    bulk_trace, bulk_parent = secrets.token_hex(16), secrets.token_hex(8)
    try:
        path = "/" + unique("caller")
        name, _ = distribution_to(server, receiver.url(path))
        single = httpx.post(
            server.base_url + "/v1/events",
            headers={**APP_KEYS, "traceparent": f"00-{single_trace}-{single_parent}-01"},
            json={"event": name, "customer": {"source_id": unique("c")}},
        )
        items = [{"event": name, "customer": {"source_id": unique("c")}} for _ in range(2)]
        bulk = httpx.post(
            server.base_url + "/v1/events/bulk",
            headers={**APP_KEYS, "traceparent": f"00-{bulk_trace}-{bulk_parent}-01"},
            json={"events": items},
        )
        assert single.status_code == 200 and bulk.status_code == 200, bulk.text
        bulk_ids = [r["event"]["id"] for r in bulk.json()["results"]]

        def complete(spans: list[ExportedSpan]) -> bool:
            tracks = [s for s in spans if s.name == "sendout.track"]
            return len(tracks) == 3 and any(s.name == "POST /v1/events/bulk" for s in spans)

        spans = collector.wait_for(complete)
    finally:
        assert server.stop() in (0, -signal.SIGTERM)
    assert "Traceback" not in server.log_text()
    [request] = named(spans, "POST /v1/events", single.json()["id"])
    assert (request.trace_id, request.parent_span_id) == (single_trace, single_parent)
    [bulk_request] = [s for s in spans if s.name == "POST /v1/events/bulk"]
    assert (bulk_request.trace_id, bulk_request.parent_span_id) == (bulk_trace, bulk_parent)
    assert bulk_request.kind == SERVER
    assert bulk_request.attributes["http.route"] == "/v1/events/bulk"
    assert bulk_request.attributes["http.response.status_code"] == 200
    assert bulk_request.attributes["sendout.items"] == 2
    for event_id in bulk_ids:  # each item's transaction is the bulk request's child
        [transaction] = named(spans, "sendout.track", event_id)
        assert transaction.trace_id == bulk_trace
        assert transaction.parent_span_id == bulk_request.span_id


def test_an_unknown_propagator_stops_serve_in_one_line_before_anything_starts(
    tmp_path: Path,
) -> None:
    """OpenTelemetry refuses it when FastAPI imports it: said plainly, not as a traceback."""
    env = {
        "SENDOUT_DATABASE_URL": f"sqlite:///{tmp_path / 'never.db'}",
        "OTEL_PROPAGATORS": "tracecontext,no_such_propagator",
    }
    done = sendout("serve", "--port", str(free_port()), env=env)
    assert done.returncode == 2, (done.stdout, done.stderr)
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("sendout: OTEL_PROPAGATORS: ") and "no_such_propagator" in line
    assert not (tmp_path / "never.db").exists()


def test_spans_still_batched_are_exported_when_the_server_stops(
    tmp_path: Path, database_url: str, receiver: Receiver, collector: Collector
) -> None:
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": collector.endpoint, "OTEL_BSP_SCHEDULE_DELAY": "600000"}
    server = traced(tmp_path, database_url, env)
    try:
        path = "/" + unique("flushed")
        name, _ = distribution_to(server, receiver.url(path))
        event_id = tracked(server, name)
        receiver.wait_for(path, 1)
        assert collector.spans == []  # a batch waits ten minutes here
    finally:
        assert server.stop() in (0, -signal.SIGTERM)
    assert "Traceback" not in server.log_text()
    processes = {s.resource["sendout.process"] for s in collector.spans}
    assert processes == {"api", "worker"}
    assert len(named(collector.spans, "sendout.attempt", event_id)) == 1
    assert len(named(collector.spans, "POST /v1/events", event_id)) == 1


@pytest.mark.parametrize(
    "env",
    [{}, {"OTEL_TRACES_EXPORTER": "none"}],
    ids=["no-variables", "exporter-none"],
)
def test_without_tracing_asked_for_nothing_is_exported_and_delivery_works(
    tmp_path: Path,
    database_url: str,
    receiver: Receiver,
    collector: Collector,
    env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for variable in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        monkeypatch.delenv(variable, raising=False)
    if env:  # the endpoint is there, the exporter is off
        env = {**env, "OTEL_EXPORTER_OTLP_ENDPOINT": collector.endpoint}
    server = traced(tmp_path, database_url, {**env, "OTEL_BSP_SCHEDULE_DELAY": "100"})
    try:
        path = "/" + unique("untraced")
        name, _ = distribution_to(server, receiver.url(path))
        track_one(server, name)
        receiver.wait_for(path, 1)
    finally:
        assert server.stop() in (0, -signal.SIGTERM)  # a tracing process flushes here
    log = server.log_text()
    assert "Traceback" not in log
    assert "tracing." not in log
    assert collector.paths == []
