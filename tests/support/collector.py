"""A loopback OTLP/HTTP trace collector: accepts ``POST /v1/traces`` (protobuf) and keeps the
spans, each flattened with its resource's attributes."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue


@dataclass(frozen=True)
class ExportedSpan:
    name: str
    kind: int  # opentelemetry.proto.trace.v1.Span.SpanKind
    trace_id: str
    span_id: str
    parent_span_id: str
    attributes: dict[str, Any]
    resource: dict[str, Any]
    status_code: int  # 0 unset, 1 ok, 2 error


def _value(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    return None if kind is None else getattr(value, kind)


def _attributes(pairs: Any) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for pair in pairs:
        assert isinstance(pair, KeyValue)
        found[pair.key] = _value(pair.value)
    return found


class Collector:
    """Records every exported span; ``paths`` has every path POSTed to."""

    def __init__(self) -> None:
        self.spans: list[ExportedSpan] = []
        self.paths: list[str] = []
        self._cond = threading.Condition()
        collector = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                collector._take(self.path, body, self.headers.get("content-type", ""))
                reply = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("content-type", "application/x-protobuf")
                self.send_header("content-length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, format: str, *args: object) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def _take(self, path: str, body: bytes, content_type: str) -> None:
        spans: list[ExportedSpan] = []
        if path == "/v1/traces" and content_type == "application/x-protobuf":
            request = ExportTraceServiceRequest()
            request.ParseFromString(body)
            spans = list(_flatten(request))
        with self._cond:
            self.paths.append(path)
            self.spans.extend(spans)
            self._cond.notify_all()

    def wait_for(
        self, found: Callable[[list[ExportedSpan]], bool], timeout: float = 15.0
    ) -> list[ExportedSpan]:
        """All spans so far, once ``found`` holds for them."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not found(self.spans):
                left = deadline - time.monotonic()
                assert left > 0, f"spans not found; got {[s.name for s in self.spans]}"
                self._cond.wait(left)
            return list(self.spans)

    def start(self) -> Collector:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _flatten(request: ExportTraceServiceRequest) -> list[ExportedSpan]:
    found: list[ExportedSpan] = []
    for resource_spans in request.resource_spans:
        resource = _attributes(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                found.append(
                    ExportedSpan(
                        name=span.name,
                        kind=span.kind,
                        trace_id=span.trace_id.hex(),
                        span_id=span.span_id.hex(),
                        parent_span_id=span.parent_span_id.hex(),
                        attributes=_attributes(span.attributes),
                        resource=resource,
                        status_code=span.status.code,
                    )
                )
    return found
