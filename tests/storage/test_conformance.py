"""Every storage verb, on every backend: the same answers, errors and orderings.

Each test gets a fresh database (a SQLite file, or a new PostgreSQL database dropped afterwards),
migrated and holding project ``proj_1``, schema ``sign_up`` and active distribution ``distr_1``.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from sendout.bootstrap import ensure_credentials
from sendout.clock import SystemClock
from sendout.errors import Conflict, InvalidInput, NotFound
from sendout.promotions.rewards import Rewards
from sendout.records import (
    Customer,
    CustomerFields,
    Event,
    NewDelivery,
    Outcome,
    Page,
    Project,
    PropertyDef,
)
from sendout.settings import Settings
from sendout.storage.base import CustomerRef, DeliveryFilter, IdempotencyKey, Storage
from sendout.storage.postgres import LISTENER
from sendout.storage.tx import Insertion, Tx
from sendout.token_digest import token_digest
from support.postgres import one_waits_for_a_lock
from support.storage import (
    NOW,
    NOW_MS,
    SECRET,
    SOON_MS,
    command,
    customers_in,
    distribution,
    enqueue,
    render,
    track,
)

CLAIMER = Path(__file__).resolve().parents[1] / "support" / "claimer.py"


# --- tracking -------------------------------------------------------------------------------------


async def test_tracking_is_all_or_nothing(store: Storage) -> None:
    with pytest.raises(InvalidInput):
        await track(store, replace(command("event_1"), metadata={"plan": 1}))
    assert await customers_in(store) == 0
    result = await track(store, command("event_2"))
    assert result.enqueued == 1 and result.response == b"event_2" and not result.replayed
    customer = await store.get_customer("proj_1", "c1")
    assert customer.source_id == "c1" and customer.name == "N"
    events, total = await store.list_events(
        "proj_1", Page(10, 1), customer_id=None, event_name=None
    )
    assert total == 1 and events[0].id == "event_2"
    assert events[0].metadata == {"plan": "p"} and events[0].schema_id == "ms_1"


async def test_tracking_an_unknown_event_is_refused(store: Storage) -> None:
    unknown = replace(command("event_1"), event_name="nope")
    with pytest.raises(InvalidInput) as refused:
        await track(store, unknown)
    assert refused.value.key == "unknown_event"
    assert await customers_in(store) == 0


async def test_concurrent_tracking_for_one_new_customer_makes_one_customer(
    store: Storage,
) -> None:
    await asyncio.gather(*(track(store, command(f"event_{i}", "same")) for i in range(8)))
    assert await customers_in(store) == 1


async def test_events_list_newest_first_and_filter(store: Storage) -> None:
    for i, at in enumerate(("2026-01-01T00:00:01.000Z", "2026-01-01T00:00:02.000Z")):
        await track(store, command(f"event_{i}", f"c{i}", created_at=at))
    newest_first, total = await store.list_events(
        "proj_1", Page(10, 1), customer_id=None, event_name=None
    )
    assert [e.id for e in newest_first] == ["event_1", "event_0"] and total == 2
    c0 = await store.get_customer("proj_1", "c0")
    mine, total = await store.list_events(
        "proj_1", Page(10, 1), customer_id=c0.id, event_name="sign_up"
    )
    assert [e.id for e in mine] == ["event_0"] and total == 1
    none, total = await store.list_events("proj_1", Page(10, 1), customer_id=None, event_name="x")
    assert none == [] and total == 0


async def test_a_burst_of_mixed_events_answers_each_as_if_alone(store: Storage) -> None:
    """Concurrent events (which the store looks up and writes in batches where it can) get
    exactly the answers and leave exactly the rows they would one at a time."""
    await track(store, command("event_0", "known"))
    known = await store.get_customer("proj_1", "known")
    calls = {
        "event_a": command("event_a", "known"),  # known customer, nothing changes
        "event_b": command("event_b", "fresh"),  # a new customer...
        # ...renamed by the next event in the same burst
        "event_c": replace(command("event_c", "fresh"), customer_fields=CustomerFields(name="M")),
        "event_d": replace(command("event_d"), event_name="nope"),
        "event_e": replace(command("event_e"), customer=CustomerRef(id="cust_nobody")),
        "event_f": replace(command("event_f", "invalid"), metadata={"plan": 1}),
        "event_g": replace(
            command("event_g"), customer=CustomerRef(id=known.id), customer_fields=CustomerFields()
        ),
    }
    answers = dict(
        zip(
            calls,
            await asyncio.gather(
                *(track(store, c) for c in calls.values()), return_exceptions=True
            ),
            strict=True,
        )
    )
    for ok in ("event_a", "event_b", "event_c", "event_g"):
        answer = answers[ok]
        assert not isinstance(answer, BaseException), (ok, answer)
        assert answer.response == ok.encode() and answer.enqueued == 1
    assert (
        isinstance(answers["event_d"], InvalidInput) and answers["event_d"].key == "unknown_event"
    )
    assert isinstance(answers["event_e"], NotFound)
    assert isinstance(answers["event_f"], InvalidInput)
    assert await customers_in(store) == 2  # known, fresh: nothing of the refused
    fresh = await store.get_customer("proj_1", "fresh")
    assert fresh.name == "M"
    events, total = await store.list_events(
        "proj_1", Page(10, 1), customer_id=None, event_name=None
    )
    owners = {e.id: e.customer_id for e in events}
    assert total == 5 and owners == {
        "event_0": known.id,
        "event_a": known.id,
        "event_b": fresh.id,
        "event_c": fresh.id,
        "event_g": known.id,
    }
    claimed = await store.claim_due(NOW_MS, 100, 30_000, retries=False)
    # One message per stored event (distr_1 has one channel), no other.
    assert sorted(json.loads(m.body)["data"]["event"]["id"] for m in claimed) == sorted(owners)


async def test_an_event_that_breaks_planning_fails_alone(store: Storage) -> None:
    """A bug met while planning one event answers that event with the error; the events
    tracked beside it (batched with it) are stored as usual."""

    def render_or_crash(event: Event, customer: Customer) -> bytes:
        if event.id == "event_2":
            raise RuntimeError("a bug while rendering")
        return render(event, customer)

    answers = await asyncio.gather(
        *(track(store, command(f"event_{i}", f"c{i}"), render_or_crash) for i in range(6)),
        return_exceptions=True,
    )
    assert isinstance(answers[2], RuntimeError)
    assert [a.response for a in answers if not isinstance(a, BaseException)] == [
        f"event_{i}".encode() for i in (0, 1, 3, 4, 5)
    ]
    _, total = await store.list_events("proj_1", Page(10, 1), customer_id=None, event_name=None)
    assert total == 5 and await customers_in(store) == 5


def _new_customer(customer_id: str, source_id: str) -> Customer:
    return Customer(
        customer_id, "proj_1", source_id, "N", None, None, None, None, None, {}, NOW, None
    )


def _insertion(event_id: str, customer_id: str) -> Insertion:
    cmd = command(event_id)
    event = cmd.event("ms_1", customer_id, Rewards())
    message = NewDelivery(f"whs_{event_id}", "distr_1", 0, "n", "http://127.0.0.1:1/x", {}, b"{}")
    return Insertion(event, [message], NOW_MS)


async def test_a_batch_reads_every_key_it_is_given(store: Storage) -> None:
    """Triggers, customers by id and by source_id, past any limit on a statement's parameters."""
    batches = store.batches
    assert batches is not None
    await asyncio.gather(*(track(store, command(f"event_{i}", f"c{i}")) for i in range(1200)))
    by_source = {("proj_1", f"c{i}") for i in range(1200)} | {("proj_1", "nobody")}
    first = await batches.lookup({("proj_1", "sign_up"), ("proj_1", "nope")}, set(), by_source)
    assert len(first.by_source) == 1200 and not first.by_id
    assert list(first.triggers) == [("proj_1", "sign_up")]
    schema, candidates = first.triggers[("proj_1", "sign_up")]
    assert schema.id == "ms_1" and [d.id for d in candidates] == ["distr_1"]
    ids = {c.id for c in first.by_source.values()} | {"cust_nobody"}
    second = await batches.lookup(set(), ids, set())
    assert set(second.by_id) == ids - {"cust_nobody"} and not second.triggers


