"""Async actions: work a request hands over (``202`` with ``async_action_id``) and the worker runs
in the background, as Voucherify does for generating many codes.

A generation runs in steps of :data:`CHUNK` codes, each one transaction that also records the
progress, so SQLite's single writer is never held for long and a worker that dies mid-way
leaves an exact count: the next worker to claim the action (its lease expired) carries on
from there. ``next_step`` is pure; :class:`AsyncActionRunner` is the worker's loop.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import structlog

from sendout import ids
from sendout.clock import Clock, from_ms, isoformat, parse_iso, to_ms
from sendout.errors import SendoutError
from sendout.records import AsyncAction
from sendout.storage.base import ActionStep, Storage

__all__ = [
    "CHUNK",
    "DELETE",
    "GENERATE",
    "AsyncActionRunner",
    "deleted",
    "generation",
    "next_step",
]

log = structlog.get_logger(__name__)

GENERATE = "CAMPAIGN.VOUCHERS_GENERATE"
DELETE = "CAMPAIGN.DELETE"
CHUNK = 10_000  # codes per transaction
LEASE_MS = 60_000


def generation(
    project_id: str,
    campaign_id: str,
    count: int,
    code_config: dict[str, Any] | None,
    request_id: str,
    now: str,
) -> AsyncAction:
    """An enqueued generation of ``count`` codes."""
    params = {} if code_config is None else {"code_config": code_config}
    return AsyncAction(
        id=ids.async_action_id(),
        project_id=project_id,
        type=GENERATE,
        status="ENQUEUED",
        campaign_id=campaign_id,
        requested=count,
        done=0,
        params=params,
        result=None,
        request_id=request_id,
        created_at=now,
    )


def deleted(project_id: str, campaign_id: str, request_id: str, now: str) -> AsyncAction:
    """The record of a campaign deleted at once (the answer is still Voucherify's ``202``)."""
    return AsyncAction(
        id=ids.async_action_id(),
        project_id=project_id,
        type=DELETE,
        status="DONE",
        campaign_id=campaign_id,
        requested=1,
        done=1,
        params={},
        result={"campaign_id": campaign_id, "deleted": True},
        request_id=request_id,
        created_at=now,
        updated_at=now,
        processing_ms=0,
    )


def next_step(action: AsyncAction, now_ms: int) -> ActionStep:
    """The next chunk of a generation, and what the action is once it is done."""
    count = min(CHUNK, action.requested - action.done)
    finished = action.done + count >= action.requested
    now = isoformat_ms(now_ms)
    return ActionStep(
        action=action,
        generate=count,
        status="DONE" if finished else "IN_PROGRESS",
        result=_generated(action, action.done + count) if finished else None,
        now=now,
        lease_until_ms=now_ms + LEASE_MS,
        processing_ms=now_ms - to_ms(parse_iso(action.created_at)) if finished else None,
    )


def failed_step(action: AsyncAction, refusal: SendoutError, now_ms: int) -> ActionStep:
    """The action given up: nothing more is generated; what was stays."""
    return ActionStep(
        action=action,
        generate=0,
        status="FAILED",
        result={**_generated(action, action.done), "key": refusal.key, "message": refusal.details},
        now=isoformat_ms(now_ms),
        lease_until_ms=0,
        processing_ms=now_ms - to_ms(parse_iso(action.created_at)),
    )


def _generated(action: AsyncAction, done: int) -> dict[str, Any]:
    return {
        "campaign_id": action.campaign_id,
        "vouchers_generated": done,
        "vouchers_requested": action.requested,
    }


def isoformat_ms(ms: int) -> str:
    return isoformat(from_ms(ms))


class AsyncActionRunner:
    """The worker's loop over async actions: claim one, run it step by step, claim the next."""

    def __init__(self, storage: Storage, clock: Clock, *, poll_interval: float) -> None:
        self._storage = storage
        self._clock = clock
        self._poll = poll_interval
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self._wake.clear()
            try:
                action = await self._storage.claim_async_action(self._now_ms(), LEASE_MS)
                if action is not None:
                    await self._run_one(action, stop)
                    continue
            except Exception:
                log.exception("async_action.failed_to_run")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._either(stop), self._poll)

    async def _either(self, stop: asyncio.Event) -> None:
        waits = {asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stop.wait())}
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waits:
                w.cancel()

    async def _run_one(self, action: AsyncAction, stop: asyncio.Event) -> None:
        current: AsyncAction | None = action
        while current is not None and current.status == "IN_PROGRESS" and not stop.is_set():
            held = current
            try:
                current = await self._storage.advance_async_action(next_step(held, self._now_ms()))
            except SendoutError as refusal:
                await self._storage.advance_async_action(failed_step(held, refusal, self._now_ms()))
                log.info("async_action.failed", async_action_id=action.id, key=refusal.key)
                return
        if current is not None and current.status == "DONE":
            log.info("async_action.done", async_action_id=action.id, type=action.type)

    def _now_ms(self) -> int:
        return to_ms(self._clock.now())
