"""Every promotion verb, on every backend: the same answers, errors and orderings.

Like ``test_conformance.py`` (same fixtures: a fresh database per test), for campaigns, codes,
publications, tiers, earning rules, loyalty, referral and distribution outcomes; the verbs of
:class:`~sendout.storage.tx.Tx` are driven inside a real transaction of each backend.
Concurrency cases run real contention: several connections, and several OS processes.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from sendout.errors import Conflict, NotFound
from sendout.pipeline.publish import publish_to_customer
from sendout.promotions import ids as pids
from sendout.promotions.publishing import PublishRequest
from sendout.promotions.records import (
    CodeCounts,
    CustomerStanding,
    EarningRule,
    ProgramStanding,
    PromotionTier,
)
from sendout.records import CustomerFields, Page, Project, PropertyDef
from sendout.storage.base import CustomerRef, IdempotencyKey, PublicationFilter, Storage
from sendout.storage.tx import Tx
from support.promotion_store import campaign, in_tx, publish, refused, render
from support.storage import NOW, SECRET, customers_in, distribution
from support.storage_fixtures import OpenStore

PUBLISHER = Path(__file__).resolve().parents[1] / "support" / "publisher.py"
FIRST = Page(10, 1)


@pytest.fixture
async def pstore(open_store: OpenStore) -> Storage:
    """A migrated store with project ``proj_1``, schema ``sign_up`` and distribution ``distr_1``."""
    s = await open_store()
    assert "0002_promotions" in await s.migrate()
    await s.create_project(Project("proj_1", "P", "app", "tok", SECRET, NOW), is_default=True)
    await s.create_event_schema("proj_1", "ms_1", "sign_up", {"amount": PropertyDef("number")}, NOW)
    await s.create_distribution(distribution())
    return s


def tier(campaign_id: str, name: str, hierarchy: int = 0) -> PromotionTier:
    return PromotionTier(
        pids.promotion_tier_id(),
        "proj_1",
        campaign_id,
        name,
        f"{name} banner",
        {"discount": 10},
        {"k": name},
        hierarchy,
        True,
        None,
        None,
        NOW,
        None,
    )


# --- campaigns -----------------------------------------------------------------------------------


async def test_campaigns_round_trip_list_replace_and_delete(pstore: Storage) -> None:
    created = await pstore.create_campaign(campaign("spring"), [], vouchers_count=5)
    assert created.vouchers_count == 5 and created.join_once is False and created.active
    with pytest.raises(Conflict):
        await pstore.create_campaign(replace(campaign("spring"), id="camp_other"), [], 1)
    later = "2026-01-02T00:00:00.000Z"
    await pstore.create_campaign(
        campaign("promo", campaign_type="PROMOTION", voucher=None, created_at=later),
        [tier("camp_promo", "a"), tier("camp_promo", "b")],
        0,
    )
    assert (await pstore.get_campaign("proj_1", "spring")).id == "camp_spring"
    assert (await pstore.get_campaign("proj_1", "camp_spring")).name == "spring"
    listed, total = await pstore.list_campaigns("proj_1", Page(10, 1), campaign_type=None)
    assert [c.id for c in listed] == ["camp_promo", "camp_spring"] and total == 2
    only, total = await pstore.list_campaigns("proj_1", Page(1, 2), campaign_type=None)
    assert [c.id for c in only] == ["camp_spring"] and total == 2
    coupons, total = await pstore.list_campaigns(
        "proj_1", Page(10, 1), campaign_type="DISCOUNT_COUPONS"
    )
    assert [c.id for c in coupons] == ["camp_spring"] and total == 1

    changed = replace(created, join_once=True, active=False, metadata={"x": 1}, updated_at=later)
    again = await pstore.replace_campaign(changed)
    assert again.join_once and not again.active and again.metadata == {"x": 1}
    assert again.vouchers_count == 5 and again.updated_at == later

    await pstore.create_distribution(
        replace(distribution("distr_2"), action={"type": "x", "campaign_id": "camp_spring"})
    )
    with pytest.raises(Conflict) as in_use:
        await pstore.delete_campaign("proj_1", "spring")
    assert in_use.value.key == "campaign_in_use"
    await pstore.delete_distribution("proj_1", "distr_2", NOW)
    await pstore.delete_campaign("proj_1", "spring")
    with pytest.raises(NotFound):
        await pstore.get_campaign("proj_1", "spring")
    _, total = await pstore.list_vouchers("proj_1", Page(10, 1), campaign=None, holder_id=None)
    assert total == 0, "the codes went with their campaign"


async def test_a_referee_reward_must_be_a_coupon_campaign(pstore: Storage) -> None:
    program = {"referee_reward": {"related_object_parent": {"id": "nope"}}}
    referral = campaign("ref", campaign_type="REFERRAL_PROGRAM", referral_program=program)
    await refused("invalid_referee_reward", pstore.create_campaign(referral, [], 1))
    await pstore.create_campaign(campaign("reward"), [], 1)
    good = {"referee_reward": {"related_object_parent": {"id": "reward"}}}
    made = await pstore.create_campaign(replace(referral, referral_program=good), [], 1)
    assert made.referral_program == good


# --- codes ---------------------------------------------------------------------------------------


async def test_codes_are_generated_added_imported_and_listed_in_insertion_order(
    pstore: Storage,
) -> None:
    await pstore.create_campaign(campaign("spring"), [], 0)
    after, added = await pstore.generate_vouchers("proj_1", "spring", 3, None, NOW)
    assert added == 3 and after.vouchers_count == 3
    generated, _ = await pstore.list_vouchers(
        "proj_1", Page(10, 1), campaign="spring", holder_id=None
    )
    assert [v.code for v, _ in generated] == sorted(v.code for v, _ in generated)
    assert all(v.code.startswith("SPRING-") and len(v.code) == 15 for v, _ in generated)

    voucher, owner = await pstore.add_voucher("proj_1", "spring", "ZZ-1", {"m": 1}, NOW)
    assert voucher.code == "ZZ-1" and voucher.metadata == {"m": 1}
    assert owner.vouchers_count == 4
    await pstore.add_voucher("proj_1", "camp_spring", "AA-1", {}, NOW)
    with pytest.raises(Conflict):
        await pstore.add_voucher("proj_1", "spring", "ZZ-1", {}, NOW)
    assert await pstore.import_codes("proj_1", "spring", ["B-2", "ZZ-1", "B-1", "B-2"], NOW) == 2

    listed, total = await pstore.list_vouchers("proj_1", Page(10, 1), campaign=None, holder_id=None)
    codes = [v.code for v, _ in listed]
    assert codes[3:] == ["ZZ-1", "AA-1", "B-1", "B-2"] and total == 7
    assert {c.vouchers_count for _, c in listed} == {7}
    page, _ = await pstore.list_vouchers("proj_1", Page(2, 3), campaign="spring", holder_id=None)
    assert [v.code for v, _ in page] == ["AA-1", "B-1"]
    got, owner = await pstore.get_voucher("proj_1", "AA-1")
    assert got.holder_id is None and owner.id == "camp_spring"
    with pytest.raises(NotFound):
        await pstore.get_voucher("proj_1", "nope")
    with pytest.raises(NotFound):
        await pstore.list_vouchers("proj_1", Page(10, 1), campaign="nope", holder_id=None)


async def test_code_refusals(pstore: Storage) -> None:
    await pstore.create_campaign(campaign("tiny", pattern="T-#"), [], 0)
    small = {"pattern": "T-#", "charset": "AB"}
    after, added = await pstore.generate_vouchers("proj_1", "tiny", 2, small, NOW)
    assert added == 2 and after.vouchers_count == 2
    await refused("invalid_code_config", pstore.generate_vouchers("proj_1", "tiny", 1, small, NOW))
    await pstore.create_campaign(campaign("promo", campaign_type="PROMOTION", voucher=None), [], 0)
    await refused("invalid_campaign_type", pstore.import_codes("proj_1", "promo", ["X"], NOW))
    await refused("invalid_campaign_type", pstore.add_voucher("proj_1", "promo", "X", {}, NOW))
    with pytest.raises(NotFound):
        await pstore.import_codes("proj_1", "nope", ["X"], NOW)
    loyalty = campaign(
        "cards", campaign_type="LOYALTY_PROGRAM", voucher={"loyalty_card": {"points": 7}}
    )
    await pstore.create_campaign(loyalty, [], 1)
    cards, _ = await pstore.list_vouchers("proj_1", Page(1, 1), campaign="cards", holder_id=None)
    assert [(v.points, v.balance) for v, _ in cards] == [(7, 7)]


# --- publications --------------------------------------------------------------------------------


async def test_publishing_from_a_campaign(pstore: Storage) -> None:
    await pstore.create_campaign(campaign("spring"), [], 3)
    first = await publish(pstore, "alice", campaign="spring", source_id="order-1")
    assert len(first["codes"]) == 1 and first["customer"] == "alice"
    again = await publish(pstore, "alice", campaign="spring", source_id="order-1")
    assert again == first, "a source_id names one publication"
    await refused(
        "duplicate_source_id", publish(pstore, "bob", campaign="spring", source_id="order-1")
    )
    two = await publish(pstore, "bob", campaign="spring", count=2)
    assert len(set(two["codes"]) | set(first["codes"])) == 3
    await refused(
        "no_voucher_suitable_for_publication", publish(pstore, "carol", campaign="spring")
    )
    await refused(
        "too_many_vouchers_requested", publish(pstore, "carol", campaign="spring", count=51)
    )
    with pytest.raises(NotFound):
        await publish(pstore, "carol", campaign="nope")
    alice = await pstore.get_customer("proj_1", "alice")
    held, total = await pstore.list_vouchers(
        "proj_1", Page(10, 1), campaign=None, holder_id=alice.id
    )
    assert [v.code for v, _ in held] == first["codes"] and total == 1


async def test_join_once_and_auto_update(pstore: Storage) -> None:
    await pstore.create_campaign(campaign("once", join_once=True), [], 5)
    first = await publish(pstore, "alice", campaign="once")
    assert await publish(pstore, "alice", campaign="once") == first
    assert (await publish(pstore, "bob", campaign="once"))["codes"] != first["codes"]
    await pstore.create_campaign(campaign("auto", kind="AUTO_UPDATE", pattern="AU-####"), [], 1)
    codes = [(await publish(pstore, f"c{i}", campaign="auto"))["codes"][0] for i in range(3)]
    assert len(set(codes)) == 3 and all(c.startswith("AU-") for c in codes)
    assert (await pstore.get_campaign("proj_1", "auto")).vouchers_count == 3
    await pstore.create_campaign(campaign("off", active=False), [], 1)
    await refused("no_voucher_suitable_for_publication", publish(pstore, "d", campaign="off"))


async def test_a_published_code_cannot_be_published_again(pstore: Storage) -> None:
    await pstore.create_campaign(campaign("spring"), [], 0)
    await pstore.import_codes("proj_1", "spring", ["ONE", "TWO"], NOW)
    mine = await publish(pstore, "alice", voucher="ONE", source_id="s-1")
    assert mine["codes"] == ["ONE"] and mine["campaign"] == "camp_spring"
    assert await publish(pstore, "alice", voucher="ONE", source_id="s-1") == mine
    await refused("voucher_already_published", publish(pstore, "bob", voucher="ONE"))
    await refused("voucher_already_published", publish(pstore, "alice", voucher="ONE"))
    await refused("duplicate_source_id", publish(pstore, "alice", voucher="TWO", source_id="s-1"))
    await refused("missing_vouchers", publish(pstore, "alice"))
    with pytest.raises(NotFound):
        await publish(pstore, "alice", voucher="NOPE")
    # A campaign publication never hands out the published code either.
    other = await publish(pstore, "carol", campaign="spring")
    assert other["codes"] == ["TWO"]
    await refused("no_voucher_suitable_for_publication", publish(pstore, "dan", campaign="spring"))

    voucher, _ = await pstore.get_voucher("proj_1", "ONE")

    async def claim_twice(tx: Tx) -> list[Any]:
        return [await tx.claim_voucher(voucher.id, "cust_x"), await tx.voucher("ONE")]

    claimed, current = await in_tx(pstore, claim_twice)
    assert claimed is None and current.holder_id == voucher.holder_id


async def test_publications_filter_order_and_page_alike(pstore: Storage) -> None:
    await pstore.create_campaign(campaign("spring"), [], 5)
    await pstore.create_campaign(
        campaign("cards", campaign_type="LOYALTY_PROGRAM", voucher={"loyalty_card": {}}), [], 2
    )
    times = [f"2026-01-01T00:00:0{i}.000Z" for i in range(4)]
    a = await publish(pstore, "alice", campaign="spring", now=times[0], source_id="src-a")
    b = await publish(pstore, "bob", campaign="spring", now=times[1])
    c = await publish(pstore, "alice", campaign="cards", now=times[2], channel="Shop")
    await pstore.upsert_customer("proj_1", CustomerRef(), CustomerFields(name="anon"), NOW)

    async def ids(page: Page = FIRST, **where: Any) -> tuple[list[str], int]:
        found, total = await pstore.list_publications("proj_1", page, PublicationFilter(**where))
        return [p.id for p, _, _ in found], total

    assert await ids() == ([c["id"], b["id"], a["id"]], 3)
    assert await ids(order="created_at") == ([a["id"], b["id"], c["id"]], 3)
    assert await ids(Page(1, 2)) == ([b["id"]], 3)
    assert await ids(campaign="spring") == ([b["id"], a["id"]], 2)
    assert await ids(campaign="nope") == ([], 0)
    assert await ids(customer="alice") == ([c["id"], a["id"]], 2)
    assert await ids(voucher=b["codes"][0]) == ([b["id"]], 1)
    assert await ids(result="FAILURE") == ([], 0)
    assert await ids(voucher_type="loyalty") == ([c["id"]], 1)
    assert await ids(voucher_type="discount") == ([b["id"], a["id"]], 2)
    assert await ids(is_referral_code=True) == ([], 0)
    assert await ids(source_id="src-a") == ([a["id"]], 1)
    by_channel, _ = await ids(order="-channel")
    assert by_channel[0] == c["id"]
    by_tracking, _ = await ids(order="tracking_id")
    assert by_tracking[-1] == b["id"]
    found, _ = await pstore.list_publications("proj_1", Page(10, 1), PublicationFilter())
    publication, customer, owner = found[0]
    assert customer.source_id == "alice" and owner.id == "camp_cards"
    assert [v.code for v in publication.vouchers] == c["codes"] and publication.channel == "Shop"


# --- concurrency ---------------------------------------------------------------------------------


async def test_concurrent_publishers_never_share_a_code(
    pstore: Storage, open_store: OpenStore
) -> None:
    await pstore.create_campaign(campaign("spring"), [], 30)
    others = [await open_store() for _ in range(2)]
    results = await asyncio.gather(
        *(
            publish(store, f"c{i}", campaign="spring")
            for i in range(24)
            for store in [(pstore, *others)[i % 3]]
        )
    )
    codes = [code for r in results for code in r["codes"]]
    assert len(codes) == len(set(codes)) == 24
    every, total = await pstore.list_vouchers(
        "proj_1", Page(100, 1), campaign="spring", holder_id=None
    )
    assert total == 30 and sorted(v.code for v, _ in every if v.holder_id) == sorted(codes)


async def test_racing_publishes_of_one_source_id_or_join_once_make_one_publication(
    pstore: Storage, open_store: OpenStore
) -> None:
    await pstore.create_campaign(campaign("spring"), [], 20)
    await pstore.create_campaign(campaign("once", join_once=True), [], 20)
    stores = [pstore, await open_store(), await open_store()]
    same_source = await asyncio.gather(
        *(publish(stores[i % 3], "alice", campaign="spring", source_id="order-1") for i in range(6))
    )
    assert len({r["id"] for r in same_source}) == 1
    same_customer = await asyncio.gather(
        *(publish(stores[i % 3], "bob", campaign="once") for i in range(6))
    )
    assert len({r["id"] for r in same_customer}) == 1
    _, total = await pstore.list_publications("proj_1", Page(10, 1), PublicationFilter())
    assert total == 2


async def test_racing_auto_update_publishes_get_distinct_fresh_codes(
    pstore: Storage, open_store: OpenStore
) -> None:
    await pstore.create_campaign(campaign("auto", kind="AUTO_UPDATE", pattern="AU-###"), [], 0)
    stores = [pstore, await open_store(), await open_store()]
    results = await asyncio.gather(
        *(publish(stores[i % 3], f"c{i}", campaign="auto") for i in range(12))
    )
    codes = [code for r in results for code in r["codes"]]
    assert len(set(codes)) == 12
    assert (await pstore.get_campaign("proj_1", "auto")).vouchers_count == 12


def run_publishers(database_url: str, campaign_id: str, count: int, each: int) -> list[Any]:
    """Start ``count`` publisher processes, let them go at once, collect what each published."""
    publishers = [
        subprocess.Popen(
            [sys.executable, str(PUBLISHER), database_url, campaign_id, str(each), f"p{n}"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for n in range(count)
    ]
    for p in publishers:
        assert p.stdout is not None and p.stdout.readline() == "ready\n"
    for p in publishers:
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()
    outputs = [p.communicate(timeout=180)[0] for p in publishers]
    assert [p.returncode for p in publishers] == [0] * count
    return [json.loads(out) for out in outputs]


async def test_code_counts_say_total_published_and_remaining(pstore: Storage) -> None:
    empty = await pstore.create_campaign(campaign("empty"), [], 0)
    assert await pstore.code_counts("proj_1", empty.id) == CodeCounts(0, 0, 0)
    spring = await pstore.create_campaign(campaign("spring"), [], 4)
    await publish(pstore, "alice", campaign="spring", count=2)
    assert await pstore.code_counts("proj_1", spring.id) == CodeCounts(4, 2, 2)
    assert await pstore.code_counts("proj_other", spring.id) == CodeCounts(0, 0, 0)
    autumn = await pstore.create_campaign(campaign("autumn", pattern="AUTUMN-########"), [], 3)
    await publish(pstore, "bob", campaign="autumn", count=1)
    assert await pstore.code_counts_by_campaign("proj_1") == {
        spring.id: CodeCounts(4, 2, 2),
        autumn.id: CodeCounts(3, 1, 2),
    }  # the campaign without codes is absent
    assert await pstore.code_counts_by_campaign("proj_other") == {}


async def test_publisher_processes_never_share_a_code(pstore: Storage, database_url: str) -> None:
    await pstore.create_campaign(campaign("spring"), [], 100)
    results = await asyncio.to_thread(run_publishers, database_url, "camp_spring", 4, 30)
    codes = [code for r in results for code in r["codes"]]
    publications = [p for r in results for p in r["publications"]]
    refused = sum(r["refused"] for r in results)
    assert len(codes) == len(set(codes)) == 100, "every code published once, none twice"
    assert len(publications) == len(set(publications)) == 100 and refused == 20
    listed, total = await pstore.list_publications("proj_1", Page(100, 1), PublicationFilter())
    assert total == 100 and {p.id for p, _, _ in listed} == set(publications)
    held = {v.code: v.holder_id for p, _, _ in listed for v in p.vouchers}
    assert sorted(held) == sorted(codes) and None not in held.values()
    assert await customers_in(pstore) == 100, "a refused publish upserts no one"


# --- promotion tiers -----------------------------------------------------------------------------


async def test_promotion_tiers(pstore: Storage) -> None:
    await pstore.create_campaign(
        campaign("promo", campaign_type="PROMOTION", voucher=None), [tier("camp_promo", "a")], 0
    )
    b = await pstore.create_promotion_tier(tier("camp_promo", "b"))
    c = await pstore.create_promotion_tier(tier("camp_promo", "c", hierarchy=9))
    assert b.hierarchy == 2 and c.hierarchy == 9 and b.action == {"discount": 10}
    listed, total = await pstore.list_promotion_tiers("proj_1", "promo", Page(10, 1))
    assert [t.name for t in listed] == ["a", "b", "c"] and total == 3
    assert [t.hierarchy for t in listed] == [1, 2, 9]
    page, total = await pstore.list_promotion_tiers("proj_1", None, Page(1, 2))
    assert [t.name for t in page] == ["b"] and total == 3
    changed = await pstore.replace_promotion_tier(
        replace(b, name="B", active=False, action=None, updated_at=NOW)
    )
    assert changed.name == "B" and not changed.active and changed.action is None
    assert await pstore.get_promotion_tier("proj_1", b.id) == changed
    with pytest.raises(NotFound):
        await pstore.replace_promotion_tier(replace(b, id="promo_nope"))
    await pstore.create_distribution(
        replace(distribution("distr_2"), action={"type": "x", "promotion_tier_id": c.id})
    )
    with pytest.raises(Conflict) as in_use:
        await pstore.delete_promotion_tier("proj_1", c.id)
    assert in_use.value.key == "promotion_tier_in_use"
    await pstore.delete_promotion_tier("proj_1", b.id)
    with pytest.raises(NotFound):
        await pstore.get_promotion_tier("proj_1", b.id)
    await pstore.create_campaign(campaign("spring"), [], 0)
    await refused("invalid_campaign_type", pstore.create_promotion_tier(tier("camp_spring", "x")))
    await refused(
        "invalid_campaign_type", pstore.list_promotion_tiers("proj_1", "spring", Page(10, 1))
    )

    async def look(tx: Tx) -> Any:
        return await tx.promotion_tier(c.id), await tx.promotion_tier("nope")

    assert await in_tx(pstore, look) == (c, None)


# --- loyalty, referral, outcomes -----------------------------------------------------------------


async def test_earning_rules(pstore: Storage) -> None:
    cards = campaign("cards", campaign_type="LOYALTY_PROGRAM", voucher={"loyalty_card": {}})
    await pstore.create_campaign(cards, [], 1)
    fixed = {"event": "sign_up", "loyalty": {"type": "FIXED", "points": 5}}
    by_id = {
        "custom_event": {"schema_id": "ms_1"},
        "loyalty": {"type": "FIXED", "points": 1},
        "active": False,
    }
    rules = await pstore.create_earning_rules("proj_1", "cards", [fixed, by_id], NOW)
    assert [r.event for r in rules] == ["sign_up", "sign_up"] and not rules[1].active
    listed, total = await pstore.list_earning_rules("proj_1", "cards", Page(10, 1))
    assert sorted(r.id for r in listed) == sorted(r.id for r in rules) and total == 2
    assert await pstore.get_earning_rule("proj_1", "camp_cards", rules[0].id) == rules[0]
    for bad in (
        {"event": "nope", "loyalty": {"type": "FIXED", "points": 5}},
        {"event": 7, "loyalty": {"type": "FIXED", "points": 5}},
        {"event": "other", "custom_event": {"schema_id": "ms_1"}, "loyalty": {}},
    ):
        await refused(
            "invalid_earning_rule", pstore.create_earning_rules("proj_1", "cards", [bad], NOW)
        )
    _, total = await pstore.list_earning_rules("proj_1", "cards", Page(10, 1))
    assert total == 2, "a refused batch adds nothing"

    async def active(tx: Tx) -> list[EarningRule]:
        return await tx.earning_rules("camp_cards", "sign_up")

    assert await in_tx(pstore, active) == [rules[0]]
    await pstore.delete_earning_rule("proj_1", "cards", rules[0].id)
    with pytest.raises(NotFound):
        await pstore.get_earning_rule("proj_1", "cards", rules[0].id)
    await pstore.create_campaign(campaign("spring"), [], 0)
    await refused(
        "invalid_campaign_type", pstore.list_earning_rules("proj_1", "spring", Page(10, 1))
    )


async def test_points_are_credited_and_listed_newest_first(pstore: Storage) -> None:
    cards = campaign(
        "cards", campaign_type="LOYALTY_PROGRAM", voucher={"loyalty_card": {"points": 2}}
    )
    await pstore.create_campaign(cards, [], 0)
    await pstore.add_voucher("proj_1", "cards", "CARD-1", {}, NOW)
    fixed = {"event": "sign_up", "loyalty": {"type": "FIXED", "points": 5}}
    (rule,) = await pstore.create_earning_rules("proj_1", "cards", [fixed], NOW)

    async def credit(tx: Tx) -> list[int]:
        balances = []
        for points, event_id in ((5, "event_1"), (3, "event_2"), (4, "event_3")):
            card = await tx.voucher("CARD-1")
            assert card is not None
            balances.append((await tx.credit_points(card, rule, points, event_id)).balance)
        return balances

    assert await in_tx(pstore, credit) == [7, 10, 14]
    card, _ = await pstore.get_voucher("proj_1", "CARD-1")
    assert card.points == 14 and card.balance == 14
    found, total = await pstore.list_loyalty_transactions("proj_1", "CARD-1", Page(10, 1))
    assert [(t.event_id, t.points, t.balance) for t in found] == [
        ("event_3", 4, 14),
        ("event_2", 3, 10),
        ("event_1", 5, 7),
    ]
    assert total == 3 and found[0].earning_rule_id == rule.id
    page, _ = await pstore.list_loyalty_transactions("proj_1", "CARD-1", Page(1, 2))
    assert [t.event_id for t in page] == ["event_2"]
    with pytest.raises(NotFound):
        await pstore.list_loyalty_transactions("proj_1", "nope", Page(10, 1))


async def test_referral_conversions_and_outcomes(pstore: Storage) -> None:
    await pstore.create_campaign(campaign("ref", campaign_type="REFERRAL_PROGRAM"), [], 2)
    referrer = await publish(pstore, "alice", campaign="ref")
    code = referrer["codes"][0]
    bob = await pstore.upsert_customer(
        "proj_1", CustomerRef(source_id="bob"), CustomerFields(), NOW
    )

    async def convert(tx: Tx) -> Any:
        ref = await tx.campaign("ref")
        voucher = await tx.voucher(code)
        assert ref is not None and voucher is not None
        assert await tx.referral_conversion(ref.id, bob.id) is None
        made = await tx.record_conversion(ref, voucher, bob.id, "event_1")
        customer = await tx.customer(bob.id)
        await tx.record_outcome(
            distribution_id="distr_1",
            event_id="event_1",
            customer_id=bob.id,
            campaign_id=ref.id,
            result="no_voucher_suitable_for_publication",
            details="empty",
        )
        await tx.record_outcome(
            distribution_id=None,
            event_id="event_2",
            customer_id=bob.id,
            campaign_id=None,
            result="other",
            details="x",
        )
        return made, await tx.referral_conversion(ref.id, bob.id), customer

    made, found, customer = await in_tx(pstore, convert)
    assert found == made and made.code == code and customer == bob
    alice = await pstore.get_customer("proj_1", "alice")
    assert made.referrer_id == alice.id and made.referee_id == bob.id
    listed, total = await pstore.list_referral_conversions(
        "proj_1", Page(10, 1), campaign="ref", referrer_id=alice.id
    )
    assert listed == [made] and total == 1
    none, total = await pstore.list_referral_conversions(
        "proj_1", Page(10, 1), campaign=None, referrer_id="cust_nope"
    )
    assert none == [] and total == 0
    with pytest.raises(NotFound):
        await pstore.list_referral_conversions(
            "proj_1", Page(10, 1), campaign="nope", referrer_id=None
        )
    outcomes, total = await pstore.list_distribution_outcomes(
        "proj_1", Page(10, 1), distribution_id=None, result=None
    )
    assert total == 2 and {o.result for o in outcomes} == {
        "other",
        "no_voucher_suitable_for_publication",
    }
    mine, total = await pstore.list_distribution_outcomes(
        "proj_1",
        Page(10, 1),
        distribution_id="distr_1",
        result="no_voucher_suitable_for_publication",
    )
    assert total == 1 and mine[0].details == "empty" and mine[0].campaign_id == "camp_ref"
    of_event, total = await pstore.list_distribution_outcomes(
        "proj_1", Page(10, 1), distribution_id=None, result=None, event_id="event_2"
    )
    assert total == 1 and [o.result for o in of_event] == ["other"]


async def test_publish_with_an_idempotency_key_replays_its_first_answer(pstore: Storage) -> None:
    await pstore.create_campaign(campaign("spring"), [], 3)
    key = IdempotencyKey("POST /v1/publications", "k-1", "hash-1", 0)
    request = PublishRequest(customer_id="", campaign="spring")

    async def send(k: IdempotencyKey) -> tuple[bytes, bool]:
        ref = CustomerRef(source_id="alice")
        return await publish_to_customer(
            pstore, "proj_1", ref, CustomerFields(), request, NOW, render, k
        )

    first, replayed = await send(key)
    assert not replayed
    assert await send(key) == (first, True)
    with pytest.raises(Conflict):
        await send(replace(key, request_hash="hash-2"))
    _, total = await pstore.list_publications("proj_1", Page(10, 1), PublicationFilter())
    assert total == 1


async def test_customer_standings_add_up_cards_and_referrals_per_program(pstore: Storage) -> None:
    for name, points in (("more", 3), ("cards", 2)):
        loyalty = {"loyalty_card": {"points": points}}
        await pstore.create_campaign(
            campaign(name, campaign_type="LOYALTY_PROGRAM", voucher=loyalty), [], 2
        )
    await pstore.create_campaign(campaign("ref", campaign_type="REFERRAL_PROGRAM"), [], 1)
    await pstore.create_campaign(campaign("coupons"), [], 1)
    cards = (await publish(pstore, "alice", campaign="cards", count=2))["codes"]
    await publish(pstore, "alice", campaign="more")
    await publish(pstore, "alice", campaign="coupons")  # a coupon is no loyalty balance
    code = (await publish(pstore, "alice", campaign="ref"))["codes"][0]
    bob, carol, dan = [
        await pstore.upsert_customer("proj_1", CustomerRef(source_id=s), CustomerFields(), NOW)
        for s in ("bob", "carol", "dan")
    ]
    fixed = {"event": "sign_up", "loyalty": {"type": "FIXED", "points": 5}}
    (rule,) = await pstore.create_earning_rules("proj_1", "cards", [fixed], NOW)

    async def earn_and_refer(tx: Tx) -> list[Any]:
        card, ref, voucher = (
            await tx.voucher(cards[0]),
            await tx.campaign("ref"),
            await tx.voucher(code),
        )
        assert card is not None and ref is not None and voucher is not None
        await tx.credit_points(card, rule, 5, "event_1")
        return [
            await tx.record_conversion(ref, voucher, c.id, f"event_{c.source_id}")
            for c in (bob, carol)
        ]

    by_bob, _ = await in_tx(pstore, earn_and_refer)
    alice = await pstore.get_customer("proj_1", "alice")
    standings = await pstore.customer_standings("proj_1", [alice.id, bob.id, dan.id])
    assert standings[alice.id] == CustomerStanding(
        programs=(
            ProgramStanding("camp_cards", "cards", 2 + 5 + 2, 0),
            ProgramStanding("camp_more", "more", 3, 0),
            ProgramStanding("camp_ref", "ref", 0, 2),
        )
    )
    assert standings[bob.id] == CustomerStanding(referred_by=(by_bob,))
    assert dan.id not in standings and carol.id not in standings  # carol was not asked for
    assert await pstore.customer_standings("proj_1", []) == {}
