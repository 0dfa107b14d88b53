"""Factories for the storage-level promotion tests: campaign records, publishing through the
pipeline, a transaction of the backend, an expected refusal."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

import pytest

from sendout.errors import InvalidInput
from sendout.pipeline.publish import publish_to_customer
from sendout.promotions.publishing import PublishRequest
from sendout.promotions.records import Campaign, Publication
from sendout.records import Customer, CustomerFields
from sendout.storage.base import CustomerRef, Storage
from sendout.storage.tx import Tx
from support.storage import NOW

T = TypeVar("T")


def campaign(
    name: str = "spring",
    *,
    campaign_type: str = "DISCOUNT_COUPONS",
    kind: str = "STATIC",
    pattern: str = "SPRING-########",
    created_at: str = NOW,
    **extra: Any,
) -> Campaign:
    return Campaign(
        id=f"camp_{name}",
        project_id="proj_1",
        name=name,
        campaign_type=campaign_type,
        type=kind,
        description=None,
        join_once=extra.pop("join_once", False),
        auto_join=False,
        active=extra.pop("active", True),
        voucher=extra.pop(
            "voucher", {"type": "DISCOUNT_VOUCHER", "code_config": {"pattern": pattern}}
        ),
        referral_program=extra.pop("referral_program", None),
        metadata={},
        vouchers_count=0,
        start_date=None,
        expiration_date=None,
        created_at=created_at,
        updated_at=None,
    )


def render(publication: Publication, campaign: Campaign, customer: Customer) -> bytes:
    body = {
        "id": publication.id,
        "campaign": campaign.id,
        "customer": customer.source_id,
        "codes": [v.code for v in publication.vouchers],
        "source_id": publication.source_id,
    }
    return json.dumps(body).encode()


async def publish(store: Storage, holder: str, *, now: str = NOW, **request: Any) -> dict[str, Any]:
    body, replayed = await publish_to_customer(
        store,
        "proj_1",
        CustomerRef(source_id=holder),
        CustomerFields(),
        PublishRequest(customer_id="", **request),
        now,
        render,
    )
    assert not replayed
    return dict(json.loads(body))


async def in_tx(store: Storage, body: Callable[[Tx], Coroutine[Any, Any, T]]) -> T:
    """Run ``body`` on the backend's own :class:`Tx`, inside one of its transactions."""
    return await store.transaction("proj_1", NOW, body)


async def refused(key: str, call: Awaitable[Any]) -> None:
    with pytest.raises(InvalidInput) as refusal:
        await call
    assert refusal.value.key == key, refusal.value.details