async def test_a_batch_stores_nothing_for_a_customer_gone_or_created_meanwhile(
    store: Storage,
) -> None:
    """Between a batch's lookup and its insert another transaction deletes one customer and
    creates another the batch planned to create: their events are left out (the pipeline then
    tracks them alone), the rest are stored with their deliveries."""
    batches = store.batches
    assert batches is not None
    await track(store, command("event_0", "doomed"))
    await track(store, command("event_1", "kept"))
    found = await batches.lookup(set(), set(), {("proj_1", "doomed"), ("proj_1", "kept")})
    doomed, kept = found.by_source[("proj_1", "doomed")], found.by_source[("proj_1", "kept")]
    await store.delete_customer("proj_1", "doomed")
    await track(store, command("event_2", "racer"))  # created by the transaction first
    stored = await batches.insert(
        [
            _insertion("event_a", doomed.id),
            _insertion("event_b", kept.id),
            _insertion("event_c", "cust_racerbatch"),
            _insertion("event_d", "cust_freshbatch"),
        ],
        [_new_customer("cust_racerbatch", "racer"), _new_customer("cust_freshbatch", "fresh")],
    )
    assert stored == {"event_b", "event_d"}
    racer = await store.get_customer("proj_1", "racer")
    assert racer.id != "cust_racerbatch"
    assert (await store.get_customer("proj_1", "fresh")).id == "cust_freshbatch"
    events, _ = await store.list_events("proj_1", Page(10, 1), customer_id=None, event_name=None)
    assert sorted(e.id for e in events) == ["event_0", "event_1", "event_2", "event_b", "event_d"]
    claimed = await store.claim_due(NOW_MS, 100, 30_000, retries=False)
    assert {m.id for m in claimed} >= {"whs_event_b", "whs_event_d"}
    assert not {m.id for m in claimed} & {"whs_event_a", "whs_event_c"}


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)  # SQLite has one writer
async def test_a_customer_created_elsewhere_meanwhile_takes_the_event(
    store: Storage, backend: str, database_url: str
) -> None:
    """The batch plans to create customer ``racer``; another transaction creates it first: the
    event falls back to the tracking transaction and lands on that customer."""
    other = await asyncpg.connect(database_url)
    try:
        creating = other.transaction()
        await creating.start()
        await other.execute(
            "INSERT INTO customers (id, project_id, source_id, created_at)"
            " VALUES ('cust_other', 'proj_1', 'racer', $1)",
            NOW,
        )
        tracking = asyncio.create_task(track(store, command("event_1", "racer")))
        await one_waits_for_a_lock(other)  # the batch's insert, for our uncommitted row
        await creating.commit()
        result = await asyncio.wait_for(tracking, timeout=10)
    finally:
        await other.close()
    assert result.response == b"event_1"
    assert await customers_in(store) == 1
    racer = await store.get_customer("proj_1", "racer")
    assert racer.id == "cust_other" and racer.name == "N"  # the event's fields applied to it
    events, _ = await store.list_events("proj_1", Page(10, 1), customer_id=None, event_name=None)
    assert [(e.id, e.customer_id) for e in events] == [("event_1", "cust_other")]


# --- claims and leases -----------------------------------------------------------------------------


