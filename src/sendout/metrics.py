"""Prometheus metrics (``GET /metrics``): what this process counted (events, enqueued
webhooks, delivery attempts by distribution and result, their latency) and the gauges read from
the shared store when scraped (queues, paused channels, codes left; see ``store_metrics``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

__all__ = [
    "ATTEMPTS",
    "ATTEMPT_SECONDS",
    "CODES_REMAINING",
    "CONTENT_TYPE_LATEST",
    "ENQUEUED",
    "EVENTS",
    "PAUSED_CHANNELS",
    "QUEUE_DUE",
    "QUEUE_OLDEST_DUE_AGE",
    "QUEUE_PENDING",
    "QueueReading",
    "StoreReading",
    "record_attempt",
    "render",
    "show_store",
]

EVENTS = Counter("sendout_events_tracked", "Custom events accepted by POST /v1/events")
ENQUEUED = Counter("sendout_webhooks_enqueued", "Deliveries committed with their event")
ATTEMPTS = Counter(
    "sendout_delivery_attempts",
    "Webhook delivery attempts by distribution and result: delivered, retry (will be tried"
    " again), failed (gave up)",
    ["distribution", "result"],
)
ATTEMPT_SECONDS = Histogram(
    "sendout_delivery_attempt_seconds",
    "Time from sending a webhook to its receiver's answer (or the error), by distribution",
    ["distribution"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)

_BY_DISTRIBUTION = ["project", "distribution"]
QUEUE_PENDING = Gauge(
    "sendout_queue_pending",
    "Deliveries waiting for a first or next attempt (in the store: the same on every process)",
    _BY_DISTRIBUTION,
)
QUEUE_DUE = Gauge("sendout_queue_due", "Pending deliveries due now", _BY_DISTRIBUTION)
QUEUE_OLDEST_DUE_AGE = Gauge(
    "sendout_queue_oldest_due_age_seconds",
    "How long the oldest due delivery has been due (0 when none is)",
    _BY_DISTRIBUTION,
)
PAUSED_CHANNELS = Gauge(
    "sendout_paused_channels", "Channels paused after repeated failures", _BY_DISTRIBUTION
)
CODES_REMAINING = Gauge(
    "sendout_codes_remaining", "Codes a campaign can still publish", ["project", "campaign"]
)


@dataclass(frozen=True, slots=True)
class QueueReading:
    project_id: str
    distribution_id: str
    pending: int
    due: int
    oldest_due_age: float  # seconds


@dataclass(slots=True)
class StoreReading:
    """One reading of the store gauges."""

    queues: list[QueueReading] = field(default_factory=list)
    paused: list[tuple[str, str, int]] = field(default_factory=list)  # project, distribution, n
    codes_left: list[tuple[str, str, int]] = field(default_factory=list)  # project, campaign, n


def record_attempt(distribution_id: str, result: str, seconds: float) -> None:
    """One delivery attempt: its distribution, its result label and how long it took."""
    ATTEMPTS.labels(distribution_id, result).inc()
    ATTEMPT_SECONDS.labels(distribution_id).observe(seconds)


def show_store(reading: StoreReading) -> None:
    """Replace the store gauges with ``reading`` (a deleted distribution's series go away)."""
    for gauge in (QUEUE_PENDING, QUEUE_DUE, QUEUE_OLDEST_DUE_AGE, PAUSED_CHANNELS, CODES_REMAINING):
        gauge.clear()
    for q in reading.queues:
        QUEUE_PENDING.labels(q.project_id, q.distribution_id).set(q.pending)
        QUEUE_DUE.labels(q.project_id, q.distribution_id).set(q.due)
        QUEUE_OLDEST_DUE_AGE.labels(q.project_id, q.distribution_id).set(q.oldest_due_age)
    for project_id, distribution_id, paused in reading.paused:
        PAUSED_CHANNELS.labels(project_id, distribution_id).set(paused)
    for project_id, campaign_id, left in reading.codes_left:
        CODES_REMAINING.labels(project_id, campaign_id).set(left)


def render() -> bytes:
    return generate_latest()
