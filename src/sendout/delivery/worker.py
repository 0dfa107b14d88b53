"""The delivery loop: claim due deliveries, attempt them concurrently, record what happened.

Two lanes share the worker's capacity: first attempts may use all of it, retries at most
``retry_share`` of it, so a backlog of retries never starves new events. Each destination
(scheme, host, port) has its own limit on attempts in flight, so a slow or dead receiver holds
at most that many slots and healthy receivers keep the rest.

The retry lane is claimed only when something can be due there. After a claim of it finds
nothing, the worker leaves it alone until the earliest of: a retry this worker scheduled coming
due, a wake-up that says retries may be due (a resend, replay or resume), an ordered delivery
finished (the next of its key may be a retry), or one poll interval (for what other processes
did). New events wake the worker with ``retries=False``: under load they come thousands of
times a second, and each empty claim took SQLite's one write lock from the API
(docs/profile.md).

With tracing on, each attempt is a ``sendout.attempt`` client span (:mod:`sendout.delivery.spans`).
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import random
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta

import structlog

from sendout import metrics, tracing
from sendout.async_actions import AsyncActionRunner
from sendout.clock import Clock, from_ms, isoformat, to_ms
from sendout.delivery import spans
from sendout.delivery.sender import AttemptResult, Sender
from sendout.outbox.destinations import destination_of
from sendout.outbox.retry import RetryPolicy, parse_retry_after
from sendout.records import ClaimedDelivery, Outcome
from sendout.storage.base import Storage

__all__ = ["Worker", "WorkerLimits", "outcome_of"]

log = structlog.get_logger("sendout.worker")

_IDEMPOTENCY_TTL_MS = 24 * 3600 * 1000
_SCHEDULED_KEPT = 4096  # retry times a worker keeps, to claim its retry lane when one is due
_PURGE_CHUNK = 5000  # finished deliveries per purge statement; sending goes on between them


def outcome_of(
    delivery: ClaimedDelivery,
    result: AttemptResult,
    now: datetime,
    policy: RetryPolicy,
    unit: float,
) -> Outcome:
    """Decide what a delivery becomes after one attempt. Pure (``unit`` is the jitter draw)."""
    now_ms = to_ms(now)
    next_at: int | None = None
    if not result.delivered:
        wait = policy.with_delays(delivery.retry_schedule).wait_after(
            delivery.attempts + 1,
            unit=unit,
            throttled=result.throttled,
            retry_after=parse_retry_after(result.retry_after, now),
        )
        next_at = None if wait is None else now_ms + int(wait * 1000)
    return Outcome(
        delivery_id=delivery.id,
        distribution_id=delivery.distribution_id,
        channel_index=delivery.channel_index,
        attempted_at_ms=now_ms,
        status_code=result.status_code,
        latency_ms=result.latency_ms,
        error=result.error,
        response_excerpt=result.response_excerpt,
        delivered=result.delivered,
        next_attempt_at_ms=next_at,
        order_key=delivery.order_key,
    )


def _result_label(outcome: Outcome) -> str:
    if outcome.delivered:
        return "delivered"
    return "failed" if outcome.next_attempt_at_ms is None else "retry"


def _log_attempt(delivery: ClaimedDelivery, outcome: Outcome) -> None:
    """One line per attempt: ``delivery.delivered`` and ``delivery.retry_scheduled`` at info,
    a final ``delivery.failed`` (the retries are exhausted) as a warning."""
    fields: dict[str, object] = {
        "delivery_id": delivery.id,
        "distribution_id": delivery.distribution_id,
        "attempt": delivery.attempts + 1,
        "status_code": outcome.status_code,
        "latency_ms": round(outcome.latency_ms, 1),
    }
    if outcome.delivered:
        log.info("delivery.delivered", **fields)
    elif outcome.next_attempt_at_ms is not None:
        retry_at = isoformat(from_ms(outcome.next_attempt_at_ms))
        log.info("delivery.retry_scheduled", **fields, error=outcome.error, retry_at=retry_at)
    else:
        log.warning("delivery.failed", **fields, error=outcome.error)


class WorkerLimits:
    def __init__(
        self,
        *,
        concurrency: int,
        batch: int,
        per_destination: int,
        retry_share: float = 0.5,
        lease_seconds: float,
        poll_interval: float,
        pause_after: int,
        retention_seconds: float = 0.0,
        housekeeping_interval: float = 600.0,
    ) -> None:
        self.concurrency = concurrency
        self.batch = batch
        self.per_destination = per_destination
        self.retry_slots = max(1, int(concurrency * retry_share))
        self.min_room = max(1, min(batch, concurrency) // 8)
        self.lease_ms = int(lease_seconds * 1000)
        self.poll_interval = poll_interval
        self.pause_after = pause_after
        self.retention_seconds = retention_seconds  # 0: finished deliveries are kept forever
        self.housekeeping_interval = housekeeping_interval


class Worker:
    def __init__(
        self,
        storage: Storage,
        sender: Sender,
        policy: RetryPolicy,
        clock: Clock,
        limits: WorkerLimits,
        *,
        unit: Callable[[], float] = random.random,
        observe: Callable[[str, str, float], None] = metrics.record_attempt,
    ) -> None:
        self._storage = storage
        self._sender = sender
        self._policy = policy
        self._clock = clock
        self._limits = limits
        self._unit = unit
        self._observe = observe  # each attempt's distribution, result label and seconds
        self._wake = asyncio.Event()
        self._inflight: set[asyncio.Task[None]] = set()
        self._retries_inflight = 0
        self._per_destination: Counter[str] = Counter()
        # Per lane (retries or not): a claim that left out these saturated destinations found
        # nothing, and until when that is taken as still true (news from the API ends it sooner).
        self._quiet: dict[bool, tuple[frozenset[str], int]] = {}
        # The retry lane found empty: left alone until this time (0: claim it), unless a hint
        # that retries may be due comes first. ``_retry_hints`` counts them, so a claim that
        # raced with one ignores its own emptiness; ``_scheduled`` holds the times of retries
        # this worker recorded.
        self._retries_quiet_until = 0
        self._retry_hints = 0
        self._scheduled: list[int] = []
        self._outcomes: list[Outcome] = []
        self._outcome_ready = asyncio.Event()
        self._actions = AsyncActionRunner(storage, clock, poll_interval=limits.poll_interval)

    def wake(self, *, retries: bool = True) -> None:
        """New deliveries (or an async action) may be due: called after the API commits.
        ``retries=False``: only first attempts (an event's deliveries), not the retry lane."""
        if retries:
            self._retries_may_be_due()
        self._quiet.pop(False, None)
        self._wake.set()
        self._actions.wake()

    def _retries_may_be_due(self, at_ms: int = 0) -> None:
        """A hint: a retry may be due at ``at_ms`` (0: now), whatever the last claims found."""
        self._retries_quiet_until = min(self._retries_quiet_until, at_ms)
        self._retry_hints += 1
        self._quiet.pop(True, None)

    async def run(self, stop: asyncio.Event) -> None:
        await self._storage.subscribe(self.wake)  # other processes' commits wake us too
        recorder = asyncio.create_task(self._record_loop(stop))
        housekeeping = asyncio.create_task(self._housekeeping(stop))
        actions = asyncio.create_task(self._actions.run(stop))
        try:
            while not stop.is_set():
                self._wake.clear()
                asked = self._room(retries=False)
                started = await self._claim_lane(retries=False)
                if started < asked:  # first attempts left room: retries may use it
                    started += await self._claim_lane(retries=True)
                if started and self._room(retries=False) >= self._limits.min_room:
                    continue
                await self._idle(stop, busy=bool(self._inflight))
        finally:
            await self._drain()
            stop.set()
            self._outcome_ready.set()
            await recorder
            await actions
            housekeeping.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await housekeeping

    def _room(self, retries: bool) -> int:
        free = self._limits.concurrency - len(self._inflight)
        if retries:
            free = min(free, self._limits.retry_slots - self._retries_inflight)
        return min(free, self._limits.batch)

    def _saturated(self) -> list[str]:
        """Destinations to leave out of a claim: those with fewer free slots than a claim is
        worth (``min_room``, or none at all under a smaller limit). Claiming for a destination
        with one slot free would lease a batch of its deliveries only to give all but one back."""
        limit = self._limits.per_destination
        worth = min(self._limits.min_room, limit)
        return [d for d, n in self._per_destination.items() if limit - n < worth]

    async def _claim_lane(self, *, retries: bool) -> int:
        room = self._room(retries)
        # While busy, wait for a few slots to free up: one claim for many, not one for each.
        if room <= 0 or (self._inflight and room < self._limits.min_room):
            return 0
        now_ms = to_ms(self._clock.now())
        if retries and now_ms < self._retries_quiet_until:
            return 0  # nothing was due there, and no news since
        exclude = self._saturated()
        quiet, until_ms = self._quiet.get(retries, (None, 0))
        if quiet is not None and quiet <= set(exclude) and now_ms < until_ms:
            return 0  # nothing else was due when these were left out, a moment ago
        hints = self._retry_hints
        claimed = await self._storage.claim_due(
            now_ms, room, self._limits.lease_ms, retries=retries, exclude=exclude
        )
        if not claimed:
            self._found_nothing(retries, exclude, now_ms, hints)
        surplus = [m.id for m in claimed if not self._start(m, retries)]
        if surplus:
            await self._storage.release(surplus)
        return len(claimed) - len(surplus)

    def _found_nothing(self, retries: bool, exclude: list[str], now_ms: int, hints: int) -> None:
        """Remember an empty claim until the poll: one that left out saturated destinations for
        its lane, an empty retry lane (unless a hint came while it ran) until a retry is due."""
        poll_ms = int(self._limits.poll_interval * 1000)
        if exclude:  # every due delivery may be for a saturated destination
            self._quiet[retries] = (frozenset(exclude), now_ms + poll_ms)
        elif retries and hints == self._retry_hints:
            self._retries_quiet_until = self._next_scheduled(now_ms, now_ms + poll_ms)

    def _next_scheduled(self, now_ms: int, at_most: int) -> int:
        """The earliest retry this worker scheduled that was not yet due at ``now_ms`` (those
        that were are forgotten: the claim saw them), or ``at_most``."""
        while self._scheduled and self._scheduled[0] <= now_ms:
            heapq.heappop(self._scheduled)
        return min(self._scheduled[0], at_most) if self._scheduled else at_most

    def _start(self, delivery: ClaimedDelivery, retry: bool) -> bool:
        destination = destination_of(delivery.url)
        if self._per_destination[destination] >= self._limits.per_destination:
            return False
        self._per_destination[destination] += 1
        self._retries_inflight += retry
        task = asyncio.create_task(self._attempt(delivery))
        self._inflight.add(task)

        def finished(done: asyncio.Task[None]) -> None:
            self._inflight.discard(done)
            self._per_destination[destination] -= 1
            if self._per_destination[destination] <= 0:
                del self._per_destination[destination]
            self._retries_inflight -= retry
            self._wake.set()

        task.add_done_callback(finished)
        return True

    async def _idle(self, stop: asyncio.Event, *, busy: bool) -> None:
        timeout = self._limits.poll_interval
        now_ms = to_ms(self._clock.now())
        if now_ms < self._retries_quiet_until:  # the retry lane's own time to look again
            timeout = min(timeout, (self._retries_quiet_until - now_ms) / 1000)
        if not busy:
            due = await self._storage.next_due_ms(now_ms + int(timeout * 1000))
            if due is not None and due <= now_ms < self._retries_quiet_until:
                due = self._retries_quiet_until  # due in the retry lane, left alone till then
            if due is not None:
                timeout = min(timeout, max(0.0, (due - now_ms) / 1000))
        if timeout <= 0:
            return
        waiter = asyncio.create_task(self._wake.wait())
        stopper = asyncio.create_task(stop.wait())
        try:
            await asyncio.wait({waiter, stopper}, timeout=timeout, return_when="FIRST_COMPLETED")
        finally:
            waiter.cancel()
            stopper.cancel()

    async def _attempt(self, delivery: ClaimedDelivery) -> None:
        with tracing.span("sendout.attempt", "client", spans.attempt_attributes(delivery)) as span:
            result = await self._send(delivery)
            outcome = outcome_of(delivery, result, self._clock.now(), self._policy, self._unit())
            label = _result_label(outcome)
            spans.record_outcome(span, outcome, label)
        self._observe(delivery.distribution_id, label, result.latency_ms / 1000)
        _log_attempt(delivery, outcome)
        self._outcomes.append(outcome)
        self._outcome_ready.set()

    async def _send(self, delivery: ClaimedDelivery) -> AttemptResult:
        """What the sender made of one attempt. A sender that raises (a bug of sendout's: it
        answers everything a receiver or the network does) is an attempt that failed, recorded
        and retried on schedule, instead of a delivery left leased until its lease runs out."""
        started = time.perf_counter()
        try:
            return await self._sender.attempt(delivery, int(self._clock.now().timestamp()))
        except Exception as exc:
            log.exception("delivery.sender_failed", delivery_id=delivery.id)
            latency_ms = round((time.perf_counter() - started) * 1000, 3)
            return AttemptResult(None, latency_ms, f"internal error: {exc!r}", None)

    async def _record_loop(self, stop: asyncio.Event) -> None:
        while True:
            await self._outcome_ready.wait()
            self._outcome_ready.clear()
            await self._flush()
            if stop.is_set() and not self._inflight:
                await self._flush()
                return

    async def _flush(self) -> None:
        if not self._outcomes:
            return
        batch, self._outcomes = self._outcomes, []
        try:
            await self._storage.record_outcomes(
                batch, pause_after=self._limits.pause_after, now=isoformat(self._clock.now())
            )
        except Exception:
            log.exception("delivery.record_failed", count=len(batch))
            self._outcomes.extend(batch)
            await asyncio.sleep(self._limits.poll_interval)
            self._outcome_ready.set()
            return
        self._note_recorded(batch)

    def _note_recorded(self, batch: list[Outcome]) -> None:
        """What recorded outcomes mean for the retry lane: each retry is due at its time, and a
        finished ordered delivery may have let a retry of its key go. Either wakes the loop, which
        may be waiting for a poll interval because it looked before this record was written."""
        hints = self._retry_hints
        now_ms = to_ms(self._clock.now())
        for outcome in batch:
            if outcome.next_attempt_at_ms is not None:
                self._schedule(outcome.next_attempt_at_ms, now_ms)
                self._retries_may_be_due(outcome.next_attempt_at_ms)
            elif outcome.order_key is not None:
                self._retries_may_be_due()
        if self._retry_hints != hints:
            self._wake.set()

    def _schedule(self, at_ms: int, now_ms: int) -> None:
        """Keep a retry's time. Past ``_SCHEDULED_KEPT`` times, those already due are dropped
        (a hint was given for each), then all but the earliest half (the poll finds the rest,
        at most one interval late)."""
        heapq.heappush(self._scheduled, at_ms)
        if len(self._scheduled) > _SCHEDULED_KEPT:
            later = [t for t in self._scheduled if t > now_ms]
            self._scheduled = heapq.nsmallest(_SCHEDULED_KEPT // 2, later)

    async def _housekeeping(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self._purge()
            except Exception:
                log.exception("housekeeping.failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self._limits.housekeeping_interval)

    async def _purge(self) -> None:
        """Expired idempotency keys; finished deliveries past retention, a chunk at a time."""
        now = self._clock.now()
        await self._storage.purge_idempotency_keys(to_ms(now) - _IDEMPOTENCY_TTL_MS)
        if self._limits.retention_seconds <= 0:
            return
        before = isoformat(now - timedelta(seconds=self._limits.retention_seconds))
        purged = 0
        while True:
            gone = await self._storage.purge_finished_deliveries(before, to_ms(now), _PURGE_CHUNK)
            purged += gone
            if gone < _PURGE_CHUNK:
                break
        if purged:
            log.info("housekeeping.purged_deliveries", count=purged, created_before=before)

    async def _drain(self) -> None:
        """Let attempts in flight finish so their outcomes are recorded (graceful stop)."""
        if self._inflight:
            await asyncio.gather(*self._inflight, return_exceptions=True)
