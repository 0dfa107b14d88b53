"""Build the ``customer.custom_event`` webhook body exactly as Voucherify documents it. Pure."""

from __future__ import annotations

from typing import Any

from sendout.records import Customer, Event, EventSchema

__all__ = ["EventSource", "build_data", "build_envelope", "simple_customer"]

JSON = dict[str, Any]
EventSource = JSON


def simple_customer(customer: Customer) -> JSON:
    """``SimpleCustomer``: the five fields and ``object``, ``null`` where absent, except a
    ``name`` the customer does not have, which Voucherify leaves out."""
    out: JSON = {"id": customer.id}
    if customer.name is not None:
        out["name"] = customer.name
    out.update(
        {
            "email": customer.email,
            "source_id": customer.source_id,
            "metadata": customer.metadata,
            "object": "customer",
        }
    )
    return out


def _event_object(event: Event) -> JSON:
    return {
        "id": event.id,
        "object": "event",
        "type": event.type,
        "customer": {"id": event.customer_id, "object": "customer"},
        "referral": event.referral,
        "loyalty": event.loyalty,
        "metadata": event.metadata,
        "created_at": event.created_at,
    }


def build_data(
    event: Event, schema: EventSchema, customer: Customer, extras: JSON | None = None
) -> JSON:
    """``EventCustomerCustomEventData``: the five core keys always, then purpose extras."""
    data: JSON = {
        "event": _event_object(event),
        "event_schema": {"id": schema.id, "name": schema.name},
        "customer": simple_customer(customer),
        "referral": None,
        "loyalty": None,
    }
    if extras:
        data.update(extras)
    return data


def build_envelope(
    *,
    delivery_id: str,
    project_id: str,
    created_at: str,
    event_name: str,
    data: JSON,
    distribution_id: str,
    target_url: str,
    activity_id: str,
    event: Event,
    event_source: EventSource,
) -> JSON:
    """``WebhookDistributionPayload``: the seven top-level keys, nothing else."""
    return {
        "id": delivery_id,
        "project_id": project_id,
        "created_at": created_at,
        "type": event_name,
        "data": data,
        "source": {"id": distribution_id, "object": "distribution", "target_url": target_url},
        "event": {
            "id": activity_id,
            "type": "customer.custom_event",
            "created_at": event.created_at,
            "entity_id": event.customer_id,
            "group_id": event.request_id,
            "event_source": event_source,
        },
    }
