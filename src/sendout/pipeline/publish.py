"""Publishing codes to a customer (``POST /v1/publications``): the whole order, in one place.

Inside one write transaction: answer a repeated ``Idempotency-Key`` with its first response;
upsert the customer; publish (:mod:`sendout.promotions.publishing` decides which codes);
render the answer and remember it under the idempotency key.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from sendout.clock import parse_iso, to_ms
from sendout.promotions.publishing import PublishRequest, publish
from sendout.promotions.records import Campaign, Publication
from sendout.records import Customer, CustomerFields
from sendout.storage.base import CustomerRef, IdempotencyKey, Storage
from sendout.storage.tx import Tx

__all__ = ["RenderPublication", "publish_to_customer"]

RenderPublication = Callable[[Publication, Campaign, Customer], bytes]


async def publish_to_customer(
    storage: Storage,
    project_id: str,
    customer: CustomerRef,
    fields: CustomerFields,
    request: PublishRequest,
    now: str,
    render: RenderPublication,
    idempotency: IdempotencyKey | None = None,
) -> tuple[bytes, bool]:
    """The rendered response, and whether it replays an earlier request with the same key
    (then nothing was written). ``request.customer_id`` is filled in here."""

    async def work(tx: Tx) -> tuple[bytes, bool]:
        if idempotency is not None:
            replay = await tx.idempotent_replay(idempotency)
            if replay is not None:
                return replay, True
        holder = await tx.upsert_customer(customer, fields)
        wanted = dataclasses.replace(request, customer_id=holder.id)
        publication, campaign = await publish(tx, wanted)
        response = render(publication, campaign, holder)
        if idempotency is not None:
            await tx.remember(idempotency, response, to_ms(parse_iso(now)))
        return response, False

    return await storage.transaction(project_id, now, work)