async def test_two_claimers_never_share_a_message(store: Storage) -> None:
    for i in range(20):
        await enqueue(store, command(f"event_{i}", f"c{i}"), per_event=5)
    a, b = await asyncio.gather(
        store.claim_due(NOW_MS, 60, 30_000, retries=False),
        store.claim_due(NOW_MS, 60, 30_000, retries=False),
    )
    ids_a, ids_b = {m.id for m in a}, {m.id for m in b}
    assert not ids_a & ids_b and len(ids_a | ids_b) == 100
    assert await store.claim_due(NOW_MS, 10, 30_000, retries=False) == []


async def test_two_stores_with_their_own_connections_never_share_a_message(
    store: Storage, open_store: Any
) -> None:
    other = await open_store()
    for i in range(10):
        await enqueue(store, command(f"event_{i}", f"c{i}"), per_event=20)

    async def drain(s: Storage) -> list[str]:
        claimed: list[str] = []
        while batch := await s.claim_due(NOW_MS, 3, 30_000, retries=False):
            claimed.extend(m.id for m in batch)
        return claimed

    a, b = await asyncio.gather(drain(store), drain(other))
    assert not set(a) & set(b) and len(set(a) | set(b)) == 200 == len(a) + len(b)


def run_claimers(database_url: str, count: int) -> list[list[str]]:
    """Start ``count`` claimer processes, let them go at once, collect what each claimed."""
    claimers = [
        subprocess.Popen(
            [sys.executable, str(CLAIMER), database_url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(count)
    ]
    for p in claimers:
        assert p.stdout is not None and p.stdout.readline() == "ready\n"
    for p in claimers:
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()
    outputs = [p.communicate(timeout=120)[0] for p in claimers]
    assert [p.returncode for p in claimers] == [0] * count
    return [json.loads(out) for out in outputs]


async def test_worker_processes_never_share_a_message(store: Storage, database_url: str) -> None:
    for i in range(30):
        await enqueue(store, command(f"event_{i}", f"c{i}"), per_event=20)
    claimed = await asyncio.to_thread(run_claimers, database_url, 3)
    every = [m for ids in claimed for m in ids]
    assert len(every) == len(set(every)) == 600


async def test_expired_leases_are_claimed_again(store: Storage) -> None:
    await enqueue(store, command("event_1"))
    [first] = await store.claim_due(NOW_MS, 10, 1_000, retries=False)
    assert await store.claim_due(NOW_MS + 999, 10, 1_000, retries=False) == []
    assert await store.next_due_ms(SOON_MS) == NOW_MS + 1_000
    assert await store.next_due_ms(NOW_MS + 999) is None  # asked no further than that
    [again] = await store.claim_due(NOW_MS + 1_000, 10, 1_000, retries=False)
    assert again.id == first.id and again.keys.standard[0] == SECRET
    assert again.body == b"{}" and again.headers == {} and again.attempts == 0


async def test_the_next_due_time_weighs_leases_and_retries_alike(store: Storage) -> None:
    for i in range(3):
        await enqueue(store, command(f"event_{i}", f"c{i}"))
    leased, retried = await store.claim_due(NOW_MS, 2, 3_000, retries=False)
    await store.record_outcomes(
        [Outcome(retried.id, "distr_1", 0, NOW_MS, 500, 1.0, None, "no", False, NOW_MS + 5_000)],
        pause_after=12,
        now=NOW,
    )
    assert await store.next_due_ms(SOON_MS) == NOW_MS  # the third, never claimed
    await store.claim_due(NOW_MS, 1, 30_000, retries=False)
    # Left: the lease ending at +3 s (its delivery was due first) and the retry at +5 s.
    assert await store.next_due_ms(SOON_MS) == NOW_MS + 3_000
    assert await store.next_due_ms(NOW_MS + 2_999) is None
    await store.release([leased.id])
    assert await store.next_due_ms(SOON_MS) == NOW_MS


async def test_claims_come_oldest_first_and_respect_the_limit(store: Storage) -> None:
    for i in range(5):
        await enqueue(store, command(f"event_{i}", f"c{i}"))
    first = await store.claim_due(NOW_MS, 2, 30_000, retries=False)
    rest = await store.claim_due(NOW_MS, 10, 30_000, retries=False)
    assert [m.id for m in first] == ["whs_event_0_0001", "whs_event_1_0001"]
    assert [m.id for m in rest] == [f"whs_event_{i}_0001" for i in (2, 3, 4)]


async def test_nothing_is_due_before_its_time(store: Storage) -> None:
    assert await store.next_due_ms(SOON_MS) is None
    await enqueue(store, command("event_1"))
    assert await store.next_due_ms(SOON_MS) == NOW_MS
    assert await store.next_due_ms(NOW_MS - 1) is None
    assert await store.claim_due(NOW_MS - 1, 10, 30_000, retries=False) == []


async def test_outcomes_move_deliveries_through_their_states(store: Storage) -> None:
    for i in range(3):
        await enqueue(store, command(f"event_{i}", f"c{i}"))
    m1, m2, m3 = await store.claim_due(NOW_MS, 10, 30_000, retries=False)
    await store.record_outcomes(
        [
            Outcome(m1.id, "distr_1", 0, NOW_MS, 200, 1.0, None, "ok", True, None),
            Outcome(m2.id, "distr_1", 0, NOW_MS, 500, 1.0, None, "no", False, NOW_MS + 5_000),
            Outcome(m3.id, "distr_1", 0, NOW_MS, None, 1.0, "timeout", None, False, None),
        ],
        pause_after=12,
        now=NOW,
    )
    await store.record_outcomes([], pause_after=12, now=NOW)
    by_status = {}
    for status in ("delivered", "pending", "failed"):
        found, total = await store.list_deliveries(
            "proj_1", Page(10, 1), DeliveryFilter(status=status)
        )
        by_status[status] = [d.id for d in found]
        assert total == 1
    assert by_status == {"delivered": [m1.id], "pending": [m2.id], "failed": [m3.id]}
    assert await store.claim_due(NOW_MS + 4_999, 10, 30_000, retries=True) == []
    assert await store.claim_due(NOW_MS + 5_000, 10, 30_000, retries=False) == []
    [retry] = await store.claim_due(NOW_MS + 5_000, 10, 30_000, retries=True)
    assert retry.id == m2.id and retry.attempts == 1
    failed = await store.get_delivery("proj_1", m3.id)
    assert failed.attempts[0].error == "timeout" and failed.attempts_count == 1
    assert failed.next_attempt_at is None and failed.delivered_at is None
    delivered = await store.get_delivery("proj_1", m1.id)
    assert delivered.delivered_at == NOW and delivered.attempts[0].status_code == 200
    pending = await store.get_delivery("proj_1", m2.id)
    assert pending.next_attempt_at == "2026-01-01T00:00:05.000Z"


async def test_purging_takes_old_finished_deliveries_only(store: Storage) -> None:
    old, new = "2026-01-01T00:00:00.000Z", "2026-03-01T00:00:00.000Z"
    for name in ("delivered", "failed", "delivered2", "pending"):
        await enqueue(store, command(f"event_{name}", name, created_at=old))
    await enqueue(store, command("event_new", "new", created_at=new))
    claimed = {
        m.id.removeprefix("whs_event_").rsplit("_", 1)[0]: m
        for m in await store.claim_due(NOW_MS, 100, 30_000, retries=False)
    }
    assert len(claimed) == 5

    def done(name: str, delivered: bool) -> Outcome:
        return Outcome(
            claimed[name].id, "distr_1", 0, NOW_MS, 200, 1.0, None, None, delivered, None
        )

    finished = [done("delivered", True), done("delivered2", True), done("failed", False)]
    await store.record_outcomes([*finished, done("new", True)], pause_after=12, now=NOW)
    await store.create_distribution(distribution("distr_2"))
    await enqueue(store, command("event_canceled", "c", created_at=old))
    await store.delete_distribution("proj_1", "distr_2", NOW)  # cancels its message
    [canceled], _ = await store.list_deliveries(
        "proj_1", Page(10, 1), DeliveryFilter(distribution_id="distr_2")
    )
    assert canceled.status == "canceled"
    cutoff = "2026-02-01T00:00:00.000Z"
    assert await store.purge_finished_deliveries(cutoff, NOW_MS, 2) == 2  # at most the limit
    assert await store.purge_finished_deliveries(cutoff, NOW_MS, 10) == 2  # the other two old ones
    assert await store.purge_finished_deliveries(cutoff, NOW_MS, 10) == 0
    left, total = await store.list_deliveries("proj_1", Page(10, 1), DeliveryFilter())
    assert total == 3  # the pending one, the canceled event's live message, the new one
    assert {d.status for d in left} == {"pending", "delivered"}
    assert {claimed["pending"].id, claimed["new"].id} <= {d.id for d in left}
    assert (await store.get_delivery("proj_1", claimed["new"].id)).attempts_count == 1
    for gone in [*(o.delivery_id for o in finished), canceled.id]:
        with pytest.raises(NotFound):
            await store.get_delivery("proj_1", gone)
    _, total = await store.list_events("proj_1", Page(10, 1), customer_id=None, event_name=None)
    assert total == 6  # events stay


async def test_a_late_outcome_of_a_purged_message_is_dropped_not_fatal(store: Storage) -> None:
    """A worker's lease ran out, another worker delivered the message, retention purged it;
    the first worker's outcome then arrives: recording it must not fail its whole batch."""
    for i in (1, 2):
        await enqueue(store, command(f"event_{i}", f"c{i}"))
    first_claim = await store.claim_due(NOW_MS, 10, 30_000, retries=False)
    assert len(first_claim) == 2
    later = NOW_MS + 31_000  # both leases have run out
    again = await store.claim_due(later, 1, 30_000, retries=False)
    [late] = [m for m in first_claim if m.id == again[0].id]
    [other] = [m for m in first_claim if m.id != late.id]
    await store.record_outcomes(
        [Outcome(late.id, "distr_1", 0, later, 200, 1.0, None, None, True, None)],
        pause_after=12,
        now=NOW,
    )
    assert await store.purge_finished_deliveries("2100-01-01T00:00:00.000Z", later, 10) == 1
    await store.record_outcomes(  # the first worker's batch: one purged, one still there
        [
            Outcome(late.id, "distr_1", 0, later, 200, 1.0, None, None, True, None),
            Outcome(other.id, "distr_1", 0, later, 200, 1.0, None, None, True, None),
        ],
        pause_after=12,
        now=NOW,
    )
    kept = await store.get_delivery("proj_1", other.id)
    assert kept.status == "delivered" and kept.attempts_count == 1
    with pytest.raises(NotFound):
        await store.get_delivery("proj_1", late.id)


async def test_a_message_canceled_in_flight_is_not_purged_before_its_lease_ends(
    store: Storage,
) -> None:
    await enqueue(store, command("event_1"))
    [claimed] = await store.claim_due(NOW_MS, 10, 30_000, retries=False)
    await store.delete_distribution("proj_1", "distr_1", NOW)  # canceled while in flight
    future = "2100-01-01T00:00:00.000Z"
    assert await store.purge_finished_deliveries(future, NOW_MS + 1_000, 10) == 0
    assert await store.purge_finished_deliveries(future, NOW_MS + 30_001, 10) == 1


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)  # SQLite has one writer
async def test_workers_recording_crossed_outcomes_do_not_deadlock(
    store: Storage, open_store: Any, backend: str
) -> None:
    """Worker A saw channel 1 fail and channel 2 deliver, worker B the opposite, and both
    record at once: each locks both channels' rows, so they must take them in one order."""
    other = await open_store()

    def attempt(channel: int, delivered: bool) -> Outcome:
        status = 200 if delivered else 500
        return Outcome(
            "whs_none", "distr_1", channel, NOW_MS, status, 1.0, None, None, delivered, NOW_MS
        )

    for _ in range(25):
        # Both channels start with failures counted, so a delivery resets (locks) the row.
        await store.record_outcomes(
            [attempt(1, False), attempt(2, False)], pause_after=1000, now=NOW
        )
        await asyncio.gather(
            store.record_outcomes([attempt(1, False), attempt(2, True)], pause_after=1000, now=NOW),
            other.record_outcomes([attempt(1, True), attempt(2, False)], pause_after=1000, now=NOW),
        )


async def test_deliveries_filter_page_and_refuse_strangers(store: Storage) -> None:
    for i in range(3):
        await enqueue(store, command(f"event_{i}", f"c{i}"), per_event=2)
    page, total = await store.list_deliveries("proj_1", Page(4, 2), DeliveryFilter())
    assert total == 6 and len(page) == 2
    of_event, total = await store.list_deliveries(
        "proj_1", Page(10, 1), DeliveryFilter(event_id="event_1", distribution_id="distr_1")
    )
    assert total == 2 and {d.event_id for d in of_event} == {"event_1"}
    assert [d.id for d in of_event] == ["whs_event_1_0002", "whs_event_1_0001"]
    with pytest.raises(NotFound):
        await store.get_delivery("proj_1", "whs_nope")
    with pytest.raises(NotFound):
        await store.get_delivery("proj_other", of_event[0].id)


# --- distributions -------------------------------------------------------------------------------


async def test_paused_and_deleted_distributions_hold_their_deliveries(store: Storage) -> None:
    await enqueue(store, command("event_1"))
    d = await store.get_distribution("proj_1", "distr_1")
    await store.replace_distribution(replace(d, status="PAUSED"))
    assert await store.claim_due(NOW_MS, 10, 30_000, retries=False) == []
    assert await store.next_due_ms(SOON_MS) is None
    await store.delete_distribution("proj_1", "distr_1", NOW)
    found, _ = await store.list_deliveries("proj_1", Page(10, 1), DeliveryFilter())
    assert [x.status for x in found] == ["canceled"]
    with pytest.raises(NotFound):
        await store.get_distribution("proj_1", "distr_1")
    with pytest.raises(NotFound):
        await store.delete_distribution("proj_1", "distr_1", NOW)


async def test_distributions_round_trip_list_and_replace(store: Storage) -> None:
    await store.create_distribution(replace(distribution("distr_2"), created_at=NOW + "x"))
    found, total = await store.list_distributions("proj_1", Page(10, 1))
    assert [d.id for d in found] == ["distr_1", "distr_2"] and total == 2
    second, total = await store.list_distributions("proj_1", Page(1, 2))
    assert [d.id for d in second] == ["distr_2"] and total == 2
    assert await store.get_distribution("proj_1", "distr_1") == distribution()
    changed = replace(distribution(), name="renamed", action={"type": "x", "n": [1, 2]})
    assert await store.replace_distribution(changed) == changed
    assert await store.get_distribution("proj_1", "distr_1") == changed
    with pytest.raises(NotFound):
        await store.replace_distribution(distribution("distr_nope"))
    with pytest.raises(NotFound):
        await store.get_distribution("proj_other", "distr_1")


# --- customers -----------------------------------------------------------------------------------


async def test_customers_resolve_by_id_or_source_id(store: Storage) -> None:
    c = await store.upsert_customer(
        "proj_1", CustomerRef(source_id="s1"), CustomerFields(email="a@b"), NOW
    )
    assert (await store.get_customer("proj_1", "s1")).id == c.id
    assert (await store.get_customer("proj_1", c.id)).email == "a@b"
    with pytest.raises(NotFound):
        await store.upsert_customer("proj_1", CustomerRef(id="cust_nope"), CustomerFields(), NOW)
    with pytest.raises(NotFound):
        await store.get_customer("proj_other", "s1")


async def test_customers_update_and_delete(store: Storage) -> None:
    c = await store.upsert_customer(
        "proj_1", CustomerRef(source_id="s1"), CustomerFields(metadata={"b": 1, "a": [2]}), NOW
    )
    assert c.metadata == {"b": 1, "a": [2]} and c.updated_at is None and c.address is None
    same = await store.update_customer("proj_1", "s1", CustomerFields(metadata=c.metadata), "t2")
    assert same == c, "nothing changed, nothing written"
    later = "2026-01-02T00:00:00.000Z"
    updated = await store.update_customer(
        "proj_1", c.id, CustomerFields(name="Ann", address={"city": "X"}), later
    )
    assert (updated.name, updated.address, updated.updated_at) == ("Ann", {"city": "X"}, later)
    assert await store.get_customer("proj_1", "s1") == updated
    by_id = await store.upsert_customer(
        "proj_1", CustomerRef(id=c.id), CustomerFields(phone="1"), later
    )
    assert by_id.phone == "1" and by_id.id == c.id
    await store.delete_customer("proj_1", "s1")
    with pytest.raises(NotFound):
        await store.delete_customer("proj_1", c.id)
    with pytest.raises(NotFound):
        await store.update_customer("proj_1", c.id, CustomerFields(name="x"), later)


async def test_customer_lists_filter_order_and_page_alike(store: Storage) -> None:
    for source_id, email in (("b", "x@y"), (None, "x@y"), ("A", "z@y"), ("a", None)):
        await store.upsert_customer(
            "proj_1", CustomerRef(source_id=source_id), CustomerFields(email=email), NOW
        )
    await store.update_customer("proj_1", "a", CustomerFields(name="n"), "2026-02-01")

    async def order(by: str) -> list[str | None]:
        found, total = await store.list_customers(
            "proj_1", Page(10, 1), email=None, name=None, order=by
        )
        assert total == 4
        return [c.source_id for c in found]

    assert await order("source_id") == [None, "A", "a", "b"]
    assert await order("-source_id") == ["b", "a", "A", None]
    assert (await order("updated_at"))[-1] == "a"
    assert (await order("-updated_at"))[0] == "a"
    found, total = await store.list_customers(
        "proj_1", Page(1, 2), email="x@y", name=None, order="source_id"
    )
    assert total == 2 and [c.source_id for c in found] == ["b"]
    named, total = await store.list_customers(
        "proj_1", Page(10, 1), email=None, name="n", order="created_at"
    )
    assert [c.source_id for c in named] == ["a"] and total == 1
    assert await customers_in(store) == 4
    assert await customers_in(store, "proj_other") == 0


# --- custom event schemas ------------------------------------------------------------------------


async def test_event_schemas(store: Storage) -> None:
    props = {"n": PropertyDef("number", optional=True)}
    created = await store.create_event_schema("proj_1", "ms_2", "order", props, "2026-01-02")
    assert created.properties == props and created.updated_at is None
    with pytest.raises(Conflict):
        await store.create_event_schema("proj_1", "ms_3", "order", {}, NOW)
    assert [s.name for s in await store.list_event_schemas("proj_1")] == ["sign_up", "order"]
    assert await store.event_schema_exists("proj_1", "order")
    assert not await store.event_schema_exists("proj_other", "order")
    props = {"n": PropertyDef("number", deleted=True)}
    updated = await store.update_event_schema("proj_1", "ms_2", props, "2026-01-03")
    assert updated.properties == props and updated.updated_at == "2026-01-03"
    assert await store.get_event_schema("proj_1", "ms_2") == updated
    with pytest.raises(Conflict) as in_use:
        await store.delete_event_schema("proj_1", "ms_1")
    assert in_use.value.key == "event_schema_in_use"
    await store.delete_event_schema("proj_1", "ms_2")
    for missing in (
        store.get_event_schema("proj_1", "ms_2"),
        store.update_event_schema("proj_1", "ms_2", {}, NOW),
        store.delete_event_schema("proj_1", "ms_2"),
        store.get_event_schema("proj_other", "ms_1"),
    ):
        with pytest.raises(NotFound):
            await missing


async def test_a_distribution_needs_its_trigger_schema_when_saved(store: Storage) -> None:
    orphan = replace(distribution("distr_2"), trigger_event="never_defined")
    with pytest.raises(InvalidInput) as refused:
        await store.create_distribution(orphan)
    assert refused.value.key == "unknown_event"
    with pytest.raises(InvalidInput):
        await store.replace_distribution(replace(distribution(), trigger_event="never_defined"))
    assert [d.id for d in (await store.list_distributions("proj_1", Page(10, 1)))[0]] == ["distr_1"]
    assert (await store.get_distribution("proj_1", "distr_1")).trigger_event == "sign_up"


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)  # SQLite has one writer
async def test_a_schema_deleted_while_its_distribution_is_saved_refuses_the_distribution(
    store: Storage, backend: str, database_url: str
) -> None:
    await store.create_event_schema("proj_1", "ms_2", "order", {}, NOW)
    other = await asyncpg.connect(database_url)
    try:
        deleting = other.transaction()
        await deleting.start()
        await other.execute("DELETE FROM event_schemas WHERE id = 'ms_2'")
        saving = asyncio.create_task(
            store.create_distribution(replace(distribution("distr_2"), trigger_event="order"))
        )
        await one_waits_for_a_lock(other)  # saving, for the uncommitted delete
        await deleting.commit()
        with pytest.raises(InvalidInput) as refused:
            await asyncio.wait_for(saving, timeout=10)
    finally:
        await other.close()
    assert refused.value.key == "unknown_event"
    with pytest.raises(NotFound):
        await store.get_distribution("proj_1", "distr_2")


