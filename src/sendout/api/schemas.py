"""Request bodies, as Voucherify (and its SDK) send them.

On routes Voucherify shares, unknown keys are ignored (the SDK sends fields sendout may not
use); on sendout's own routes (``/v1/distributions*``) an unknown key is refused, so a setting
sendout does not know is never silently dropped.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from sendout.api.body import Bool, IsoDate, IsoDateTime, Metadata, Number
from sendout.delivery.signer import voucherify_secret_problem
from sendout.errors import InvalidInput
from sendout.events.metadata import PROPERTY_TYPES
from sendout.matching.match import CUSTOM_EVENT_TRIGGER
from sendout.outbox.ordering import ORDERINGS
from sendout.records import CustomerFields
from sendout.storage.base import CustomerRef

__all__ = [
    "ActionIn",
    "AddressIn",
    "ChannelIn",
    "CustomerIn",
    "CustomerUpdateIn",
    "DistributionIn",
    "DistributionPatchIn",
    "DraftPreviewIn",
    "DraftSimulateIn",
    "EventSchemaIn",
    "EventSchemaUpdateIn",
    "EventsCreateIn",
    "LoyaltyIn",
    "PreviewIn",
    "ProjectIn",
    "PropertyIn",
    "ReferralIn",
    "ReplayIn",
    "RotateSecretIn",
    "SavedPreviewIn",
    "SavedSimulateIn",
    "SchemaBodyIn",
    "StageVoucherifySecretIn",
    "SwitchVoucherifySecretIn",
    "TriggerIn",
    "VoucherifySecretIn",
]


class _In(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _Own(BaseModel):
    """A body of sendout's own routes: an unknown key is a 400 naming it."""

    model_config = ConfigDict(extra="forbid")


class AddressIn(_In):
    city: str | None = None
    state: str | None = None
    line_1: str | None = None
    line_2: str | None = None
    country: str | None = None
    postal_code: str | None = None


class CustomerUpdateIn(_In):
    """``CustomerBase``: what can change on a customer."""

    name: str | None = Field(default=None, max_length=1000)
    description: str | None = Field(default=None, max_length=10000)
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=100)
    birthdate: IsoDate | None = None
    birthday: IsoDate | None = Field(default=None, description="Deprecated; use birthdate.")
    address: AddressIn | None = None
    metadata: Metadata | None = None

    def fields(self) -> CustomerFields:
        birthdate = self.birthdate or self.birthday
        return CustomerFields(
            name=self.name,
            description=self.description,
            email=self.email,
            phone=self.phone,
            birthdate=None if birthdate is None else birthdate.isoformat(),
            address=None if self.address is None else self.address.model_dump(),
            metadata=self.metadata,
        )


class CustomerIn(CustomerUpdateIn):
    """``Customer``: identified by ``id`` (``cust_…``) or the caller's ``source_id``."""

    id: str | None = Field(default=None, min_length=1, max_length=100)
    source_id: str | None = Field(default=None, min_length=1, max_length=1000)

    def ref(self) -> CustomerRef:
        """How the request names its customer; refused when it names none."""
        if self.id is None and self.source_id is None:
            raise InvalidInput(
                "customer must carry an id (cust_…) or a source_id",
                key="missing_customer_identifier",
                message="Missing customer identifier",
            )
        return CustomerRef(id=self.id, source_id=self.source_id)


def _given(name: str) -> JsonDict:
    """JSON Schema: ``name`` is there and not null (a null key is read as absent)."""
    return {"required": [name], "properties": {name: {"not": {"type": "null"}}}}


IDENTIFIED: JsonDict = {"anyOf": [_given("id"), _given("source_id")]}
"""A customer the route refuses without an ``id`` or a ``source_id`` (``CustomerIn.ref``)."""


class ReferralIn(_In):
    code: str = Field(min_length=1, max_length=1000)
    referrer_id: str | None = None


class LoyaltyIn(_In):
    code: str = Field(min_length=1, max_length=1000)


class EventsCreateIn(_In):
    """``EventsCreateRequestBody`` of ``POST /v1/events``."""

    event: str = Field(min_length=1, max_length=300)
    customer: CustomerIn = Field(json_schema_extra=IDENTIFIED)
    referral: ReferralIn | None = None
    loyalty: LoyaltyIn | None = None
    metadata: Metadata | None = None


class BulkEventIn(EventsCreateIn):
    """One item of ``POST /v1/events/bulk``: a ``POST /v1/events`` body and, optionally, the
    key a single request sends as its ``Idempotency-Key`` header."""

    idempotency_key: str | None = Field(default=None, min_length=1, max_length=255)


class BulkEventsIn(_Own):
    """``POST /v1/events/bulk``; documents the body (each item is read on its own, so that one
    bad item gets its own error and the others are tracked: any value is an item)."""

    events: list[BulkEventIn | Any] = Field(min_length=1, max_length=1000)


class PropertyIn(_In):
    type: str = Field(json_schema_extra={"enum": list(PROPERTY_TYPES)})
    optional: Bool = False
    deleted: Bool = False


class SchemaBodyIn(_In):
    properties: dict[str, PropertyIn] = Field(
        json_schema_extra={"propertyNames": {"minLength": 1, "maxLength": 300}}
    )


class EventSchemaIn(_In):
    name: str = Field(min_length=1, max_length=300)
    schema_: SchemaBodyIn = Field(alias="schema")


class EventSchemaUpdateIn(_In):
    schema_: SchemaBodyIn = Field(alias="schema")


class TriggerIn(_Own):
    type: str = Field(json_schema_extra={"const": CUSTOM_EVENT_TRIGGER})
    event: str = Field(min_length=1, max_length=300)


