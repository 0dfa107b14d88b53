"""Records rendered in Voucherify's response shapes (and sendout's for its extensions)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sendout.clock import isoformat
from sendout.delivery.signer import SigningKeys, signature_headers
from sendout.matching.match import CUSTOM_EVENT_TRIGGER
from sendout.payloads.custom_event import simple_customer
from sendout.pipeline.preview import Preview
from sendout.pipeline.simulate import Simulation
from sendout.promotions.records import CustomerStanding
from sendout.records import (
    Channel,
    ChannelState,
    Customer,
    Delivery,
    Distribution,
    Event,
    EventSchema,
    Project,
)

__all__ = [
    "customer_view",
    "delivery_view",
    "distribution_view",
    "event_schema_view",
    "event_view",
    "preview_view",
    "project_view",
    "simulation_view",
    "tracked_event_view",
]

JSON = dict[str, Any]


def customer_view(c: Customer, standing: CustomerStanding) -> JSON:
    """``CustomerWithSummaryLoyaltyReferrals``: loyalty and referrals from what is stored;
    redemption and order counters stay zero (sendout has neither)."""
    points = sum(p.points for p in standing.programs)
    return {
        "id": c.id,
        "source_id": c.source_id,
        "name": c.name,
        "description": c.description,
        "email": c.email,
        "phone": c.phone,
        "birthdate": c.birthdate,
        "address": c.address,
        "summary": _summary(points),
        "loyalty": _loyalty(standing, points),
        "referrals": _referrals(standing),
        "metadata": c.metadata,
        "system_metadata": {},
        "created_at": c.created_at,
        "updated_at": c.updated_at,
        "assets": {"cockpit_url": None, "cockpit_preference_center_url": None},
        "object": "customer",
    }


def _summary(points: int) -> JSON:
    """``CustomerSummary``: ``points_to_go`` is the balance left on the customer's cards."""
    return {
        "redemptions": {
            "total_redeemed": 0,
            "total_failed": 0,
            "total_succeeded": 0,
            "total_rolled_back": 0,
            "total_rollback_failed": 0,
            "total_rollback_succeeded": 0,
            "gift": {"redeemed_amount": 0, "amount_to_go": 0},
            "loyalty_card": {"redeemed_points": 0, "points_to_go": points},
        },
        "orders": {
            "total_amount": 0,
            "total_count": 0,
            "average_amount": 0,
            "last_order_amount": 0,
        },
    }


def _loyalty(standing: CustomerStanding, points: int) -> JSON:
    """``CustomerLoyalty``: card balances and customers referred, in all and per program name."""
    return {
        "points": points,
        "referred_customers": sum(p.referred_customers for p in standing.programs),
        "campaigns": {
            p.campaign_name: {"points": p.points, "referred_customers": p.referred_customers}
            for p in standing.programs
        },
    }


def _referrals(standing: CustomerStanding) -> JSON:
    """``CustomerReferrals``: the conversions that referred this customer (the related object
    is the custom event that converted them)."""
    return {
        "total": len(standing.referred_by),
        "campaigns": [
            {
                "campaign_id": r.campaign_id,
                "referrer_id": r.referrer_id,
                "related_object_id": r.event_id,
                "related_object_type": "custom_event",
                "date": r.created_at,
            }
            for r in standing.referred_by
        ],
    }


def tracked_event_view(event: Event, customer: Customer) -> JSON:
    """``EventsCreateResponseBody`` plus the stored event's ``id`` and ``created_at``."""
    return {
        "id": event.id,
        "object": "event",
        "type": event.type,
        "customer": simple_customer(customer),
        "referral": None,
        "loyalty": None,
        "metadata": event.metadata,
        "created_at": event.created_at,
    }


def event_view(event: Event) -> JSON:
    return {
        "id": event.id,
        "object": "event",
        "type": event.type,
        "customer": {"id": event.customer_id, "object": "customer"},
        "event_schema_id": event.schema_id,
        "referral": event.referral,
        "loyalty": event.loyalty,
        "metadata": event.metadata,
        "request_id": event.request_id,
        "created_at": event.created_at,
    }