# --- instance settings and projects ----------------------------------------------------------------


async def test_settings_and_projects(store: Storage) -> None:
    assert await store.get_setting("k") is None
    await store.put_setting("k", "1")
    await store.put_setting("k", "2")
    assert await store.get_setting("k") == "2"
    default = await store.default_project()
    assert default is not None and default.id == "proj_1"
    other = Project("proj_2", "Q", "app2", "tok2", SECRET, "2026-01-02")
    assert await store.create_project(other, is_default=False) == other
    assert [p.id for p in await store.list_projects()] == ["proj_1", "proj_2"]
    assert await store.project_by_app_id("app2") == other
    assert await store.project_by_app_id("nope") is None
    assert await store.get_project("proj_2") == other
    moved = await store.update_project_credentials(
        "proj_2", app_id="app3", app_token_sha256="t3", webhook_secret=SECRET
    )
    assert (moved.app_id, moved.app_token_sha256) == ("app3", "t3")
    assert (await store.default_project()) == default
    with pytest.raises(NotFound):
        await store.get_project("proj_nope")
    with pytest.raises(NotFound):
        await store.update_project_credentials(
            "proj_nope", app_id="a", app_token_sha256="b", webhook_secret="c"
        )


async def test_processes_starting_together_agree_on_generated_credentials(
    open_store: Any, database_url: str
) -> None:
    """Four stores with their own connections (as four processes have) start on an empty
    database at once: one default project and one management key, the same for all."""
    stores = [await open_store() for _ in range(4)]
    await stores[0].migrate()
    settings = Settings.from_env({}, database_url=database_url)
    results = await asyncio.gather(
        *(ensure_credentials(s, settings, SystemClock()) for s in stores)
    )
    first = results[0]
    for r in results:
        assert r.project == first.project
        assert (r.management_id, r.management_token_sha256) == (
            first.management_id,
            first.management_token_sha256,
        )
    announced = [r.generated for r in results if r.generated]
    assert {k for g in announced for k in g} == {
        "app_id",
        "app_token",
        "webhook_secret",
        "management_id",
        "management_token",
    }  # each announced once, by the process whose value was kept
    assert sum(len(g) for g in announced) == 5
    assert [p.id for p in await stores[0].list_projects()] == [first.project.id]
    assert await stores[0].get_setting("management_token_sha256") == token_digest(
        next(r.management_token for r in results if r.management_token is not None)
    )
    assert [r.app_token is not None for r in results].count(True) == 1  # shown by its maker
    assert await stores[0].get_setting("management_token") is None


