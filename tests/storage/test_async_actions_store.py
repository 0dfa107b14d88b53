"""Async actions on a real store of each backend: the claim and its lease, each generation step
written with its progress (exactly, across a worker that dies), the fence against a worker whose
lease was taken over, and the runner carrying a generation to its end."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sendout import async_actions
from sendout.async_actions import AsyncActionRunner, generation, next_step
from sendout.clock import to_ms
from sendout.records import Page
from sendout.storage.base import Storage
from support.promotion_store import campaign
from support.storage import NOW

T0 = to_ms(datetime(2026, 1, 1, tzinfo=UTC))


class FixedClock:
    def __init__(self, ms: int) -> None:
        self.ms = ms

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.ms / 1000, tz=UTC)


async def codes_of(store: Storage, campaign_id: str) -> int:
    _, total = await store.list_vouchers("proj_1", Page(1, 1), campaign=campaign_id, holder_id=None)
    return total


async def test_a_generation_resumes_exactly_where_a_dead_worker_left_it(store: Storage) -> None:
    made = await store.create_campaign(campaign("gen", pattern="G-##########"), (), 0)
    action = generation("proj_1", made.id, async_actions.CHUNK + 500, None, "v-1", NOW)
    await store.create_async_action(action)
    assert await store.generating_campaigns("proj_1", [made.id, "camp_other"]) == {made.id}

    held = await store.claim_async_action(T0, 60_000)
    assert held is not None and held.status == "IN_PROGRESS"
    assert await store.claim_async_action(T0 + 1, 60_000) is None  # held by the first
    step = await store.advance_async_action(next_step(held, T0 + 10))
    assert step is not None and step.done == async_actions.CHUNK and step.status == "IN_PROGRESS"
    # ... and the worker dies. Once its lease is over another takes the action over.
    again = await store.claim_async_action(step.lease_until_ms + 1, 60_000)
    assert again is not None and (again.id, again.done) == (action.id, async_actions.CHUNK)
    assert await store.advance_async_action(next_step(step, T0 + 20)) is None  # fenced off
    assert await codes_of(store, made.id) == async_actions.CHUNK

    finished = await store.advance_async_action(next_step(again, step.lease_until_ms + 2))
    assert finished is not None and finished.status == "DONE"
    assert finished.done == async_actions.CHUNK + 500
    assert finished.result == {
        "campaign_id": made.id,
        "vouchers_generated": async_actions.CHUNK + 500,
        "vouchers_requested": async_actions.CHUNK + 500,
    }
    assert await codes_of(store, made.id) == async_actions.CHUNK + 500
    assert await store.generating_campaigns("proj_1", [made.id]) == set()
    assert await store.claim_async_action(T0 + 10**9, 60_000) is None


async def test_the_runner_finishes_a_generation_and_fails_one_that_cannot_be_done(
    store: Storage,
) -> None:
    fits = await store.create_campaign(campaign("fits", pattern="F-########"), (), 0)
    tiny = await store.create_campaign(campaign("tiny", pattern="T-#"), (), 0)
    good = generation("proj_1", fits.id, 1_200, None, "v-1", NOW)
    bad = generation("proj_1", tiny.id, 100, None, "v-2", NOW)  # "T-#" yields 62
    for action in (good, bad):
        await store.create_async_action(action)
    runner = AsyncActionRunner(store, FixedClock(T0), poll_interval=0.01)
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run(stop))
    for _ in range(200):
        states = [(await store.get_async_action("proj_1", a.id)).status for a in (good, bad)]
        if states == ["DONE", "FAILED"]:
            break
        await asyncio.sleep(0.02)
    stop.set()
    await task
    assert states == ["DONE", "FAILED"]
    assert await codes_of(store, fits.id) == 1_200
    failed = await store.get_async_action("proj_1", bad.id)
    assert failed.result is not None and failed.result["key"] == "invalid_code_config"
    assert await codes_of(store, tiny.id) == 0
    listed, total = await store.list_async_actions("proj_1", Page(10, 1))
    assert total == 2 and {a.id for a in listed} == {good.id, bad.id}
