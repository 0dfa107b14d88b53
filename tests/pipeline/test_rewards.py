"""Referral codes and loyalty cards an event carries (``promotions/rewards.py``), on each backend.

:func:`apply_rewards` runs inside a real transaction: each referral refusal raises its own key
and records nothing; a referee converts once per program; a loyalty card earns the points of
each active earning rule on the event, one transaction row per rule; the returned
:class:`Rewards` carries what the event and its webhook echo.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from sendout.errors import NotFound
from sendout.pipeline.deliveries import rewards_data
from sendout.promotions.campaigns import voucher_template
from sendout.promotions.rewards import Rewards, apply_rewards
from sendout.records import Customer, CustomerFields, Page, PropertyDef
from sendout.storage.base import CustomerRef, PublicationFilter, Storage
from support.promotion_store import campaign, in_tx, publish, refused
from support.storage import NOW


async def customer(store: Storage, source_id: str) -> Customer:
    return await store.upsert_customer(
        "proj_1", CustomerRef(source_id=source_id), CustomerFields(), NOW
    )


async def rewards(
    store: Storage,
    holder: Customer,
    *,
    event_id: str = "event_1",
    event_name: str = "sign_up",
    metadata: dict[str, Any] | None = None,
    referral: dict[str, Any] | None = None,
    loyalty: dict[str, Any] | None = None,
) -> Rewards:
    """``apply_rewards`` for ``holder``'s event, in one transaction of ``store``."""
    return await in_tx(
        store,
        lambda tx: apply_rewards(
            tx,
            holder,
            event_id=event_id,
            event_name=event_name,
            metadata=metadata or {},
            referral=referral,
            loyalty=loyalty,
        ),
    )


async def referral_code(store: Storage, holder: str = "alice", **program: Any) -> str:
    """A code of referral program ``ref`` (created on first use), published to ``holder``."""
    try:
        await store.get_campaign("proj_1", "ref")
    except NotFound:
        made = campaign("ref", campaign_type="REFERRAL_PROGRAM", referral_program=program or None)
        await store.create_campaign(made, [], 3)
    return str((await publish(store, holder, campaign="ref"))["codes"][0])


async def conversions(store: Storage) -> list[Any]:
    found, _ = await store.list_referral_conversions(
        "proj_1", Page(10, 1), campaign=None, referrer_id=None
    )
    return found


# --- referral ------------------------------------------------------------------------------------


async def test_an_event_without_a_code_or_card_has_empty_rewards(store: Storage) -> None:
    assert await rewards(store, await customer(store, "bob")) == Rewards()


async def test_an_unknown_referral_code_is_refused(store: Storage) -> None:
    bob = await customer(store, "bob")
    await refused("referral_code_not_found", rewards(store, bob, referral={"code": "NOPE"}))


async def test_a_code_of_another_campaign_type_is_not_a_referral_code(store: Storage) -> None:
    await store.create_campaign(campaign("spring"), [], 1)
    code = (await publish(store, "alice", campaign="spring"))["codes"][0]
    bob = await customer(store, "bob")
    await refused("not_a_referral_code", rewards(store, bob, referral={"code": code}))


async def test_a_code_of_a_disabled_program_is_inactive(store: Storage) -> None:
    code = await referral_code(store)
    await store.replace_campaign(replace(await store.get_campaign("proj_1", "ref"), active=False))
    bob = await customer(store, "bob")
    await refused("referral_code_inactive", rewards(store, bob, referral={"code": code}))


async def test_an_unpublished_referral_code_is_refused(store: Storage) -> None:
    await store.create_campaign(campaign("ref", campaign_type="REFERRAL_PROGRAM"), [], 0)
    await store.import_codes("proj_1", "ref", ["REF-1"], NOW)
    bob = await customer(store, "bob")
    await refused("referral_code_not_published", rewards(store, bob, referral={"code": "REF-1"}))


async def test_a_referral_code_whose_referrer_was_deleted_is_refused(store: Storage) -> None:
    code = await referral_code(store)
    await store.delete_customer("proj_1", "alice")
    bob = await customer(store, "bob")
    await refused("referrer_not_found", rewards(store, bob, referral={"code": code}))
    assert await conversions(store) == []


