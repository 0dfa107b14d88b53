"""The storage interface: domain verbs, not a generic repository.

Each backend implements every verb; where SQLite and PostgreSQL differ (claims, wake-ups) is
exactly inside these verbs. Verbs that refuse raise :mod:`sendout.errors` exceptions and leave
nothing written.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sendout.records import (
    ClaimedMessage,
    Customer,
    CustomerFields,
    Delivery,
    Distribution,
    Event,
    EventSchema,
    NewMessage,
    Outcome,
    Page,
    Project,
    PropertyDef,
)

__all__ = ["CustomerRef", "DeliveryFilter", "Storage", "TrackCommand", "Tracking"]


@dataclass(frozen=True, slots=True)
class CustomerRef:
    """How a request names a customer: our ``cust_`` id, the caller's ``source_id``, or both."""

    id: str | None = None
    source_id: str | None = None


@dataclass(frozen=True, slots=True)
class TrackCommand:
    project_id: str
    event_id: str
    event_name: str
    customer: CustomerRef
    customer_fields: CustomerFields
    metadata: dict[str, Any]
    referral: dict[str, Any] | None
    loyalty: dict[str, Any] | None
    request_id: str
    created_at: str
    created_at_ms: int


class Tracking(Protocol):
    """The pure decisions taken inside the tracking transaction."""

    def validate(self, schema: EventSchema) -> None:
        """Raise :class:`sendout.errors.SendoutError` when the event does not fit its schema."""

    def plan(
        self,
        event: Event,
        schema: EventSchema,
        customer: Customer,
        distributions: Sequence[Distribution],
    ) -> list[NewMessage]:
        """The outbox messages the event causes."""


@dataclass(frozen=True, slots=True)
class DeliveryFilter:
    distribution_id: str | None = None
    event_id: str | None = None
    status: str | None = None


class Storage(Protocol):
    # --- life cycle -------------------------------------------------------------------------
    async def open(self) -> None: ...
    async def close(self) -> None: ...
    async def migrate(self) -> list[str]:
        """Apply pending migrations; return the names applied."""

    async def subscribe(self, wake: Callable[[], None]) -> None:
        """Call ``wake`` when another process enqueues messages (PostgreSQL ``LISTEN``).

        A no-op on SQLite: its one process wakes its worker directly after each commit.
        """

    # --- instance and projects ---------------------------------------------------------------
    async def get_setting(self, key: str) -> str | None: ...
    async def put_setting(self, key: str, value: str) -> None: ...
    async def default_project(self) -> Project | None: ...
    async def create_project(self, project: Project, *, is_default: bool) -> Project: ...
    async def update_project_credentials(
        self, project_id: str, *, app_id: str, app_token: str, webhook_secret: str
    ) -> Project: ...
    async def project_by_app_id(self, app_id: str) -> Project | None: ...
    async def get_project(self, project_id: str) -> Project: ...
    async def list_projects(self) -> list[Project]: ...

    # --- customers -----------------------------------------------------------------------------
    async def upsert_customer(
        self, project_id: str, ref: CustomerRef, fields: CustomerFields, now: str
    ) -> Customer: ...
    async def get_customer(self, project_id: str, id_or_source_id: str) -> Customer: ...
    async def update_customer(
        self, project_id: str, id_or_source_id: str, fields: CustomerFields, now: str
    ) -> Customer: ...
    async def delete_customer(self, project_id: str, id_or_source_id: str) -> None: ...
    async def list_customers(
        self, project_id: str, page: Page, *, email: str | None, name: str | None, order: str
    ) -> tuple[list[Customer], int]: ...
    async def count_customers(self, project_id: str) -> int: ...

    # --- custom event schemas -------------------------------------------------------------------
    async def create_event_schema(
        self,
        project_id: str,
        schema_id: str,
        name: str,
        properties: dict[str, PropertyDef],
        now: str,
    ) -> EventSchema: ...
    async def get_event_schema(self, project_id: str, schema_id: str) -> EventSchema: ...
    async def list_event_schemas(self, project_id: str) -> list[EventSchema]: ...
    async def update_event_schema(
        self, project_id: str, schema_id: str, properties: dict[str, PropertyDef], now: str
    ) -> EventSchema: ...
    async def delete_event_schema(self, project_id: str, schema_id: str) -> None: ...
    async def event_schema_exists(self, project_id: str, name: str) -> bool: ...

    # --- events ------------------------------------------------------------------------------
    async def track_event(
        self, command: TrackCommand, tracking: Tracking
    ) -> tuple[Event, Customer, int]:
        """Upsert the customer, store the event and its outbox messages in one transaction.

        Returns the event, the customer and how many messages were enqueued.
        """

    async def list_events(
        self, project_id: str, page: Page, *, customer_id: str | None, event_name: str | None
    ) -> tuple[list[Event], int]: ...

    # --- distributions -------------------------------------------------------------------------
    async def create_distribution(self, distribution: Distribution) -> Distribution: ...
    async def get_distribution(self, project_id: str, distribution_id: str) -> Distribution: ...
    async def list_distributions(
        self, project_id: str, page: Page
    ) -> tuple[list[Distribution], int]: ...
    async def replace_distribution(self, distribution: Distribution) -> Distribution: ...
    async def delete_distribution(
        self, project_id: str, distribution_id: str, now: str
    ) -> None: ...

    # --- outbox and deliveries ---------------------------------------------------------------
    async def claim_due(self, now_ms: int, limit: int, lease_ms: int) -> list[ClaimedMessage]:
        """Lease up to ``limit`` due messages; an expired lease makes a message due again."""

    async def record_outcomes(self, outcomes: Sequence[Outcome]) -> None: ...
    async def next_due_ms(self) -> int | None:
        """When the earliest pending message falls due (or its lease expires), if any."""

    async def list_deliveries(
        self, project_id: str, page: Page, where: DeliveryFilter
    ) -> tuple[list[Delivery], int]: ...
    async def get_delivery(self, project_id: str, delivery_id: str) -> Delivery: ...