async def test_a_default_project_app_id_taken_by_another_project_is_refused(
    open_store: Any,
) -> None:
    store = await open_store()
    await store.migrate()
    await store.create_project(Project("proj_2", "Q", "app", "tok", SECRET, NOW), is_default=False)
    with pytest.raises(Conflict) as refused:
        await store.create_default_project(Project("proj_1", "P", "app", "t", SECRET, NOW))
    assert refused.value.key == "duplicate_app_id"
    assert await store.default_project() is None


# --- wake-ups --------------------------------------------------------------------------------------


class WakeUps:
    """A subscriber: each wake-up, as whether it said retries may be due."""

    def __init__(self) -> None:
        self._queue: asyncio.Queue[bool] = asyncio.Queue()

    def __call__(self, *, retries: bool = True) -> None:
        self._queue.put_nowait(retries)

    async def next(self) -> bool:
        return await asyncio.wait_for(self._queue.get(), timeout=30)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_sqlite_accepts_a_subscriber_and_has_nothing_to_listen_to(store: Storage) -> None:
    """SQLite serves one process: the API wakes its own worker directly."""
    await store.subscribe(WakeUps())
    await enqueue(store, command("event_1"))


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)  # LISTEN/NOTIFY
async def test_enqueueing_wakes_subscribers_of_other_connections(
    store: Storage, open_store: Any, backend: str
) -> None:
    worker_side = await open_store()
    woken = WakeUps()
    await worker_side.subscribe(woken)
    await enqueue(store, command("event_1"))
    assert await woken.next() is False  # an event's deliveries: first attempts only
    paused = replace(await store.get_distribution("proj_1", "distr_1"), status="PAUSED")
    await store.replace_distribution(paused)  # only a paused distribution can be resumed
    await store.resume_distribution("proj_1", "distr_1", NOW, NOW_MS)
    assert await woken.next() is True  # a resume: retries may be due too


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)  # SQLite has no listener
async def test_a_lost_listener_listens_again(
    store: Storage, open_store: Any, backend: str, database_url: str
) -> None:
    worker_side = await open_store()
    woken = WakeUps()
    await worker_side.subscribe(woken)
    killer = await asyncpg.connect(database_url)
    try:
        killed = await killer.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE application_name = $1 AND datname = current_database()",
            LISTENER,
        )
    finally:
        await killer.close()
    assert killed == 1
    assert await woken.next() is True  # listening again: wake once, for anything, to catch up
    await enqueue(store, command("event_1"))
    assert await woken.next() is False