async def test_a_referrer_who_does_not_hold_the_code_is_refused(store: Storage) -> None:
    code = await referral_code(store)
    bob = await customer(store, "bob")
    await refused(
        "referrer_mismatch", rewards(store, bob, referral={"code": code, "referrer_id": "carol"})
    )
    assert await conversions(store) == []


@pytest.mark.parametrize("naming", ["id", "source_id"])
async def test_the_referrer_may_be_named_by_id_or_source_id(store: Storage, naming: str) -> None:
    code = await referral_code(store)
    alice = await store.get_customer("proj_1", "alice")
    bob = await customer(store, "bob")
    given = alice.id if naming == "id" else "alice"
    got = await rewards(store, bob, referral={"code": code, "referrer_id": given})
    assert got.event_referral is not None and got.event_referral["referrer_id"] == alice.id


async def test_a_customer_cannot_use_their_own_referral_code(store: Storage) -> None:
    code = await referral_code(store)
    alice = await store.get_customer("proj_1", "alice")
    await refused("self_referral", rewards(store, alice, referral={"code": code}))
    assert await conversions(store) == []


async def test_a_referee_converts_once_per_program(store: Storage) -> None:
    code = await referral_code(store)
    other = await referral_code(store, "carol")
    bob = await customer(store, "bob")
    await rewards(store, bob, event_id="event_1", referral={"code": code})
    await rewards(store, bob, event_id="event_2", referral={"code": code})
    (conversion,) = await conversions(store)
    alice = await store.get_customer("proj_1", "alice")
    assert (conversion.referee_id, conversion.referrer_id) == (bob.id, alice.id)
    assert conversion.event_id == "event_1" and conversion.code == code
    await refused("customer_already_referred", rewards(store, bob, referral={"code": other}))
    assert len(await conversions(store)) == 1


async def test_only_the_programs_conversion_event_converts(store: Storage) -> None:
    program = {"conversion_event_type": "custom_event", "custom_event": {"name": "purchase"}}
    code = await referral_code(store, **program)
    bob = await customer(store, "bob")
    got = await rewards(store, bob, event_name="sign_up", referral={"code": code})
    assert got.event_referral is not None, "the code is still checked and echoed"
    assert await conversions(store) == []
    await rewards(store, bob, event_name="purchase", referral={"code": code})
    assert len(await conversions(store)) == 1


async def test_a_conversion_publishes_the_referee_reward_or_records_why_not(
    store: Storage,
) -> None:
    await store.create_campaign(campaign("reward"), [], 1)
    program = {"referee_reward": {"related_object_parent": {"id": "camp_reward"}}}
    code = await referral_code(store, **program)
    bob, dan = await customer(store, "bob"), await customer(store, "dan")
    await rewards(store, bob, referral={"code": code})
    await rewards(store, dan, event_id="event_2", referral={"code": code})
    found, total = await store.list_publications(
        "proj_1", Page(10, 1), PublicationFilter(campaign="reward")
    )
    assert total == 1 and found[0][0].customer_id == bob.id
    outcomes, total = await store.list_distribution_outcomes(
        "proj_1", Page(10, 1), distribution_id=None, result=None
    )
    assert total == 1 and outcomes[0].customer_id == dan.id
    assert outcomes[0].result == "no_voucher_suitable_for_publication"
    assert len(await conversions(store)) == 2, "an empty reward pool refuses no conversion"


# --- loyalty -------------------------------------------------------------------------------------


async def loyalty_program(store: Storage, *rules: dict[str, Any]) -> None:
    """Program ``cards`` with card ``CARD-1`` and ``rules`` on ``purchase`` (``amount``)."""
    await store.create_event_schema(
        "proj_1", "ms_2", "purchase", {"amount": PropertyDef("number")}, NOW
    )
    template = voucher_template("LOYALTY_PROGRAM", {"type": "LOYALTY_CARD"})
    await store.create_campaign(
        campaign("cards", campaign_type="LOYALTY_PROGRAM", voucher=template), [], 0
    )
    await store.add_voucher("proj_1", "cards", "CARD-1", {}, NOW)
    await store.create_earning_rules("proj_1", "cards", list(rules), NOW)


