"""How often the worker claims while one destination is at its limit, on a real store: it claims
for that destination again only once a claim's worth of its slots is free, and it does not walk
the queue again for other destinations right after a claim that left it out found nothing.
It claims the retry lane only when something can be due there: after one empty claim of it, an
event's wake-up (``retries=False``) does not send it there again, but a retry it scheduled, or a
wake-up that says retries may be due, does. And a sender that raises (a bug) costs an attempt,
not a delivery stuck in its lease.

The sender is a stand-in that holds every attempt until the test lets it answer 200.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

from sendout.clock import SystemClock, to_ms
from sendout.delivery.sender import AttemptResult
from sendout.delivery.worker import Worker, WorkerLimits
from sendout.outbox.retry import RetryPolicy
from sendout.records import ClaimedDelivery
from sendout.storage.base import Storage
from support.storage import command, enqueue


class HeldSender:
    """Each attempt waits for its turn to be let go."""

    def __init__(self) -> None:
        self.waiting: list[asyncio.Future[None]] = []
        self._arrived = asyncio.Condition()

    async def attempt(self, delivery: ClaimedDelivery, timestamp: int) -> AttemptResult:
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        async with self._arrived:
            self.waiting.append(turn)
            self._arrived.notify_all()
        await turn
        return AttemptResult(200, 1.0, None, "")

    async def until_held(self, count: int) -> None:
        async with self._arrived:
            await asyncio.wait_for(self._arrived.wait_for(lambda: len(self.waiting) >= count), 5)

    async def let_one_go(self) -> None:
        self.waiting.pop(0).set_result(None)
        await asyncio.sleep(0.05)  # the worker's turn: record, and claim if it will

    def let_all_go(self) -> None:
        while self.waiting:
            self.waiting.pop().set_result(None)


class CountingStore:
    """The store, with every claim written down: what it left out and how many it leased."""

    def __init__(self, store: Storage) -> None:
        self._store = store
        self.claims: list[tuple[tuple[str, ...], int]] = []
        self.retry_claims: list[int] = []  # how many each claim of the retry lane found

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    async def claim_due(
        self, now_ms: int, limit: int, lease_ms: int, *, retries: bool, exclude: Sequence[str] = ()
    ) -> list[ClaimedDelivery]:
        claimed = await self._store.claim_due(
            now_ms, limit, lease_ms, retries=retries, exclude=exclude
        )
        if retries:
            self.retry_claims.append(len(claimed))
        else:
            self.claims.append((tuple(exclude), len(claimed)))
        return claimed


async def test_a_destination_at_its_limit_is_claimed_for_a_few_slots_at_a_time(
    store: Storage,
) -> None:
    for n in range(60):  # one destination (support.storage's URL), all due now
        await enqueue(store, command(f"e{n:02d}", f"c{n}"))
    counting = CountingStore(store)
    sender = HeldSender()
    limits = WorkerLimits(
        concurrency=32, batch=32, per_destination=16, lease_seconds=60, poll_interval=30,
        pause_after=100,
    )  # fmt: skip
    assert limits.min_room == 4
    policy, clock = RetryPolicy(), SystemClock()
    worker = Worker(counting, sender, policy, clock, limits, observe=lambda *_: None)  # type: ignore[arg-type]
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    try:
        await sender.until_held(16)
        first = len(counting.claims)
        for _ in range(3):  # three slots free: not yet worth a claim for that destination
            await sender.let_one_go()
        left_out = counting.claims[first:]
        # At most one claim that leaves the full destination out, and it found nothing; its
        # answer holds until there is news, so later wake-ups do not walk the queue again.
        assert len(left_out) <= 1 and all(found == 0 for _, found in left_out), left_out
        await sender.let_one_go()  # four free: a claim for it, and all four slots are filled
        await sender.until_held(16)
        assert counting.claims[-1][1] > 0 and counting.claims[-1][0] == ()
    finally:
        stop.set()
        while not running.done():  # the worker finishes what is in flight before it stops
            sender.let_all_go()
            await asyncio.wait({running}, timeout=0.01)


class BrokenSender:
    """A sender with a bug: it raises instead of answering."""

    async def attempt(self, delivery: ClaimedDelivery, timestamp: int) -> AttemptResult:
        raise RuntimeError("the sender broke")


async def test_a_sender_that_raises_is_a_failed_attempt_retried_later(store: Storage) -> None:
    await enqueue(store, command("e1"))
    limits = WorkerLimits(
        concurrency=4, batch=4, per_destination=4, lease_seconds=600, poll_interval=30,
        pause_after=100,
    )  # fmt: skip
    worker = Worker(
        store, BrokenSender(), RetryPolicy(), SystemClock(), limits, observe=lambda *_: None
    )  # type: ignore[arg-type]
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    try:
        for _ in range(200):
            delivery = await store.get_delivery("proj_1", "whs_e1_0001")
            if delivery.attempts_count:
                break
            await asyncio.sleep(0.02)
    finally:
        stop.set()
        await asyncio.wait_for(running, 5)
    # Recorded and rescheduled, not left leased for the lease's ten minutes.
    assert (delivery.status, delivery.attempts_count) == ("pending", 1)
    assert delivery.attempts[0].error == "internal error: RuntimeError('the sender broke')"
    assert delivery.attempts[0].status_code is None
    assert delivery.next_attempt_at is not None
    later = to_ms(SystemClock().now()) + 3_600_000
    due = await store.claim_due(later, 10, 60_000, retries=True)
    assert [d.id for d in due] == ["whs_e1_0001"]  # claimable again once its retry is due


class ScriptedSender:
    """Answers each attempt with the next status of its script (200 once it runs out)."""

    def __init__(self, *statuses: int) -> None:
        self._script = list(statuses)
        self.answered: list[tuple[str, int]] = []

    async def attempt(self, delivery: ClaimedDelivery, timestamp: int) -> AttemptResult:
        status = self._script.pop(0) if self._script else 200
        self.answered.append((delivery.id, status))
        return AttemptResult(status, 1.0, None, "")


async def until(condition: Callable[[], bool], what: str, seconds: float = 5.0) -> None:
    for _ in range(int(seconds / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"not within {seconds} s: {what}")


def eight_slots() -> WorkerLimits:
    """Room for every attempt of these tests, and a poll (30 s) no test would wait for."""
    return WorkerLimits(
        concurrency=8, batch=8, per_destination=8, lease_seconds=60, poll_interval=30,
        pause_after=100,
    )  # fmt: skip


async def test_the_retry_lane_is_claimed_again_only_on_a_hint(store: Storage) -> None:
    counting = CountingStore(store)
    sender = ScriptedSender()
    limits = eight_slots()
    worker = Worker(counting, sender, RetryPolicy(), SystemClock(), limits, observe=lambda *_: None)  # type: ignore[arg-type]
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    try:
        await until(lambda: counting.retry_claims == [0], "the first, empty claim of the retries")
        for n in range(5):  # events: their first attempts go out, the retry lane is left alone
            await enqueue(store, command(f"e{n}", f"c{n}"))
            worker.wake(retries=False)
            await until(lambda done=n + 1: len(sender.answered) == done, f"event {n} delivered")
        assert counting.retry_claims == [0]
        worker.wake()  # a resend, replay or resume: retries may be due
        await until(lambda: len(counting.retry_claims) == 2, "a claim of the retry lane")
    finally:
        stop.set()
        await asyncio.wait_for(running, 5)


async def test_a_retry_the_worker_scheduled_goes_out_on_time(store: Storage) -> None:
    counting = CountingStore(store)
    sender = ScriptedSender(500)
    limits = eight_slots()
    policy = RetryPolicy(delays=(1.0,), jitter=0.0)
    worker = Worker(counting, sender, policy, SystemClock(), limits, observe=lambda *_: None)  # type: ignore[arg-type]
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    try:
        await until(lambda: counting.retry_claims == [0], "the first, empty claim of the retries")
        await enqueue(store, command("e1"))
        worker.wake(retries=False)
        for _ in range(500):
            if (await store.get_delivery("proj_1", "whs_e1_0001")).attempts_count:
                break
            await asyncio.sleep(0.01)
        worker.wake()  # the retry lane is claimed and found empty: the retry is not due yet
        await until(lambda: len(counting.retry_claims) >= 2, "a second claim of the retries")
        # The 500 scheduled the retry 1 s later; the worker kept its time, so it claims the
        # retry lane then, not a poll interval (30 s) after it last found it empty.
        await until(lambda: len(sender.answered) == 2, "the retry, 1 s after the 500")
    finally:
        stop.set()
        await asyncio.wait_for(running, 5)
    assert sender.answered == [("whs_e1_0001", 500), ("whs_e1_0001", 200)]
    assert 1 in counting.retry_claims  # a claim of the retry lane took it