# --- delivery guarantees: lanes, destinations, pauses, resend, replay ------------------------------


def failed(delivery_id: str, at: int, status: int | None = 500, retry_ms: int = 1_000) -> Outcome:
    return Outcome(delivery_id, "distr_1", 0, at, status, 1.0, None, None, False, at + retry_ms)


async def test_lanes_and_excluded_destinations(store: Storage) -> None:
    for i in range(3):
        await enqueue(store, command(f"event_{i}", f"c{i}"))
    [m1] = await store.claim_due(NOW_MS, 1, 30_000, retries=False)
    await store.record_outcomes([failed(m1.id, NOW_MS, retry_ms=0)], pause_after=12, now=NOW)
    assert [m.id for m in await store.claim_due(NOW_MS, 10, 30_000, retries=True)] == [m1.id]
    skipped = await store.claim_due(
        NOW_MS, 10, 30_000, retries=False, exclude=["http://127.0.0.1:1"]
    )
    assert skipped == []
    rest = await store.claim_due(NOW_MS, 10, 30_000, retries=False)
    assert len(rest) == 2
    await store.release([m.id for m in rest])
    again = await store.claim_due(NOW_MS, 10, 30_000, retries=False)
    assert sorted(m.id for m in again) == sorted(m.id for m in rest)


