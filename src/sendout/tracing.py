"""OpenTelemetry traces, optional: the one module that knows about OpenTelemetry.

Tracing is on when the ``otel`` extra is installed and the standard environment asks for it
(``OTEL_EXPORTER_OTLP_ENDPOINT``, ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` or
``OTEL_TRACES_EXPORTER=otlp``; ``OTEL_TRACES_EXPORTER=none`` and ``OTEL_SDK_DISABLED=true``
turn it off). Each process (``sendout serve``, its worker child, ``sendout worker``) calls
:func:`start` once and :func:`stop` at its end, which flushes the spans still batched. The
exporter is OTLP over HTTP; it and the batch processor read the other ``OTEL_*`` variables
themselves (``OTEL_BSP_SCHEDULE_DELAY``, ``OTEL_EXPORTER_OTLP_HEADERS``, ...).

Off, :func:`span` hands back one shared object whose methods do nothing and :func:`annotate`
returns at once, so the hot path pays a function call, not a span.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from types import TracebackType
from typing import TYPE_CHECKING, Literal, Protocol

import structlog

from sendout import __version__

if TYPE_CHECKING:
    from opentelemetry.context import Context
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.trace import SpanKind, Tracer

__all__ = ["Kind", "Span", "annotate", "enabled", "failed", "span", "start", "stop"]

log = structlog.get_logger("sendout.tracing")

Value = str | bool | int | float
Kind = Literal["server", "client", "internal"]
INSTALL_HINT = "pip install 'sendout[otel]'"


class Span(Protocol):
    """What sendout does with a span: add attributes to it."""

    def set_attributes(self, attributes: Mapping[str, Value], /) -> None: ...


class _NoSpan:
    """The span of a process that does not trace: a reusable context manager doing nothing."""

    __slots__ = ()

    def __enter__(self) -> _NoSpan:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    def set_attributes(self, attributes: Mapping[str, Value], /) -> None:
        return None


_NO_SPAN = _NoSpan()
_tracer: Tracer | None = None
_provider: TracerProvider | None = None
_kinds: dict[str, SpanKind] = {}
_extract: Callable[[Mapping[str, str]], Context] | None = None  # reads a caller's trace context


def enabled() -> bool:
    """Whether this process exports spans (to skip work only a span would use)."""
    return _tracer is not None


def span(
    name: str,
    kind: Kind,
    attributes: Mapping[str, Value],
    *,
    carrier: Mapping[str, str] | None = None,
) -> AbstractContextManager[Span]:
    """A span around a block, the current one inside it (a child of the current one, if any).
    An exception leaving the block is recorded on it and marks it failed.

    ``carrier``: the headers of a request received; when they carry a trace context in a format
    the propagators read (W3C ``traceparent`` and ``tracestate`` by default, ``OTEL_PROPAGATORS``
    otherwise), the span is the child of the caller's span, in its trace."""
    tracer = _tracer
    if tracer is None:
        return _NO_SPAN
    context = None if carrier is None or _extract is None else _extract(carrier)
    return tracer.start_as_current_span(
        name, context=context, kind=_kinds[kind], attributes=attributes
    )


def annotate(attributes: Mapping[str, Value]) -> None:
    """Add attributes to the current span (learnt after it started)."""
    if _tracer is None:
        return
    from opentelemetry import trace

    trace.get_current_span().set_attributes(attributes)


def failed(target: Span, description: str) -> None:
    """Mark the span failed (for an outcome that is not an exception)."""
    if _tracer is None or isinstance(target, _NoSpan):
        return
    from opentelemetry.trace import Span as OtelSpan
    from opentelemetry.trace import Status, StatusCode

    if isinstance(target, OtelSpan):
        target.set_status(Status(StatusCode.ERROR, description))


def requested(environ: Mapping[str, str]) -> str | None:
    """The variable that asks for traces, or None when nothing does (or tracing is off)."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return None
    exporters = {e.strip().lower() for e in environ.get("OTEL_TRACES_EXPORTER", "").split(",")}
    if "none" in exporters:
        return None
    for name in ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"):
        if environ.get(name, "").strip():
            return name
    return "OTEL_TRACES_EXPORTER" if "otlp" in exporters else None


def start(process: str, environ: Mapping[str, str] = os.environ) -> bool:
    """Set tracing up for this process (``process`` names its role: api, worker) when the
    environment asks for it; True when spans are exported."""
    global _tracer, _provider, _extract
    asked = requested(environ)
    if asked is None or _tracer is not None:
        return _tracer is not None
    try:
        _provider = _new_provider(process, environ)
    except ImportError:
        log.warning("tracing.unavailable", asked_by=asked, install=INSTALL_HINT)
        return False
    _tracer = _provider.get_tracer("sendout", __version__)
    _kinds.update(_span_kinds())
    _extract = _context_reader()
    log.info("tracing.started", asked_by=asked, process=process)
    return True


def stop() -> None:
    """Export the spans still batched and stop tracing (idempotent)."""
    global _tracer, _provider, _extract
    provider, _provider, _tracer, _extract = _provider, None, None, None
    if provider is not None:
        provider.shutdown()


def _new_provider(process: str, environ: Mapping[str, str]) -> TracerProvider:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    resource = Resource.create(
        {
            "service.name": environ.get("OTEL_SERVICE_NAME", "").strip() or "sendout",
            "service.version": __version__,
            "process.pid": os.getpid(),
            "sendout.process": process,
        }
    )
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    return provider


def propagators_problem() -> str | None:
    """Why ``OTEL_PROPAGATORS`` cannot be followed (it names a propagator that is not
    installed), or ``None``. OpenTelemetry checks it when its ``propagate`` module is first
    imported, which FastAPI does whenever OpenTelemetry is installed."""
    try:
        import opentelemetry.propagate  # noqa: F401
    except ImportError:
        return None
    except ValueError as exc:  # raised by the module itself, for an unknown propagator
        return str(exc)
    return None


def _context_reader() -> Callable[[Mapping[str, str]], Context]:
    """What reads a caller's trace context from request headers: every value of a header, so
    that a ``tracestate`` split over several lines is joined."""
    from opentelemetry import propagate
    from opentelemetry.propagators.textmap import Getter

    class EveryValue(Getter[Mapping[str, str]]):
        def get(self, carrier: Mapping[str, str], key: str) -> list[str] | None:
            getlist = getattr(carrier, "getlist", None)  # Starlette's Headers
            values = getlist(key) if getlist is not None else [carrier.get(key)]
            found = [v for v in values if v is not None]
            return found or None

        def keys(self, carrier: Mapping[str, str]) -> list[str]:
            return list(carrier.keys())

    getter = EveryValue()

    def extract(carrier: Mapping[str, str]) -> Context:
        return propagate.extract(carrier, getter=getter)

    return extract


def _span_kinds() -> dict[str, SpanKind]:
    from opentelemetry.trace import SpanKind

    return {"server": SpanKind.SERVER, "client": SpanKind.CLIENT, "internal": SpanKind.INTERNAL}
