"""Prometheus metrics of this process (``GET /metrics``)."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest

__all__ = [
    "ATTEMPTS",
    "ATTEMPT_SECONDS",
    "CONTENT_TYPE_LATEST",
    "ENQUEUED",
    "EVENTS",
    "record_attempt",
    "render",
]

EVENTS = Counter("sendout_events_tracked", "Custom events accepted by POST /v1/events")
ENQUEUED = Counter("sendout_webhooks_enqueued", "Deliveries committed with their event")
ATTEMPTS = Counter(
    "sendout_delivery_attempts",
    "Webhook delivery attempts by result: delivered, retry (will be tried again), failed (gave up)",
    ["result"],
)
ATTEMPT_SECONDS = Histogram(
    "sendout_delivery_attempt_seconds",
    "Time from sending a webhook to its receiver's answer (or the error)",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)


def record_attempt(result: str, seconds: float) -> None:
    """One delivery attempt: its result label and how long it took."""
    ATTEMPTS.labels(result).inc()
    ATTEMPT_SECONDS.observe(seconds)


def render() -> bytes:
    return generate_latest()