def event_schema_view(s: EventSchema) -> JSON:
    return {
        "id": s.id,
        "name": s.name,
        "schema": {
            "properties": {
                name: {"type": p.type, "optional": p.optional, "deleted": p.deleted}
                for name, p in s.properties.items()
            }
        },
        "created_at": s.created_at,
        "updated_at": s.updated_at,
        "object": "custom-event-schema",
    }


def distribution_view(d: Distribution) -> JSON:
    trigger: JSON = {"type": d.trigger_type}
    if d.trigger_type == CUSTOM_EVENT_TRIGGER:
        trigger["event"] = d.trigger_event
    return {
        "id": d.id,
        "object": "distribution",
        "name": d.name,
        "trigger": trigger,
        "action": d.action,
        "channels": [_channel_view(c, d.state_of(i)) for i, c in enumerate(d.channels)],
        "status": d.status,
        "conditions": d.conditions,
        "reentry": d.reentry or {"mode": "every_time"},
        "created_at": d.created_at,
        "updated_at": d.updated_at,
    }


def _channel_view(c: Channel, state: ChannelState) -> JSON:
    return {
        "type": c.type,
        "event_name": c.event_name,
        "url": c.url,
        "headers": c.headers,
        "retry_schedule": None if c.retry_schedule is None else list(c.retry_schedule),
        "payload": c.payload or {"mode": "default"},
        "ordering": c.ordering,
        "status": "PAUSED" if state.paused_at else "ACTIVE",
        "paused_at": state.paused_at,
        "pause_reason": state.pause_reason,
        "consecutive_failures": state.consecutive_failures,
    }


def delivery_view(d: Delivery) -> JSON:
    return {
        "id": d.id,
        "object": "delivery",
        "distribution_id": d.distribution_id,
        "event_id": d.event_id,
        "channel_index": d.channel_index,
        "type": d.event_name,
        "target_url": d.url,
        "status": d.status,
        "attempts_count": d.attempts_count,
        "next_attempt_at": d.next_attempt_at,
        "held": d.held,
        "created_at": d.created_at,
        "delivered_at": d.delivered_at,
        "attempts": [
            {
                "attempted_at": a.attempted_at,
                "status_code": a.status_code,
                "latency_ms": a.latency_ms,
                "error": a.error,
                "response_excerpt": a.response_excerpt,
            }
            for a in d.attempts
        ],
    }


def project_view(p: Project) -> JSON:
    return {
        "id": p.id,
        "name": p.name,
        "description": p.description,
        "timezone": p.timezone,
        "currency": p.currency,
        "webhook_version": "v2024-01-01",
        "created_at": p.created_at,
        "object": "project",
    }


def preview_view(
    d: Distribution,
    event_id: str,
    result: Preview,
    keys: SigningKeys,
    timestamp: int,
) -> JSON:
    """``POST /v1/distributions[/{id}]/preview``: the decision and each delivery as it would be
    sent, signed with the project's secrets now (the secrets themselves are never shown)."""
    return {
        "object": "distribution_preview",
        "distribution_id": d.id,
        "event_id": event_id,
        "decision": result.decision,
        "details": result.details,
        "deliveries": [
            {
                "id": n.id,
                "channel_index": n.channel_index,
                "event_name": n.event_name,
                "url": n.url,
                "headers": {**n.headers, **signature_headers(keys, n.id, timestamp, n.body)},
                "body": n.body.decode(),
            }
            for n in result.deliveries
        ],
    }


def simulation_view(
    distribution_id: str | None, trigger: str, since: datetime, until: datetime, s: Simulation
) -> JSON:
    """``POST /v1/distributions[/{id}]/simulate``: the counts (``distribution_id`` is null for
    a distribution that is not saved)."""
    return {
        "object": "distribution_simulation",
        "distribution_id": distribution_id,
        "event": trigger,
        "since": isoformat(since),
        "until": isoformat(until),
        "events": s.events,
        "would_send": s.would_send,
        "skipped": s.skipped,
        "customers": s.customers,
        "customers_sent": s.customers_sent,
        "codes": None
        if s.codes is None
        else {
            "campaign_id": s.codes.campaign_id,
            "needed": s.codes.needed,
            "available": s.codes.available,
            "missing": s.codes.missing,
        },
    }
