"""The envelope around ``data`` (Voucherify's ``WebhookDistributionPayload``): the seven
top-level keys ``id``, ``project_id``, ``created_at``, ``type``, ``data``, ``source``,
``event``."""

from __future__ import annotations

from sendout_receiver.models.base import Model, Timestamp
from sendout_receiver.models.data import CustomerCustomEventData

__all__ = ["ApiKey", "CustomerCustomEventWebhook", "EventSource", "Source", "User", "WebhookEvent"]


class ApiKey(Model):
    name: str | None = None
    app_id: str | None = None


class User(Model):
    id: str | None = None


class EventSource(Model):
    """Where the event came from: ``API``, ``CLIENT_API``, ``USER_PORTAL`` or ``INTERNAL``."""

    channel: str | None = None
    api_key: ApiKey | None = None
    user: User | None = None


class Source(Model):
    """The distribution that sent the webhook, and the URL it was sent to."""

    id: str
    object: str = "distribution"
    target_url: str | None = None


class WebhookEvent(Model):
    """The internal event behind the webhook (``type`` is ``customer.custom_event``)."""

    id: str
    type: str
    created_at: Timestamp | None = None
    entity_id: str | None = None  # the customer's id
    group_id: str | None = None  # the request id of the POST /v1/events
    event_source: EventSource | None = None


class CustomerCustomEventWebhook(Model):
    """A whole ``customer.custom_event`` distribution webhook.

    ``id`` (``whs_…``, also the ``webhook-id`` header) is stable across retries: deduplicate on
    it. ``type`` is the channel's event name, not the event's type (that is ``data.event.type``).
    """

    id: str
    project_id: str
    created_at: Timestamp
    type: str
    data: CustomerCustomEventData
    source: Source
    event: WebhookEvent
