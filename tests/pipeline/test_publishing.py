"""Publishing decisions (``promotions/publishing.py``) run inside a real transaction of each backend.

Which codes a request gets, which publication it gets back instead, and every refusal, which
leaves no code claimed (the transaction rolls back whatever was claimed before the refusal).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, cast

import pytest

from sendout.errors import NotFound
from sendout.promotions.publishing import PublishRequest, publish
from sendout.promotions.records import Publication, Voucher
from sendout.records import CustomerFields, Page
from sendout.storage.base import CustomerRef, Storage
from sendout.storage.tx import Tx
from support.promotion_store import campaign, in_tx, refused
from support.storage import NOW


async def customer(store: Storage, source_id: str) -> str:
    made = await store.upsert_customer(
        "proj_1", CustomerRef(source_id=source_id), CustomerFields(), NOW
    )
    return made.id


async def publishing(store: Storage, holder: str, **request: Any) -> Publication:
    """Publish to customer ``holder`` (a source_id) in one transaction of ``store``."""
    wanted = PublishRequest(customer_id=await customer(store, holder), **request)

    async def work(tx: Tx) -> Publication:
        publication, _ = await publish(tx, wanted)
        return publication

    return await in_tx(store, work)


def codes(publication: Publication) -> list[str]:
    return [v.code for v in publication.vouchers]


async def holders(store: Storage, name: str) -> list[str | None]:
    found, _ = await store.list_vouchers("proj_1", Page(100, 1), campaign=name, holder_id=None)
    return [v.holder_id for v, _ in found]


@pytest.mark.parametrize("count", [0, -1, 51])
async def test_a_count_outside_1_to_50_is_refused(store: Storage, count: int) -> None:
    await store.create_campaign(campaign("auto", kind="AUTO_UPDATE"), [], 0)
    await refused(
        "too_many_vouchers_requested", publishing(store, "a", campaign="auto", count=count)
    )
    assert await holders(store, "auto") == []


async def test_counts_of_1_and_50_are_published(store: Storage) -> None:
    await store.create_campaign(campaign("auto", kind="AUTO_UPDATE"), [], 0)
    assert len(codes(await publishing(store, "a", campaign="auto", count=1))) == 1
    many = codes(await publishing(store, "b", campaign="auto", count=50))
    assert len(set(many)) == 50


@pytest.mark.parametrize("naming", [{"source_id": "order-1"}, {"join_once": True}])
async def test_more_than_one_code_with_a_source_id_or_join_once_is_refused(
    store: Storage, naming: dict[str, Any]
) -> None:
    await store.create_campaign(campaign("spring"), [], 5)
    await refused(
        "too_many_vouchers_requested", publishing(store, "a", campaign="spring", count=2, **naming)
    )
    assert await holders(store, "spring") == [None] * 5


async def test_join_once_returns_the_publication_the_customer_holds(store: Storage) -> None:
    await store.create_campaign(campaign("spring"), [], 5)
    await store.create_campaign(campaign("once", join_once=True), [], 5)
    first = await publishing(store, "alice", campaign="spring")
    assert await publishing(store, "alice", campaign="spring", join_once=True) == first
    assert (await publishing(store, "alice", campaign="spring")).id != first.id, "no join_once"
    held = await publishing(store, "alice", campaign="once")
    assert await publishing(store, "alice", campaign="once") == held, "the campaign's join_once"
    assert codes(await publishing(store, "bob", campaign="once")) != codes(held)


async def test_a_repeated_source_id_returns_its_publication_and_refuses_another_customer(
    store: Storage,
) -> None:
    await store.create_campaign(campaign("spring"), [], 5)
    await store.create_campaign(campaign("autumn"), [], 5)
    first = await publishing(store, "alice", campaign="spring", source_id="order-1")
    assert await publishing(store, "alice", campaign="spring", source_id="order-1") == first
    await refused(
        "duplicate_source_id", publishing(store, "bob", campaign="spring", source_id="order-1")
    )
    await refused(
        "duplicate_source_id", publishing(store, "alice", campaign="autumn", source_id="order-1")
    )
    assert (await holders(store, "spring")).count(None) == 4


async def test_an_exhausted_static_pool_is_refused_with_nothing_claimed(store: Storage) -> None:
    await store.create_campaign(campaign("spring"), [], 2)
    await refused(
        "no_voucher_suitable_for_publication", publishing(store, "a", campaign="spring", count=3)
    )
    assert await holders(store, "spring") == [None, None], "the two claimed codes were released"
    assert len(codes(await publishing(store, "a", campaign="spring", count=2))) == 2
    await refused("no_voucher_suitable_for_publication", publishing(store, "b", campaign="spring"))


async def test_auto_update_generates_the_missing_codes(store: Storage) -> None:
    await store.create_campaign(campaign("auto", kind="AUTO_UPDATE", pattern="AU-####"), [], 1)
    published = codes(await publishing(store, "a", campaign="auto", count=3))
    assert len(set(published)) == 3 and all(c.startswith("AU-") for c in published)
    assert (await store.get_campaign("proj_1", "auto")).vouchers_count == 3


async def test_a_disabled_campaign_is_refused(store: Storage) -> None:
    await store.create_campaign(campaign("off", active=False), [], 3)
    await refused("no_voucher_suitable_for_publication", publishing(store, "a", campaign="off"))
    assert await holders(store, "off") == [None] * 3


async def test_a_campaign_without_codes_is_refused(store: Storage) -> None:
    await store.create_campaign(campaign("promo", campaign_type="PROMOTION", voucher=None), [], 0)
    await refused("invalid_campaign_type", publishing(store, "a", campaign="promo"))
    await refused("missing_vouchers", publishing(store, "a"))
    with pytest.raises(NotFound):
        await publishing(store, "a", campaign="nope")


async def test_a_specific_code_is_published_once(store: Storage) -> None:
    await store.create_campaign(campaign("spring"), [], 0)
    await store.import_codes("proj_1", "spring", ["ONE"], NOW)
    with pytest.raises(NotFound):
        await publishing(store, "alice", voucher="NOPE")
    mine = await publishing(store, "alice", voucher="ONE")
    assert codes(mine) == ["ONE"] and mine.campaign_id == "camp_spring"
    await refused("voucher_already_published", publishing(store, "bob", voucher="ONE"))
    await refused("voucher_already_published", publishing(store, "alice", voucher="ONE"))


async def test_a_code_of_a_disabled_campaign_cannot_be_published(store: Storage) -> None:
    made = await store.create_campaign(campaign("spring"), [], 0)
    await store.import_codes("proj_1", "spring", ["ONE"], NOW)
    await store.replace_campaign(replace(made, active=False))
    await refused("voucher_cannot_be_published", publishing(store, "alice", voucher="ONE"))
    assert await holders(store, "spring") == [None]


async def test_a_published_code_reads_as_published_before_disabled(store: Storage) -> None:
    made = await store.create_campaign(campaign("spring"), [], 0)
    await store.import_codes("proj_1", "spring", ["ONE"], NOW)
    await publishing(store, "alice", voucher="ONE")
    await store.replace_campaign(replace(made, active=False))
    await refused("voucher_already_published", publishing(store, "bob", voucher="ONE"))


class DisabledCode:
    """The store's own transaction, but code ``ONE`` reads as disabled (no verb disables one)."""

    def __init__(self, tx: Tx) -> None:
        self._tx = tx

    def __getattr__(self, name: str) -> Any:
        return getattr(self._tx, name)

    async def voucher(self, code: str) -> Voucher | None:
        found = await self._tx.voucher(code)
        return replace(found, active=False) if found is not None and code == "ONE" else found


async def test_a_disabled_code_cannot_be_published(store: Storage) -> None:
    await store.create_campaign(campaign("spring"), [], 0)
    await store.import_codes("proj_1", "spring", ["ONE"], NOW)
    alice = await customer(store, "alice")

    async def work(tx: Tx) -> Any:
        return await publish(
            cast(Tx, DisabledCode(tx)), PublishRequest(customer_id=alice, voucher="ONE")
        )

    await refused("voucher_cannot_be_published", in_tx(store, work))
    assert await holders(store, "spring") == [None]
