"""The refusals both backends raise, worded once."""

from __future__ import annotations

from sendout.errors import Conflict, InvalidInput

__all__ = [
    "app_id_taken",
    "delivery_canceled",
    "distribution_not_paused",
    "distribution_paused",
    "duplicate_schema",
    "idempotency_key_reused",
    "in_use",
    "unknown_event",
    "unknown_trigger_event",
]


def unknown_event(name: str) -> InvalidInput:
    return InvalidInput(
        f"No custom event schema named '{name}' exists in this project;"
        " define it with POST /management/v1/projects/{projectId}/custom-event-schemas",
        key="unknown_event",
        message="Unknown custom event",
        resource_id=name,
        resource_type="custom_event_schema",
    )


def duplicate_schema(name: str) -> Conflict:
    return Conflict(
        f"A custom event schema named '{name}' already exists",
        resource_type="custom_event_schema",
        resource_id=name,
    )


def idempotency_key_reused(key: str) -> Conflict:
    return Conflict(
        f"Idempotency-Key {key!r} was already used with a different request body;"
        " use a new key for a different request",
        key="idempotency_key_reused",
        message="Idempotency key reused",
    )


def distribution_not_paused(distribution_id: str) -> Conflict:
    return Conflict(
        f"Distribution {distribution_id} is live: it is not paused and none of its channels is",
        key="distribution_not_paused",
        message="Distribution not paused",
        resource_id=distribution_id,
        resource_type="distribution",
    )


def distribution_paused(distribution_id: str) -> Conflict:
    return Conflict(
        f"Distribution {distribution_id} or this delivery's channel is paused; resume it"
        " (POST /v1/distributions/{id}/resume) to deliver",
        key="distribution_paused",
        message="Distribution paused",
        resource_id=distribution_id,
        resource_type="distribution",
    )


def delivery_canceled(delivery_id: str) -> Conflict:
    return Conflict(
        f"Delivery {delivery_id} was canceled with its distribution",
        key="delivery_canceled",
        message="Delivery canceled",
        resource_id=delivery_id,
        resource_type="delivery",
    )


def app_id_taken(app_id: str) -> Conflict:
    return Conflict(
        f"The app id {app_id!r} already belongs to another project; the default project needs"
        " its own (SENDOUT_APP_ID)",
        key="duplicate_app_id",
        message="Duplicated app id",
    )


def unknown_trigger_event(name: str) -> InvalidInput:
    return InvalidInput(
        f"trigger.event '{name}' has no custom event schema in this project; create it first",
        key="unknown_event",
        message="Unknown custom event",
        resource_id=name,
        resource_type="custom_event_schema",
    )


_IN_USE = {  # resource type: (key, message)
    "campaign": ("campaign_in_use", "Campaign in use"),
    "promotion_tier": ("promotion_tier_in_use", "Promotion tier in use"),
    "custom_event_schema": ("event_schema_in_use", "Custom event schema in use"),
}


def in_use(what: str, resource_type: str, resource_id: str, distribution_id: str) -> Conflict:
    """``what`` (e.g. "Campaign 'Welcome'") cannot be deleted: a distribution uses it."""
    key, message = _IN_USE[resource_type]
    return Conflict(
        f"{what} is used by distribution {distribution_id}; change or delete that distribution"
        " first",
        key=key,
        message=message,
        resource_id=resource_id,
        resource_type=resource_type,
    )
