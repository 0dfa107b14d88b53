"""Turn database rows (any mapping of column name to value) into records."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

import orjson

from sendout.clock import from_ms, isoformat
from sendout.delivery.signer import SigningKeys
from sendout.outbox.ordering import HELD_MS, is_held
from sendout.records import (
    AsyncAction,
    Attempt,
    Channel,
    ChannelState,
    Customer,
    Delivery,
    DeliveryCopy,
    DeliveryRequest,
    Distribution,
    Event,
    EventSchema,
    Outcome,
    Project,
    PropertyDef,
    QueueCounts,
)
from sendout.storage.sealing import Sealer

__all__ = [
    "DISTRIBUTION_CHANGES",
    "DISTRIBUTION_COLUMNS",
    "PROJECT_INSERT",
    "SECRET_COLUMNS",
    "attempt",
    "channel",
    "channel_dict",
    "channel_state",
    "channels_json",
    "customer",
    "delivery",
    "delivery_request",
    "distribution",
    "distribution_changes",
    "distribution_values",
    "distributions_with_states",
    "event",
    "event_schema",
    "event_values",
    "from_json",
    "json_or_null",
    "outcome_params",
    "project",
    "project_values",
    "properties_json",
    "queue_counts",
    "resealed",
    "signing_keys",
    "to_json",
]


class Row(Protocol):
    """A row by column name: ``sqlite3.Row``, ``asyncpg.Record`` or a plain mapping."""

    def __getitem__(self, key: str, /) -> Any: ...


def to_json(value: Any) -> str:
    return orjson.dumps(value).decode("utf-8")


def json_or_null(value: Any) -> str | None:
    """``to_json`` of a value that may be absent (``None`` stays SQL ``NULL``)."""
    return None if value is None else to_json(value)


def from_json(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, dict | list):
        return value
    return orjson.loads(value)


def project(row: Row, sealer: Sealer) -> Project:
    """A project row, its secrets opened."""
    pid = row["id"]
    return Project(
        id=pid,
        name=row["name"],
        app_id=row["app_id"],
        app_token_sha256=row["app_token_sha256"],
        webhook_secret=sealer.open(row["webhook_secret"], pid),
        created_at=row["created_at"],
        previous_webhook_secret=sealer.open_optional(row["previous_webhook_secret"], pid),
        previous_secret_expires_ms=row["previous_secret_expires_ms"],
        description=row["description"],
        timezone=row["timezone"],
        currency=row["currency"],
        voucherify_secret=sealer.open_optional(row["voucherify_secret"], pid),
        staged_voucherify_secret=sealer.open_optional(row["staged_voucherify_secret"], pid),
    )


def signing_keys(row: Row, sealer: Sealer, now_ms: int) -> SigningKeys:
    """What signs a claimed delivery, from a row holding its project's secret columns."""
    return Project(
        id=row["project_id"],
        name="",
        app_id="",
        app_token_sha256="",
        webhook_secret=sealer.open(row["webhook_secret"], row["project_id"]),
        created_at="",
        previous_webhook_secret=sealer.open_optional(
            row["previous_webhook_secret"], row["project_id"]
        ),
        previous_secret_expires_ms=row["previous_secret_expires_ms"],
        voucherify_secret=sealer.open_optional(row["voucherify_secret"], row["project_id"]),
    ).signing_keys(now_ms)


SECRET_COLUMNS = (
    "webhook_secret",
    "previous_webhook_secret",
    "voucherify_secret",
    "staged_voucherify_secret",
)


def resealed(row: Row, sealer: Sealer) -> tuple[str | None, ...] | None:
    """``SECRET_COLUMNS`` of a project row sealed, or ``None`` if none was stored plain."""
    if not any(sealer.needs_sealing(row[c]) for c in SECRET_COLUMNS):
        return None
    pid = row["id"]
    return tuple(
        sealer.seal_optional(sealer.open_optional(row[c], pid), pid) for c in SECRET_COLUMNS
    )


