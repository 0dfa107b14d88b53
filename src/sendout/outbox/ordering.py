"""Ordered delivery: which deliveries wait their turn, and whose turn comes next. Pure.

A channel with ``"ordering": "per_customer"`` delivers one customer's webhooks in event order.
Each of its deliveries carries an *order key* (the customer's id) and is stored *held*: pending,
but with ``next_attempt_at = HELD_MS``, a time no claim ever reaches, so a large backlog of held
deliveries costs the claim nothing. A key *advances* when nothing of it is free (pending with a
real ``next_attempt_at``): its oldest held delivery becomes due now. Storage advances a key after
storing new deliveries, after one of the key finished (delivered, or failed for good), and after
a resend or a replay put one back in the queue.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sendout.records import Channel, NewDelivery, Outcome

__all__ = [
    "HELD_MS",
    "ORDERINGS",
    "OrderKey",
    "finished_keys",
    "is_held",
    "lock_name",
    "order_key",
    "ordered_keys",
]

HELD_MS = 2**63 - 1  # next_attempt_at of a held delivery: later than any claim looks
ORDERINGS = ("none", "per_customer")

OrderKey = tuple[str, int, str]  # (distribution id, channel index, order key)


def order_key(channel: Channel, customer_id: str) -> str | None:
    """The order key of a delivery to this channel about this customer (``None``: unordered)."""
    return customer_id if channel.ordering == "per_customer" else None


def is_held(next_attempt_at_ms: int) -> bool:
    return next_attempt_at_ms >= HELD_MS


def ordered_keys(deliveries: Iterable[NewDelivery]) -> list[OrderKey]:
    """The keys of the ordered ones among new deliveries, each once, sorted (the lock order)."""
    return sorted(
        {(m.distribution_id, m.channel_index, m.order_key) for m in deliveries if m.order_key}
    )


def finished_keys(outcomes: Sequence[Outcome]) -> list[OrderKey]:
    """The keys whose delivery finished with these outcomes: the next one of each may go."""
    return sorted(
        {
            (o.distribution_id, o.channel_index, o.order_key)
            for o in outcomes
            if o.order_key is not None and o.finished
        }
    )


def lock_name(key: OrderKey) -> tuple[str, ...]:
    """The name of the lock that serializes the advances of one key (PostgreSQL)."""
    distribution_id, channel_index, key_value = key
    return ("ordering", distribution_id, str(channel_index), key_value)
