"""``data`` of a ``customer.custom_event`` webhook (``EventCustomerCustomEventData``): the five
keys always sent (``event``, ``event_schema``, ``customer``, ``referral``, ``loyalty``) and the
keys a distribution's purpose adds (``campaign``, ``promotion_tier``, ``voucher``,
``publication``)."""

from __future__ import annotations

from sendout_receiver.models.base import JSONObject, Model, Timestamp
from sendout_receiver.models.promotions import (
    Publication,
    SimpleCampaign,
    SimplePromotionTier,
    SimpleVoucher,
)

__all__ = [
    "CustomEvent",
    "CustomerCustomEventData",
    "EventCustomer",
    "EventLoyalty",
    "EventReferral",
    "Loyalty",
    "Referral",
    "SimpleCustomEvent",
    "SimpleCustomer",
]


class SimpleCustomer(Model):
    id: str | None = None
    name: str | None = None
    email: str | None = None
    source_id: str | None = None
    metadata: JSONObject | None = None
    object: str = "customer"


class EventCustomer(Model):
    """``data.event.customer``: often only the ``id``."""

    id: str | None = None
    name: str | None = None
    email: str | None = None
    source_id: str | None = None
    metadata: JSONObject | None = None
    object: str = "customer"


class EventReferral(Model):
    """The referral the tracked event carried, as echoed back."""

    referrer_id: str | None = None
    code: str | None = None
    id: str | None = None


class EventLoyalty(Model):
    code: str | None = None


class CustomEvent(Model):
    """``data.event``: the tracked event."""

    id: str | None = None
    object: str = "event"
    type: str
    customer: EventCustomer
    referral: EventReferral | None = None
    loyalty: EventLoyalty | None = None
    metadata: JSONObject | None = None
    created_at: Timestamp | None = None


class SimpleCustomEvent(Model):
    """``data.event_schema``: the custom event schema the event's name matched."""

    id: str | None = None
    name: str | None = None


class Referral(Model):
    """``data.referral``: who referred the customer, with which code, in which program."""

    referrer: SimpleCustomer | None = None
    voucher: SimpleVoucher | None = None
    campaign: SimpleCampaign | None = None


class Loyalty(Model):
    """``data.loyalty``: the card (points after this event) and its program."""

    voucher: SimpleVoucher | None = None
    campaign: SimpleCampaign | None = None


class CustomerCustomEventData(Model):
    event: CustomEvent
    event_schema: SimpleCustomEvent
    customer: SimpleCustomer
    referral: Referral | None = None
    loyalty: Loyalty | None = None
    campaign: SimpleCampaign | None = None  # notify about a promotion; publish a code
    promotion_tier: SimplePromotionTier | None = None  # notify about a promotion
    voucher: SimpleVoucher | None = None  # publish a code: the code published
    publication: Publication | None = None  # publish a code: its publication
