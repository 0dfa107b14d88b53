"""What the storage suite shares: a fixed clock, a project, tracking and seeding the outbox."""

from __future__ import annotations

from weakref import WeakKeyDictionary

from sendout.pipeline.commands import RenderEvent, TrackCommand, TrackResult
from sendout.pipeline.track import Ingest
from sendout.promotions.rewards import Rewards
from sendout.records import (
    Channel,
    Customer,
    CustomerFields,
    Distribution,
    Event,
    NewDelivery,
    Page,
)
from sendout.storage.base import CustomerRef, Storage
from sendout.storage.tx import Insertion, Tx

NOW = "2026-01-01T00:00:00.000Z"
NOW_MS = 1_767_225_600_000
SOON_MS = NOW_MS + 60_000  # how far next_due_ms is asked to look, unless a test says otherwise
SECRET = "whsec_c2VjcmV0c2VjcmV0c2VjcmV0"


def distribution(distribution_id: str = "distr_1", status: str = "ACTIVE") -> Distribution:
    return Distribution(
        distribution_id,
        "proj_1",
        "d",
        "customer.custom_event",
        "sign_up",
        {"type": "plain_message"},
        (Channel("webhook", "n", "http://127.0.0.1:1/x"),),
        status,
        NOW,
        None,
    )


def render(event: Event, customer: Customer) -> bytes:
    """The pipeline's answer to an event, as the suite reads it: the event's id."""
    return event.id.encode()


_INGESTS: WeakKeyDictionary[Storage, Ingest] = WeakKeyDictionary()


async def track(store: Storage, cmd: TrackCommand, render: RenderEvent = render) -> TrackResult:
    """Track through the real pipeline, one :class:`Ingest` per store (so that concurrent
    events share the store's batches, as they do in a server)."""
    ingest = _INGESTS.get(store)
    if ingest is None:
        ingest = _INGESTS[store] = Ingest(store)
    return await ingest.track(cmd, render)


async def enqueue(store: Storage, cmd: TrackCommand, per_event: int = 1) -> None:
    """Store the event with ``per_event`` deliveries per active distribution it triggers, named
    ``whs_<event id>_<n>``, through the :class:`Tx` verbs alone (seeding for outbox tests)."""

    async def work(tx: Tx) -> None:
        trigger = await tx.trigger(cmd.event_name)
        assert trigger is not None
        schema, candidates = trigger
        customer = await tx.upsert_customer(cmd.customer, cmd.customer_fields)
        event = cmd.event(schema.id, customer.id, Rewards())
        count = len(candidates) * per_event
        deliveries = [
            NewDelivery(
                f"whs_{event.id}_{n:04d}",
                candidates[(n - 1) // per_event].id,
                0,
                "n",
                "http://127.0.0.1:1/x",
                {},
                b"{}",
            )
            for n in range(1, count + 1)
        ]
        await tx.insert_event(Insertion(event, deliveries, cmd.created_at_ms))

    await store.transaction(cmd.project_id, cmd.created_at, work)


def command(event_id: str, source_id: str = "c1", created_at: str = NOW) -> TrackCommand:
    return TrackCommand(
        "proj_1",
        event_id,
        "sign_up",
        CustomerRef(source_id=source_id),
        CustomerFields(name="N"),
        {"plan": "p"},
        None,
        None,
        "v-1",
        created_at,
        NOW_MS,
        {"channel": "API"},
    )


async def customers_in(store: Storage, project_id: str = "proj_1") -> int:
    """How many customers the project has (the total of a customer listing)."""
    _, total = await store.list_customers(
        project_id, Page(1, 1), email=None, name=None, order="created_at"
    )
    return total
