"""sendout.tracing without a collector: which variables ask for traces, the warning when the
``otel`` extra is missing, and that spans of a process not tracing do nothing."""

from __future__ import annotations

import sys

import pytest
from structlog.testing import capture_logs

from sendout import tracing

ENDPOINT = "http://127.0.0.1:4318"


@pytest.mark.parametrize(
    ("environ", "asked_by"),
    [
        ({}, None),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": ENDPOINT}, "OTEL_EXPORTER_OTLP_ENDPOINT"),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": ENDPOINT}, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"),
        ({"OTEL_TRACES_EXPORTER": "otlp"}, "OTEL_TRACES_EXPORTER"),
        ({"OTEL_TRACES_EXPORTER": "console"}, None),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": " "}, None),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": ENDPOINT, "OTEL_TRACES_EXPORTER": "none"}, None),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": ENDPOINT, "OTEL_SDK_DISABLED": "true"}, None),
    ],
)
def test_the_standard_variables_ask_for_traces(
    environ: dict[str, str], asked_by: str | None
) -> None:
    assert tracing.requested(environ) == asked_by


def test_asked_for_without_the_extra_is_one_warning_not_a_crash(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    exporter = "opentelemetry.exporter.otlp.proto.http.trace_exporter"
    monkeypatch.setitem(sys.modules, exporter, None)  # importing it raises ImportError
    with capture_logs() as logs:
        assert tracing.start("api", {"OTEL_EXPORTER_OTLP_ENDPOINT": ENDPOINT}) is False
    assert not tracing.enabled()
    assert logs == [
        {
            "event": "tracing.unavailable",
            "log_level": "warning",
            "asked_by": "OTEL_EXPORTER_OTLP_ENDPOINT",
            "install": "pip install 'sendout[otel]'",
        }
    ]


def test_not_asked_for_nothing_is_set_up() -> None:
    with capture_logs() as logs:
        assert tracing.start("api", {}) is False
    assert logs == []
    assert not tracing.enabled()
    tracing.stop()  # harmless when nothing started


def test_a_span_of_a_process_not_tracing_does_nothing_and_lets_errors_through() -> None:
    first = tracing.span("a", "server", {"k": "v"})
    assert first is tracing.span("b", "client", {})  # one shared object, nothing made per call
    with first as span:
        span.set_attributes({"k": 1})
        tracing.failed(span, "why")
        tracing.annotate({"k": True})
    with pytest.raises(ZeroDivisionError), tracing.span("c", "internal", {}):
        _ = 1 / 0


def test_a_caller_s_trace_context_is_read_from_every_line_of_its_headers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from opentelemetry import trace
    from starlette.datastructures import Headers

    from support.collector import Collector

    collector = Collector().start()
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.endpoint)
    try:
        assert tracing.start("api", {"OTEL_EXPORTER_OTLP_ENDPOINT": collector.endpoint})
        trace_id, parent = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
        headers = Headers(
            raw=[
                (b"traceparent", f"00-{trace_id}-{parent}-01".encode()),
                (b"tracestate", b"first=1"),
                (b"tracestate", b"second=2"),  # a tracestate may come over several lines
            ]
        )
        with tracing.span("POST /v1/events", "server", {}, carrier=headers):
            context = trace.get_current_span().get_span_context()
        with tracing.span("POST /v1/events", "server", {}, carrier=Headers(raw=[])):
            fresh = trace.get_current_span().get_span_context()
    finally:
        tracing.stop()
        collector.stop()
    assert format(context.trace_id, "032x") == trace_id
    assert dict(context.trace_state) == {"first": "1", "second": "2"}
    assert format(fresh.trace_id, "032x") != trace_id  # no header: a trace of its own
    assert not tracing.enabled()