class ActionIn(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: str


class ChannelIn(_Own):
    type: str
    event_name: str = Field(min_length=1, max_length=300)
    url: str = Field(min_length=1, max_length=2048)
    headers: dict[str, str] = Field(default_factory=dict)
    retry_schedule: list[Any] | None = Field(
        default=None,
        description="Seconds to wait after each failed attempt (default: the service's schedule).",
    )
    payload: dict[str, Any] | None = Field(
        default=None,
        description='The payload designer: {"mode": "default"}, "fields" or "custom" (docs/api.md).',
    )
    ordering: str = Field(
        default="none",
        description="per_customer: one customer's webhooks go in event order, each after the"
        " one before it was delivered or failed for good (docs/api.md); none (default): no order.",
        json_schema_extra={"enum": list(ORDERINGS)},
    )


class DistributionIn(_Own):
    name: str = Field(min_length=1, max_length=300)
    trigger: TriggerIn
    action: ActionIn
    channels: list[ChannelIn] = Field(min_length=1, max_length=20)
    status: str = "ACTIVE"
    conditions: dict[str, Any] | None = Field(
        default=None,
        description="Who the distribution sends to, in Voucherify's filter shape (docs/api.md).",
    )
    reentry: dict[str, Any] | None = Field(
        default=None,
        description='How often it may send to one customer: {"mode": "every_time"} (default),'
        ' {"mode": "once_per_customer"} or {"mode": "limited", "limit": N, "period": "P1D"}.',
    )


class PreviewIn(_Own):
    """What to preview: a distribution (for ``/preview``; a saved one is named in the path)
    and either a stored event or a sample in the ``POST /v1/events`` shape."""

    distribution: DistributionIn | None = None
    event_id: str | None = Field(default=None, min_length=1, max_length=100)
    event: dict[str, Any] | None = None


_ONE_EVENT: JsonDict = {"oneOf": [_given("event_id"), _given("event")]}


class DraftPreviewIn(PreviewIn):
    """Documents ``POST /v1/distributions/preview``: the distribution is in the body, with
    either ``event_id`` or ``event``."""

    model_config = ConfigDict(json_schema_extra=_ONE_EVENT)

    distribution: DistributionIn


class SavedPreviewIn(_Own):
    """Documents ``POST /v1/distributions/{id}/preview``: the distribution is in the path."""

    model_config = ConfigDict(json_schema_extra=_ONE_EVENT)

    event_id: str | None = Field(default=None, min_length=1, max_length=100)
    event: dict[str, Any] | None = None


class SimulateIn(_Own):
    """What to simulate: a distribution (for ``/simulate``; a saved one is named in the path)
    over the events of its trigger tracked in [since, until)."""

    distribution: DistributionIn | None = None
    since: IsoDateTime = Field(description="Replay events tracked at or after this time.")
    until: IsoDateTime | None = Field(
        default=None, description="Replay events tracked before this time (default: now)."
    )


class DraftSimulateIn(SimulateIn):
    """Documents ``POST /v1/distributions/simulate``: the distribution is in the body."""

    distribution: DistributionIn


class SavedSimulateIn(_Own):
    """Documents ``POST /v1/distributions/{id}/simulate``: the distribution is in the path."""

    since: IsoDateTime = Field(description="Replay events tracked at or after this time.")
    until: IsoDateTime | None = Field(
        default=None, description="Replay events tracked before this time (default: now)."
    )


class ReplayIn(_Own):
    since: IsoDateTime = Field(description="Replay deliveries created at or after this time.")


class ProjectIn(_In):
    name: str = Field(min_length=1, max_length=300)
    description: str | None = Field(default=None, max_length=1000)
    timezone: str = Field(
        default="UTC", min_length=1, max_length=64, description="GMT offset or IANA time zone"
    )
    currency: str = Field(default="USD", pattern="^[A-Z]{3}$", description="ISO 4217 code")


def _voucherify_secret(value: str) -> str:
    problem = voucherify_secret_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


VoucherifySecretText = Annotated[
    str,
    AfterValidator(_voucherify_secret),
    Field(json_schema_extra={"pattern": "^[\\x21-\\x7e]{8,1024}$"}),
]


class VoucherifySecretIn(_Own):
    """``PUT …/voucherify-secret``: the secret that signs ``x-voucherify-signature`` now."""

    voucherify_secret: VoucherifySecretText = Field(
        description="Your Voucherify secret key, kept verbatim (8 to 1024 visible ASCII"
        " characters)."
    )


class StageVoucherifySecretIn(_Own):
    """``POST …/voucherify-secret/stage``: the secret that signs after the next switch."""

    voucherify_secret: VoucherifySecretText | None = Field(
        default=None, description="The secret to stage; generated when left out."
    )


class SwitchVoucherifySecretIn(_Own):
    """``POST …/voucherify-secret/switch`` takes no settings."""


class RotateSecretIn(_Own):
    """``POST …/webhook-secret/rotate``: sendout's own route, so an unknown key is refused."""

    grace_period_seconds: Number | None = Field(
        default=None, ge=0, le=7 * 24 * 3600, description="How long the old secret still signs."
    )


class DistributionPatchIn(_Own):
    """``PUT`` body: the fields given replace the stored ones (``"conditions": {}`` removes
    them)."""

    name: str | None = Field(default=None, min_length=1, max_length=300)
    trigger: TriggerIn | None = None
    action: ActionIn | None = None
    channels: list[ChannelIn] | None = Field(default=None, min_length=1, max_length=20)
    status: str | None = None
    conditions: dict[str, Any] | None = None
    reentry: dict[str, Any] | None = None