async def test_consecutive_failures_pause_the_channel_and_resume_sets_it_live(
    store: Storage,
) -> None:
    for i in range(3):
        await enqueue(store, command(f"event_{i}", f"c{i}"))
    claimed = await store.claim_due(NOW_MS, 10, 30_000, retries=False)
    outcomes = [failed(m.id, NOW_MS + i) for i, m in enumerate(claimed)]
    await store.record_outcomes(outcomes, pause_after=3, now=NOW)
    paused = await store.get_distribution("proj_1", "distr_1")
    state = paused.state_of(0)
    assert state.paused_at == NOW and state.pause_reason == "3 consecutive failed attempts"
    assert paused.paused and paused.status == "ACTIVE"
    assert await store.claim_due(NOW_MS + 10_000, 10, 30_000, retries=True) == []
    assert await store.next_due_ms(SOON_MS) is None
    with pytest.raises(Conflict) as refused:
        await store.resend_delivery("proj_1", claimed[0].id, NOW_MS)
    assert refused.value.key == "distribution_paused"

    resumed = await store.resume_distribution("proj_1", "distr_1", NOW, NOW_MS + 1)
    assert not resumed.paused and resumed.state_of(0).consecutive_failures == 0
    due = await store.claim_due(NOW_MS + 1, 10, 30_000, retries=True)
    assert [m.id for m in due] == [m.id for m in claimed], "the backlog, in creation order"
    with pytest.raises(Conflict) as live:
        await store.resume_distribution("proj_1", "distr_1", NOW, NOW_MS)
    assert live.value.key == "distribution_not_paused"


