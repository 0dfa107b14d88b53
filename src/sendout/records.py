"""The stored things, as plain immutable values passed between storage and the pure stages."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sendout.delivery.signer import SigningKeys

__all__ = [
    "DELIVERY_STATUSES",
    "AsyncAction",
    "Attempt",
    "Channel",
    "ChannelState",
    "ClaimedDelivery",
    "Customer",
    "CustomerFields",
    "Delivery",
    "DeliveryCopy",
    "Distribution",
    "Event",
    "EventSchema",
    "History",
    "NewDelivery",
    "Outcome",
    "Page",
    "Project",
    "PropertyDef",
    "QueueCounts",
]

JSON = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Project:
    """A project. Tokens are kept only as SHA-256 digests; secrets are plain here (storage
    seals them at rest when it has a key)."""

    id: str
    name: str
    app_id: str
    app_token_sha256: str
    webhook_secret: str
    created_at: str
    previous_webhook_secret: str | None = None
    previous_secret_expires_ms: int | None = None
    description: str | None = None
    timezone: str = "UTC"
    currency: str = "USD"
    voucherify_secret: str | None = None  # keys x-voucherify-signature; None: the webhook secret
    staged_voucherify_secret: str | None = None  # staged: receivers are taught it before a switch

    def signing_secrets(self, now_ms: int) -> tuple[str, ...]:
        """The current secret, then the previous one while its grace period lasts."""
        previous = self.previous_webhook_secret
        expires = self.previous_secret_expires_ms
        if previous and expires is not None and expires > now_ms:
            return (self.webhook_secret, previous)
        return (self.webhook_secret,)

    def signing_keys(self, now_ms: int) -> SigningKeys:
        """Everything that signs an attempt made at ``now_ms``."""
        return SigningKeys(
            self.signing_secrets(now_ms), self.voucherify_secret or self.webhook_secret
        )


@dataclass(frozen=True, slots=True)
class CustomerFields:
    """What a request may set on a customer; ``None`` means "leave as it is"."""

    name: str | None = None
    description: str | None = None
    email: str | None = None
    phone: str | None = None
    birthdate: str | None = None
    address: JSON | None = None
    metadata: JSON | None = None

    def present(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__ if getattr(self, k) is not None}


@dataclass(frozen=True, slots=True)
class Customer:
    id: str
    project_id: str
    source_id: str | None
    name: str | None
    description: str | None
    email: str | None
    phone: str | None
    birthdate: str | None
    address: JSON | None
    metadata: JSON
    created_at: str
    updated_at: str | None


@dataclass(frozen=True, slots=True)
class PropertyDef:
    type: str
    optional: bool = False
    deleted: bool = False


@dataclass(frozen=True, slots=True)
class EventSchema:
    id: str
    project_id: str
    name: str
    properties: dict[str, PropertyDef]
    created_at: str
    updated_at: str | None


@dataclass(frozen=True, slots=True)
class Event:
    id: str
    project_id: str
    type: str
    customer_id: str
    schema_id: str
    metadata: JSON
    referral: JSON | None
    loyalty: JSON | None
    request_id: str
    created_at: str


@dataclass(frozen=True, slots=True)
class Channel:
    type: str
    event_name: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    retry_schedule: tuple[float, ...] | None = None
    payload: JSON | None = None  # the payload designer's shape; None: the documented body
    ordering: str = "none"  # none | per_customer (sendout.outbox.ordering)


@dataclass(frozen=True, slots=True)
class Distribution:
    id: str
    project_id: str
    name: str
    trigger_type: str
    trigger_event: str
    action: JSON
    channels: tuple[Channel, ...]
    status: str
    created_at: str
    updated_at: str | None
    conditions: JSON | None = None  # Voucherify's filter shape, checked at save
    reentry: JSON | None = None  # None: every time; else once_per_customer or limited
    channel_states: tuple[ChannelState, ...] = field(default=(), compare=False)

    def state_of(self, index: int) -> ChannelState:
        return self.channel_states[index] if index < len(self.channel_states) else ChannelState()

    @property
    def paused(self) -> bool:
        return self.status == "PAUSED" or any(s.paused_at for s in self.channel_states)


@dataclass(frozen=True, slots=True)
class NewDelivery:
    """One delivery to commit with the event that caused it."""

    id: str
    distribution_id: str
    channel_index: int
    event_name: str
    url: str
    headers: dict[str, str]
    body: bytes
    order_key: str | None = None  # set on a channel with ordering: its turn comes in order


@dataclass(frozen=True, slots=True)
class ClaimedDelivery:
    id: str
    project_id: str
    distribution_id: str
    channel_index: int
    url: str
    headers: dict[str, str]
    body: bytes
    attempts: int
    keys: SigningKeys  # the project's, at claim time
    retry_schedule: tuple[float, ...] | None = None  # the channel's own, else the default
    order_key: str | None = None


@dataclass(frozen=True, slots=True)
class ChannelState:
    """Delivery health of one channel of a distribution."""

    consecutive_failures: int = 0
    paused_at: str | None = None
    pause_reason: str | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one attempt did, and what the delivery becomes."""

    delivery_id: str
    distribution_id: str
    channel_index: int
    attempted_at_ms: int
    status_code: int | None
    latency_ms: float
    error: str | None
    response_excerpt: str | None
    delivered: bool
    next_attempt_at_ms: int | None  # None and not delivered: retries exhausted
    order_key: str | None = None  # the delivery's, so that the next of its customer's turn comes

    @property
    def finished(self) -> bool:
        """Delivered, or failed for good: no attempt of this delivery follows."""
        return self.delivered or self.next_attempt_at_ms is None


