"""The delivery loop: claim due messages, attempt them concurrently, record what happened."""

from __future__ import annotations

import asyncio
import contextlib

import structlog

from sendout.clock import Clock, to_ms
from sendout.delivery.sender import AttemptResult, Sender
from sendout.outbox.retry import RetryPolicy
from sendout.records import ClaimedMessage, Outcome
from sendout.storage.base import Storage

__all__ = ["Worker", "outcome_of"]

log = structlog.get_logger("sendout.worker")


def outcome_of(
    message: ClaimedMessage, result: AttemptResult, now_ms: int, policy: RetryPolicy
) -> Outcome:
    """Decide what a message becomes after one attempt. Pure."""
    next_at: int | None = None
    if not result.delivered:
        delay = policy.next_delay(message.attempts + 1)
        next_at = None if delay is None else now_ms + int(delay * 1000)
    return Outcome(
        message_id=message.id,
        attempted_at_ms=now_ms,
        status_code=result.status_code,
        latency_ms=result.latency_ms,
        error=result.error,
        response_excerpt=result.response_excerpt,
        delivered=result.delivered,
        next_attempt_at_ms=next_at,
    )


class Worker:
    def __init__(
        self,
        storage: Storage,
        sender: Sender,
        policy: RetryPolicy,
        clock: Clock,
        *,
        concurrency: int,
        batch: int,
        lease_seconds: float,
        poll_interval: float,
    ) -> None:
        self._storage = storage
        self._sender = sender
        self._policy = policy
        self._clock = clock
        self._concurrency = concurrency
        self._batch = batch
        self._lease_ms = int(lease_seconds * 1000)
        self._poll = poll_interval
        self._wake = asyncio.Event()
        self._inflight: set[asyncio.Task[None]] = set()
        self._outcomes: list[Outcome] = []
        self._outcome_ready = asyncio.Event()

    def wake(self) -> None:
        """New messages may be due (called after the API commits an event)."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        await self._storage.subscribe(self.wake)  # other processes' commits wake us too
        recorder = asyncio.create_task(self._record_loop(stop))
        try:
            while not stop.is_set():
                self._wake.clear()
                claimed = await self._claim()
                if claimed and len(self._inflight) < self._concurrency:
                    continue
                await self._idle(stop, busy=bool(self._inflight))
        finally:
            await self._drain()
            stop.set()
            self._outcome_ready.set()
            await recorder

    async def _claim(self) -> int:
        free = self._concurrency - len(self._inflight)
        if free <= 0:
            return 0
        now_ms = to_ms(self._clock.now())
        messages = await self._storage.claim_due(now_ms, min(free, self._batch), self._lease_ms)
        for message in messages:
            task = asyncio.create_task(self._attempt(message))
            self._inflight.add(task)
            task.add_done_callback(self._finished)
        return len(messages)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._inflight.discard(task)
        self._wake.set()

    async def _idle(self, stop: asyncio.Event, *, busy: bool) -> None:
        timeout = self._poll
        if not busy:
            due = await self._storage.next_due_ms()
            if due is not None:
                timeout = min(timeout, max(0.0, (due - to_ms(self._clock.now())) / 1000))
        if timeout <= 0:
            return
        waiter = asyncio.create_task(self._wake.wait())
        stopper = asyncio.create_task(stop.wait())
        try:
            await asyncio.wait({waiter, stopper}, timeout=timeout, return_when="FIRST_COMPLETED")
        finally:
            waiter.cancel()
            stopper.cancel()

    async def _attempt(self, message: ClaimedMessage) -> None:
        now = self._clock.now()
        result = await self._sender.attempt(message, int(now.timestamp()))
        outcome = outcome_of(message, result, to_ms(self._clock.now()), self._policy)
        if not outcome.delivered:
            log.info(
                "delivery.failed",
                delivery_id=message.id,
                status_code=result.status_code,
                error=result.error,
                retry_at_ms=outcome.next_attempt_at_ms,
            )
        self._outcomes.append(outcome)
        self._outcome_ready.set()

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
            await self._storage.record_outcomes(batch)
        except Exception:
            log.exception("delivery.record_failed", count=len(batch))
            self._outcomes.extend(batch)
            await asyncio.sleep(self._poll)
            self._outcome_ready.set()

    async def _drain(self) -> None:
        """Let attempts in flight finish so their outcomes are recorded (graceful stop)."""
        if self._inflight:
            with contextlib.suppress(Exception):
                await asyncio.gather(*self._inflight, return_exceptions=True)