FIXED = {"event": "purchase", "loyalty": {"type": "FIXED", "points": 5}}
PROPORTIONAL = {
    "event": "purchase",
    "loyalty": {
        "type": "PROPORTIONAL",
        "calculation_type": "CUSTOM_EVENT_METADATA",
        "custom_event": {"metadata": {"every": 10, "points": 2, "property": "amount"}},
    },
}


async def test_a_card_earns_the_points_of_each_rule_with_one_transaction_each(
    store: Storage,
) -> None:
    inactive = {**FIXED, "active": False}
    other_event = {"event": "sign_up", "loyalty": {"type": "FIXED", "points": 100}}
    await loyalty_program(store, FIXED, PROPORTIONAL, inactive, other_event)
    bob = await customer(store, "bob")
    got = await rewards(
        store, bob, event_name="purchase", metadata={"amount": 25}, loyalty={"code": "CARD-1"}
    )
    assert got.loyalty is not None
    assert (got.loyalty.card.points, got.loyalty.card.balance) == (9, 9)
    card, _ = await store.get_voucher("proj_1", "CARD-1")
    assert (card.points, card.balance) == (9, 9)
    found, total = await store.list_loyalty_transactions("proj_1", "CARD-1", Page(10, 1))
    assert total == 2 and sorted(t.points for t in found) == [4, 5]
    assert {t.event_id for t in found} == {"event_1"} and found[0].balance == 9


async def test_a_proportional_rule_without_its_number_gives_nothing(store: Storage) -> None:
    await loyalty_program(store, PROPORTIONAL)
    bob = await customer(store, "bob")
    await rewards(store, bob, event_name="purchase", loyalty={"code": "CARD-1"})
    _, total = await store.list_loyalty_transactions("proj_1", "CARD-1", Page(10, 1))
    assert total == 0


async def test_an_unknown_card_another_customers_card_or_a_referral_code_is_refused(
    store: Storage,
) -> None:
    await loyalty_program(store, FIXED)
    await publish(store, "alice", voucher="CARD-1")
    bob = await customer(store, "bob")
    for code, key in (
        ("NOPE", "loyalty_card_not_found"),
        ("CARD-1", "loyalty_card_holder_mismatch"),
    ):
        await refused(key, rewards(store, bob, event_name="purchase", loyalty={"code": code}))
    code = await referral_code(store)
    await refused("not_a_loyalty_card", rewards(store, bob, loyalty={"code": code}))
    card, _ = await store.get_voucher("proj_1", "CARD-1")
    assert card.points == 0


# --- what the event echoes -----------------------------------------------------------------------


async def test_the_rewards_carry_the_event_echo_and_the_webhook_data(store: Storage) -> None:
    await loyalty_program(store, FIXED)
    code = await referral_code(store)
    alice = await store.get_customer("proj_1", "alice")
    voucher, _ = await store.get_voucher("proj_1", code)
    bob = await customer(store, "bob")
    got = await rewards(
        store,
        bob,
        event_name="purchase",
        referral={"code": code},
        loyalty={"code": "CARD-1"},
    )
    assert got.event_referral == {"referrer_id": alice.id, "code": code, "id": voucher.id}
    assert got.event_loyalty == {"code": "CARD-1"}
    assert got.referral is not None and got.loyalty is not None
    assert got.referral.referrer.id == alice.id
    assert got.referral.voucher.code == code
    assert got.referral.campaign.id == "camp_ref"
    assert got.loyalty.card.code == "CARD-1"
    assert got.loyalty.campaign.id == "camp_cards"
    data = rewards_data(got)
    assert set(data) == {"referral", "loyalty"}
    assert data["referral"]["referrer"]["id"] == alice.id
    assert data["loyalty"]["voucher"]["code"] == "CARD-1"
