"""Gather concurrent calls into batches: one flush at a time, taking everything that waits.

A caller hands in an item and awaits its own answer. While a flush is running, new items queue;
the next flush takes all of them (up to ``max_batch``). Under no load a batch is one item and
the only cost is one task switch; under load one database round trip serves many callers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

__all__ = ["MicroBatcher"]

I = TypeVar("I")  # noqa: E741
R = TypeVar("R")


class MicroBatcher(Generic[I, R]):
    def __init__(
        self, flush: Callable[[list[I]], Awaitable[Sequence[R]]], *, max_batch: int = 128
    ) -> None:
        self._flush = flush
        self._max_batch = max_batch
        self._waiting: list[tuple[I, asyncio.Future[R]]] = []
        self._draining: asyncio.Task[None] | None = None

    async def submit(self, item: I) -> R:
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        if self._draining is None or self._draining.done():
            self._draining = asyncio.get_running_loop().create_task(self._drain())
        return await future

    async def close(self) -> None:
        """Wait for the batches already handed in."""
        if self._draining is not None:
            await self._draining

    async def _drain(self) -> None:
        while self._waiting:
            batch = self._waiting[: self._max_batch]
            del self._waiting[: self._max_batch]
            try:
                answers = await self._flush([item for item, _ in batch])
            except Exception as exc:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            except BaseException:  # cancelled (shutdown): nobody may wait forever
                waiting, self._waiting = self._waiting, []  # and nothing of theirs is stored
                for _, future in batch + waiting:
                    future.cancel()
                raise
            for (_, future), answer in zip(batch, answers, strict=True):
                if not future.done():
                    future.set_result(answer)
