"""What storage offers the pipeline: one write transaction (``Tx``), and batches.

A ``Tx`` is bound to one open transaction, one project and the request's time. It reads and
writes; it decides nothing. The order in which its verbs are called, and every rule between
them, is :mod:`sendout.pipeline`'s. ``Batches`` are the two statements that track many easy
events at once on PostgreSQL; which events are easy is again the pipeline's decision.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from sendout.promotions.tx import PromotionTx
from sendout.records import Customer, CustomerFields, Distribution, Event, EventSchema, NewDelivery
from sendout.storage.base import CustomerRef, IdempotencyKey

__all__ = ["BatchLookup", "Batches", "Insertion", "Trigger", "Tx"]

Trigger = tuple[EventSchema, list[Distribution]]  # a schema and the active distributions on it


@dataclass(frozen=True, slots=True)
class Insertion:
    """One event to store, with its deliveries."""

    event: Event
    deliveries: Sequence[NewDelivery]
    due_ms: int  # when the deliveries are first due


class Tx(PromotionTx, Protocol):
    """The verbs of one write transaction (with the promotion verbs of :class:`PromotionTx`)."""

    async def idempotent_replay(self, key: IdempotencyKey) -> bytes | None:
        """The response stored under ``key`` if fresh; Conflict if it came with another body."""

    async def remember(self, key: IdempotencyKey, response: bytes, now_ms: int) -> None:
        """Store ``response`` under ``key``, so that the same request sent again gets it."""

    async def trigger(self, event_name: str) -> Trigger | None:
        """The event's schema and its active distributions, oldest first; None: no schema."""

    async def upsert_customer(self, ref: CustomerRef, fields: CustomerFields) -> Customer:
        """The customer ``ref`` names with ``fields`` applied (created from a ``source_id``),
        held until commit; NotFound for an unknown ``cust_`` id."""

    async def insert_event(self, insertion: Insertion) -> None:
        """Store the event and its deliveries."""

    async def entries(self, distribution_id: str, customer_id: str, since_ms: int | None) -> int:
        """How many sends of the distribution to the customer were recorded from ``since_ms``
        on (``None``: ever); the customer is held by this transaction, so the count stands."""

    async def enter(
        self, distribution_id: str, customer_id: str, event_id: str, at_ms: int
    ) -> None:
        """Record one send of the distribution to the customer."""


@dataclass(frozen=True, slots=True)
class BatchLookup:
    """What a batch of events needs to know, read in one statement."""

    triggers: dict[tuple[str, str], Trigger]  # by (project id, event name)
    by_id: dict[str, Customer]
    by_source: dict[tuple[str, str], Customer]  # by (project id, source_id)


class Batches(Protocol):
    """Tracking many events in two steps (a read, then one atomic write) instead of a
    transaction each."""

    async def lookup(
        self,
        names: set[tuple[str, str]],
        customer_ids: set[str],
        sources: set[tuple[str, str]],
    ) -> BatchLookup:
        """Triggers of these (project, event name) pairs and these customers, in one read."""

    async def insert(
        self, insertions: Sequence[Insertion], new_customers: Sequence[Customer]
    ) -> set[str]:
        """Store the new customers, the events and their deliveries, atomically; the ids of the events stored (one whose customer is gone, or whose new customer another
        transaction created first, is not)."""