def customer(row: Row) -> Customer:
    return Customer(
        id=row["id"],
        project_id=row["project_id"],
        source_id=row["source_id"],
        name=row["name"],
        description=row["description"],
        email=row["email"],
        phone=row["phone"],
        birthdate=row["birthdate"],
        address=from_json(row["address"]),
        metadata=from_json(row["metadata"]) or {},
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def customer_values(c: Customer) -> tuple[Any, ...]:
    """A customer's columns in insert order (``id`` … ``created_at``), JSON as text."""
    return (
        c.id,
        c.project_id,
        c.source_id,
        c.name,
        c.description,
        c.email,
        c.phone,
        c.birthdate,
        json_or_null(c.address),
        to_json(c.metadata),
        c.created_at,
    )


def properties_json(properties: Mapping[str, PropertyDef]) -> str:
    return to_json(
        {
            name: {"type": p.type, "optional": p.optional, "deleted": p.deleted}
            for name, p in properties.items()
        }
    )


def event_schema(row: Row) -> EventSchema:
    raw: dict[str, dict[str, Any]] = from_json(row["properties"])
    return EventSchema(
        id=row["id"],
        project_id=row["project_id"],
        name=row["name"],
        properties={name: PropertyDef(**spec) for name, spec in raw.items()},
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def event(row: Row) -> Event:
    return Event(
        id=row["id"],
        project_id=row["project_id"],
        type=row["type"],
        customer_id=row["customer_id"],
        schema_id=row["schema_id"],
        metadata=from_json(row["metadata"]),
        referral=from_json(row["referral"]),
        loyalty=from_json(row["loyalty"]),
        request_id=row["request_id"],
        created_at=row["created_at"],
    )


def event_values(e: Event) -> tuple[Any, ...]:
    """An event's columns in table order (``id`` … ``created_at``), JSON as text."""
    return (
        e.id,
        e.project_id,
        e.type,
        e.customer_id,
        e.schema_id,
        to_json(e.metadata),
        json_or_null(e.referral),
        json_or_null(e.loyalty),
        e.request_id,
        e.created_at,
    )


PROJECT_INSERT = (
    "INSERT INTO projects (id, name, app_id, app_token_sha256, webhook_secret, voucherify_secret,"
    " is_default, created_at, description, timezone, currency) VALUES ({})"
)


def project_values(p: Project, is_default: bool, sealer: Sealer) -> tuple[Any, ...]:
    """Column values of ``PROJECT_INSERT``, the secrets sealed."""
    return (
        p.id,
        p.name,
        p.app_id,
        p.app_token_sha256,
        sealer.seal(p.webhook_secret, p.id),
        sealer.seal_optional(p.voucherify_secret, p.id),
        is_default,
        p.created_at,
        p.description,
        p.timezone,
        p.currency,
    )


DISTRIBUTION_COLUMNS = (
    "id",
    "project_id",
    "name",
    "trigger_type",
    "trigger_event",
    "action",
    "channels",
    "status",
    "created_at",
    "updated_at",
    "conditions",
    "reentry",
)
_DISTRIBUTION_KEYS = frozenset({"id", "project_id", "created_at"})  # never changed by a replace
DISTRIBUTION_CHANGES = tuple(c for c in DISTRIBUTION_COLUMNS if c not in _DISTRIBUTION_KEYS)


def distribution_values(d: Distribution) -> tuple[Any, ...]:
    """A distribution's values in the order of :data:`DISTRIBUTION_COLUMNS`."""
    return (
        d.id,
        d.project_id,
        d.name,
        d.trigger_type,
        d.trigger_event,
        to_json(d.action),
        channels_json(d.channels),
        d.status,
        d.created_at,
        d.updated_at,
        json_or_null(d.conditions),
        json_or_null(d.reentry),
    )


def distribution_changes(d: Distribution) -> tuple[Any, ...]:
    """The values a replace sets, in the order of :data:`DISTRIBUTION_CHANGES`."""
    values = dict(zip(DISTRIBUTION_COLUMNS, distribution_values(d), strict=True))
    return tuple(values[c] for c in DISTRIBUTION_CHANGES)


def channels_json(channels: tuple[Channel, ...]) -> str:
    return to_json([channel_dict(c) for c in channels])


def channel_dict(c: Channel) -> dict[str, Any]:
    stored: dict[str, Any] = {
        "type": c.type,
        "event_name": c.event_name,
        "url": c.url,
        "headers": c.headers,
        "retry_schedule": None if c.retry_schedule is None else list(c.retry_schedule),
    }
    if c.payload is not None:
        stored["payload"] = c.payload
    if c.ordering != "none":
        stored["ordering"] = c.ordering
    return stored


def channel(raw: dict[str, Any]) -> Channel:
    schedule = raw.get("retry_schedule")
    return Channel(
        type=raw["type"],
        event_name=raw["event_name"],
        url=raw["url"],
        headers=raw.get("headers") or {},
        retry_schedule=None if schedule is None else tuple(float(d) for d in schedule),
        payload=raw.get("payload"),
        ordering=raw.get("ordering", "none"),
    )


def channel_state(row: Row) -> ChannelState:
    return ChannelState(
        consecutive_failures=row["consecutive_failures"],
        paused_at=row["paused_at"],
        pause_reason=row["pause_reason"],
    )


def distribution(row: Row, states: tuple[ChannelState, ...] = ()) -> Distribution:
    return Distribution(
        id=row["id"],
        project_id=row["project_id"],
        name=row["name"],
        trigger_type=row["trigger_type"],
        trigger_event=row["trigger_event"],
        action=from_json(row["action"]),
        channels=tuple(channel(c) for c in from_json(row["channels"])),
        status=row["status"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        conditions=None if row["conditions"] is None else from_json(row["conditions"]),
        reentry=None if row["reentry"] is None else from_json(row["reentry"]),
        channel_states=states,
    )


def attempt(row: Row) -> Attempt:
    return Attempt(
        attempted_at=row["attempted_at"],
        status_code=row["status_code"],
        latency_ms=row["latency_ms"],
        error=row["error"],
        response_excerpt=row["response_excerpt"],
    )


def distributions_with_states(found: Sequence[Row], states: Iterable[Row]) -> list[Distribution]:
    """Distribution rows with the ``channel_states`` rows of their channels (missing: healthy)."""
    by_key = {(r["distribution_id"], r["channel_index"]): channel_state(r) for r in states}
    result = []
    for r in found:
        count = len(from_json(r["channels"]))
        per_channel = tuple(by_key.get((r["id"], i), ChannelState()) for i in range(count))
        result.append(distribution(r, per_channel))
    return result


def delivery_request(row: Row) -> DeliveryRequest:
    return DeliveryRequest(
        url=row["url"], headers=from_json(row["headers"]), body=bytes(row["body"])
    )


def queue_counts(row: Row) -> QueueCounts:
    oldest = row["oldest_due_ms"]
    return QueueCounts(
        distribution_id=row["distribution_id"],
        pending=int(row["pending"]),
        due=int(row["due"]),
        oldest_due_ms=None if oldest is None else int(oldest),
        failed=int(row["failed"]),
    )


def delivery(row: Row, attempts: Sequence[Attempt]) -> Delivery:
    held = row["status"] == "pending" and is_held(row["next_attempt_at"])
    pending = row["status"] == "pending" and not held
    return Delivery(
        id=row["id"],
        project_id=row["project_id"],
        distribution_id=row["distribution_id"],
        event_id=row["event_id"],
        channel_index=row["channel_index"],
        event_name=row["event_name"],
        url=row["url"],
        status=row["status"],
        attempts_count=row["attempts"],
        next_attempt_at=isoformat(from_ms(row["next_attempt_at"])) if pending else None,
        created_at=row["created_at"],
        delivered_at=row["delivered_at"],
        attempts=tuple(attempts),
        held=held,
    )


def outcome_params(
    outcomes: Iterable[Outcome],
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Per outcome, the delivery update ``(status, next_attempt_at, delivered_at,
    last_status_code, id)`` and the attempt row ``(delivery_id, attempted_at, status_code,
    latency_ms, error, response_excerpt)``."""
    updates = []
    attempts = []
    for o in outcomes:
        at = isoformat(from_ms(o.attempted_at_ms))
        if o.delivered:
            status, next_at, delivered_at = "delivered", o.attempted_at_ms, at
        elif o.next_attempt_at_ms is None:
            status, next_at, delivered_at = "failed", o.attempted_at_ms, None
        else:
            status, next_at, delivered_at = "pending", o.next_attempt_at_ms, None
        updates.append((status, next_at, delivered_at, o.status_code, o.delivery_id))
        attempts.append(
            (o.delivery_id, at, o.status_code, o.latency_ms, o.error, o.response_excerpt)
        )
    return updates, attempts


def async_action(row: Row) -> AsyncAction:
    return AsyncAction(
        id=row["id"],
        project_id=row["project_id"],
        type=row["type"],
        status=row["status"],
        campaign_id=row["campaign_id"],
        requested=int(row["requested"]),
        done=int(row["done"]),
        params=from_json(row["params"]) or {},
        result=from_json(row["result"]),
        request_id=row["request_id"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        processing_ms=None if row["processing_ms"] is None else int(row["processing_ms"]),
        lease_until_ms=int(row["lease_until_ms"]),
    )


ASYNC_ACTION_INSERT = (
    "INSERT INTO async_actions (id, project_id, type, status, campaign_id, requested, done,"
    " params, result, request_id, created_at, updated_at, processing_ms, lease_until_ms)"
    " VALUES ({})"
)


def async_action_values(a: AsyncAction) -> tuple[Any, ...]:
    """Column values of ``ASYNC_ACTION_INSERT``."""
    return (
        a.id,
        a.project_id,
        a.type,
        a.status,
        a.campaign_id,
        a.requested,
        a.done,
        to_json(a.params),
        None if a.result is None else to_json(a.result),
        a.request_id,
        a.created_at,
        a.updated_at,
        a.processing_ms,
        a.lease_until_ms,
    )


def delivery_copy(row: Row) -> DeliveryCopy:
    return DeliveryCopy(
        id=row["id"],
        event_id=row["event_id"],
        channel_index=row["channel_index"],
        event_name=row["event_name"],
        headers=from_json(row["headers"]),
        body=bytes(row["body"]),
        created_at=row["created_at"],
    )


# The claim's and the wake-up's filter on channel health, as an anti-join: written as a LEFT JOIN
# with ``c.paused_at IS NULL``, PostgreSQL's estimate of the rows left (the null fraction of
# ``paused_at``, not of the unmatched rows) fell to a few dozen at a million due, and it chose to
# sort every due delivery rather than walk the due index (1.3-2.1 s per claim; bench/claim_cost.py).
CHANNEL_NOT_PAUSED = (
    "NOT EXISTS (SELECT 1 FROM channel_states c WHERE c.distribution_id = m.distribution_id"
    " AND c.channel_index = m.channel_index AND c.paused_at IS NOT NULL)"
)


DELIVERIES_CREATED = (
    "SELECT id, event_id, channel_index, event_name, headers, body, created_at FROM deliveries"
    " WHERE project_id = {} AND distribution_id = {} AND created_at >= {}"
    " ORDER BY created_at, id LIMIT {}"
)


# Ordered delivery (sendout.outbox.ordering): a key's oldest held delivery becomes due, unless
# one of the key is free already. Both lookups probe the index ``deliveries_order``.
_KEY = "distribution_id = {d} AND channel_index = {c} AND order_key = {k} AND status = 'pending'"


def advance_order_sql(now: str, d: str, c: str, k: str, creation_order: str) -> str:
    """The statement that advances one order key, with placeholders for its parts."""
    key = _KEY.format(d=d, c=c, k=k)
    return (
        f"UPDATE deliveries SET next_attempt_at = {now} WHERE id = (SELECT id FROM deliveries"
        f" WHERE {key} AND next_attempt_at = {HELD_MS} ORDER BY {creation_order} LIMIT 1)"
        f" AND NOT EXISTS (SELECT 1 FROM deliveries WHERE {key} AND next_attempt_at < {HELD_MS})"
    )


# What next_attempt_at becomes for a delivery sent again (resend, replay): due now ({}), or held
# until its turn if it is ordered.
SENT_AGAIN_AT = f"CASE WHEN order_key IS NULL THEN {{}} ELSE {HELD_MS} END"

# A pending delivery that is not held: resume sets these due; counts of what is late skip the rest.
NOT_HELD = f"next_attempt_at < {HELD_MS}"


# When the worker should look again, as far ahead as ``{until}``: the earliest of the first free
# delivery in due order (``deliveries_due`` is walked to it and no further) and the lease ends of
# the leased ones before it. A MIN over every due delivery read the whole backlog each time the
# worker went idle with one (30-40 ms at 60,000 due on SQLite). Held deliveries are left out by
# ``next_attempt_at <= {until}`` alone: a second bound on the column (NOT_HELD) let SQLite walk
# the index by that one instead, which is every pending delivery.
_DUE_ROWS = (
    "FROM deliveries m JOIN distributions d ON d.id = m.distribution_id"
    f" WHERE m.status = 'pending' AND d.status = 'ACTIVE' AND {CHANNEL_NOT_PAUSED}"
)
NEXT_DUE = (
    "WITH first_free AS (SELECT m.next_attempt_at AS due "
    + _DUE_ROWS
    + " AND m.next_attempt_at <= {until} AND m.lease_until <= m.next_attempt_at"
    " ORDER BY m.next_attempt_at LIMIT 1)"
    " SELECT MIN(due) AS due FROM (SELECT due FROM first_free UNION ALL SELECT m.lease_until "
    + _DUE_ROWS
    + " AND m.next_attempt_at <= COALESCE((SELECT due FROM first_free), {until})"
    " AND m.lease_until > m.next_attempt_at AND m.lease_until <= {until}) AS candidates"
)