@dataclass(frozen=True, slots=True)
class Attempt:
    attempted_at: str
    status_code: int | None
    latency_ms: float
    error: str | None
    response_excerpt: str | None


DELIVERY_STATUSES = ("pending", "delivered", "failed", "canceled")  # a delivery's status


@dataclass(frozen=True, slots=True)
class Delivery:
    id: str
    project_id: str
    distribution_id: str
    event_id: str
    channel_index: int
    event_name: str
    url: str
    status: str
    attempts_count: int
    next_attempt_at: str | None
    created_at: str
    delivered_at: str | None
    attempts: tuple[Attempt, ...]
    held: bool = False  # pending behind an older delivery of the same customer (ordering)


@dataclass(frozen=True, slots=True)
class QueueCounts:
    """One distribution's outbox at a glance: what waits, since when, what failed lately."""

    distribution_id: str
    pending: int  # waiting for a first or a next attempt (in flight ones too)
    due: int  # pending and due now
    oldest_due_ms: int | None  # the earliest next attempt among the pending ones
    failed: int  # failed for good (retries exhausted) at or after the time asked about

    def late_seconds(self, now_ms: int) -> float | None:
        """How long the earliest next attempt has been due (0 if not yet); None if none waits."""
        if self.oldest_due_ms is None:
            return None
        return max(0.0, (now_ms - self.oldest_due_ms) / 1000)


@dataclass(frozen=True, slots=True)
class DeliveryRequest:
    """What a delivery posts: its URL, the stored headers (the signature headers are added at
    each attempt) and the exact body bytes."""

    url: str
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True, slots=True)
class Page:
    limit: int
    page: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.limit


@dataclass(frozen=True, slots=True)
class History:
    """Stored events of one name, oldest first, with each one's customer as stored now."""

    events: tuple[Event, ...]
    customers: dict[str, Customer]


@dataclass(frozen=True, slots=True)
class AsyncAction:
    """Work a request handed to the worker, and the record a client polls (``aa_…``)."""

    id: str
    project_id: str
    type: str  # CAMPAIGN.VOUCHERS_GENERATE | CAMPAIGN.DELETE
    status: str  # ENQUEUED | IN_PROGRESS | DONE | FAILED
    campaign_id: str | None
    requested: int  # units of work asked for (codes to generate)
    done: int  # units done so far
    params: JSON  # what the work needs (e.g. a code_config)
    result: JSON | None
    request_id: str
    created_at: str
    updated_at: str | None = None
    processing_ms: int | None = None
    lease_until_ms: int = 0  # a worker holds it until then


@dataclass(frozen=True, slots=True)
class DeliveryCopy:
    """A delivery as its receiver gets it (before signing), for a stream's copy."""

    id: str
    event_id: str
    channel_index: int
    event_name: str
    headers: dict[str, str]
    body: bytes
    created_at: str
