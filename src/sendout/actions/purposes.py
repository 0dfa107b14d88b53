"""Dispatch a distribution's action to its purpose module."""

from __future__ import annotations

from typing import Any

from sendout.actions import notify_promotion, publish_unique_code
from sendout.promotions.tx import PromotionTx
from sendout.records import Customer, Distribution, Event

__all__ = ["purpose_extras", "uses_promotions"]

_PROMOTION_PURPOSES = frozenset({"notify_promotion", "publish_unique_code"})


def uses_promotions(distribution: Distribution) -> bool:
    """Does this purpose read or write campaigns (so it needs the tracking transaction)?"""
    return distribution.action.get("type") in _PROMOTION_PURPOSES


async def purpose_extras(
    tx: PromotionTx, distribution: Distribution, event: Event, customer: Customer
) -> dict[str, Any] | None:
    """Keys the purpose adds to ``data`` (``{}`` for a plain message); ``None``: send nothing."""
    kind = distribution.action.get("type")
    if kind == "notify_promotion":
        return await notify_promotion.extras(tx, distribution, event, customer)
    if kind == "publish_unique_code":
        return await publish_unique_code.extras(tx, distribution, event, customer)
    return {}