async def test_a_410_pauses_at_once_and_a_success_resets_the_count(store: Storage) -> None:
    for i in range(3):
        await enqueue(store, command(f"event_{i}", f"c{i}"))
    m1, m2, m3 = await store.claim_due(NOW_MS, 10, 30_000, retries=False)
    await store.record_outcomes([failed(m1.id, NOW_MS)], pause_after=3, now=NOW)
    ok = Outcome(m2.id, "distr_1", 0, NOW_MS + 1, 200, 1.0, None, None, True, None)
    await store.record_outcomes([ok], pause_after=3, now=NOW)
    assert (await store.get_distribution("proj_1", "distr_1")).state_of(0).consecutive_failures == 0
    await store.record_outcomes([failed(m3.id, NOW_MS + 2, status=410)], pause_after=3, now=NOW)
    state = (await store.get_distribution("proj_1", "distr_1")).state_of(0)
    assert state.pause_reason == "the receiver answered 410 Gone"


async def test_resend_and_replay(store: Storage) -> None:
    for i in range(2):
        await enqueue(store, command(f"event_{i}", f"c{i}"))
    m1, m2 = await store.claim_due(NOW_MS, 10, 30_000, retries=False)
    exhausted = Outcome(m1.id, "distr_1", 0, NOW_MS, 500, 1.0, None, None, False, None)
    delivered = Outcome(m2.id, "distr_1", 0, NOW_MS, 200, 1.0, None, None, True, None)
    await store.record_outcomes([exhausted, delivered], pause_after=12, now=NOW)

    resent = await store.resend_delivery("proj_1", m2.id, NOW_MS + 5)
    assert resent.status == "pending" and resent.attempts_count == 1
    [again] = await store.claim_due(NOW_MS + 5, 10, 30_000, retries=True)
    assert again.id == m2.id
    assert (
        await store.replay_deliveries("proj_1", "distr_1", "2999-01-01T00:00:00.000Z", NOW_MS) == 0
    )
    assert await store.replay_deliveries("proj_1", "distr_1", NOW, NOW_MS + 6) == 1
    [replayed] = await store.claim_due(NOW_MS + 6, 10, 30_000, retries=True)
    assert replayed.id == m1.id
    with pytest.raises(NotFound):
        await store.resend_delivery("proj_other", m1.id, NOW_MS)
    with pytest.raises(NotFound):
        await store.replay_deliveries("proj_1", "distr_nope", NOW, NOW_MS)


async def test_idempotent_tracking_replays_and_refuses_another_body(store: Storage) -> None:
    key = IdempotencyKey("events", "k1", "hash-a", NOW_MS - 1)
    first = await track(store, replace(command("event_1"), idempotency=key))
    again = await track(store, replace(command("event_2"), idempotency=key))
    assert again.replayed and again.response == first.response == b"event_1"
    _, total = await store.list_events("proj_1", Page(10, 1), customer_id=None, event_name=None)
    assert total == 1
    other = replace(command("event_3"), idempotency=replace(key, request_hash="hash-b"))
    with pytest.raises(Conflict) as reused:
        await track(store, other)
    assert reused.value.key == "idempotency_key_reused"
    expired = replace(key, not_before_ms=NOW_MS + 1)
    fresh = await track(store, replace(command("event_4"), idempotency=expired))
    assert not fresh.replayed
    assert await store.purge_idempotency_keys(NOW_MS + 1) == 1


async def test_concurrent_requests_with_one_key_track_once(store: Storage) -> None:
    key = IdempotencyKey("events", "same", "hash", NOW_MS - 1)
    results = await asyncio.gather(
        *(track(store, replace(command(f"event_{i}"), idempotency=key)) for i in range(6))
    )
    assert sum(not r.replayed for r in results) == 1
    assert len({r.response for r in results}) == 1
    _, total = await store.list_events("proj_1", Page(10, 1), customer_id=None, event_name=None)
    assert total == 1


async def test_secret_rotation_keeps_the_old_secret_for_its_grace(store: Storage) -> None:
    rotated = await store.rotate_webhook_secret(
        "proj_1", "whsec_bmV3bmV3bmV3bmV3bmV3bmV3", NOW_MS + 1_000
    )
    assert rotated.previous_webhook_secret == SECRET
    await enqueue(store, command("event_1"))
    [m] = await store.claim_due(NOW_MS, 10, 30_000, retries=False)
    assert m.keys.standard == ("whsec_bmV3bmV3bmV3bmV3bmV3bmV3", SECRET)
    assert rotated.signing_secrets(NOW_MS + 1_000) == ("whsec_bmV3bmV3bmV3bmV3bmV3bmV3",)
    with pytest.raises(NotFound):
        await store.rotate_webhook_secret("proj_nope", "whsec_x", NOW_MS)


async def test_an_event_is_found_by_its_id_in_its_own_project(store: Storage) -> None:
    await enqueue(store, command("event_1"))
    found = await store.get_event("proj_1", "event_1")
    assert found.id == "event_1" and found.metadata == {"plan": "p"} and found.type == "sign_up"
    for project_id, event_id in (("proj_other", "event_1"), ("proj_1", "event_nope")):
        with pytest.raises(NotFound):
            await store.get_event(project_id, event_id)


async def test_entries_count_a_customers_sends_of_a_distribution_from_a_time(
    store: Storage,
) -> None:
    async def work(tx: Tx) -> tuple[int, ...]:
        await tx.enter("distr_1", "cust_1", "event_1", 1_000)
        await tx.enter("distr_1", "cust_1", "event_2", 2_000)
        await tx.enter("distr_1", "cust_2", "event_3", 2_000)
        return (
            await tx.entries("distr_1", "cust_1", None),
            await tx.entries("distr_1", "cust_1", 1_500),
            await tx.entries("distr_1", "cust_1", 2_001),
            await tx.entries("distr_1", "cust_3", None),
        )

    assert await store.transaction("proj_1", NOW, work) == (2, 1, 0, 0)
    await store.delete_distribution("proj_1", "distr_1", NOW)  # its entries go with it
    await store.create_distribution(distribution())

    async def count(tx: Tx) -> int:
        return await tx.entries("distr_1", "cust_1", None)

    assert await store.transaction("proj_1", NOW, count) == 0
