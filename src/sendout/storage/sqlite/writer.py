"""The one thread that writes to SQLite, committing concurrent transactions together.

SQLite has a single writer, and each commit costs system calls (WAL frames, locks). Under load
many transactions wait for the writer at once; this thread takes every one that is waiting,
runs each inside its own ``SAVEPOINT`` of one enclosing transaction, and commits once. A job
that fails is rolled back to its savepoint alone, so it leaves nothing behind and the others
commit: each caller sees exactly what it would have seen with a transaction of its own. Callers
are answered with one wake-up of their event loop per batch, not one per job.
"""

from __future__ import annotations

import asyncio
import queue
import sqlite3
import threading
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sendout.storage.sqlite.write_lock import begin_immediate

__all__ = ["GroupCommitWriter"]

T = TypeVar("T")
Conn = sqlite3.Connection
_MAX_BATCH = 256


@dataclass(slots=True)
class _Job:
    fn: Callable[[Conn], Any]
    transaction: bool
    future: asyncio.Future[Any]
    loop: asyncio.AbstractEventLoop
    value: Any = None
    error: BaseException | None = field(default=None)


class GroupCommitWriter:
    def __init__(
        self, connect: Callable[[], Conn], *, committed: Callable[[], None] | None = None
    ) -> None:
        """``committed``: called on this thread after each commit (it must not block)."""
        self._connect = connect
        self._committed = committed
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="sqlite-writer", daemon=True)
        self._started = False
        self._broken: BaseException | None = None

    async def call(self, fn: Callable[[Conn], T], *, transaction: bool = True) -> T:
        """Run ``fn(conn)`` on the writer thread, inside a transaction unless told otherwise."""
        if self._broken is not None:
            raise self._broken
        loop = asyncio.get_running_loop()
        job = _Job(fn, transaction, loop.create_future(), loop)
        self._queue.put(job)
        if not self._started:
            self._started = True
            self._thread.start()
        result: T = await job.future
        return result

    async def stop(self) -> None:
        if self._started:
            self._queue.put(None)
            await asyncio.get_running_loop().run_in_executor(None, self._thread.join)

    # --- on the writer thread ----------------------------------------------------------------------
    def _run(self) -> None:
        conn: Conn | None = None
        try:
            conn = self._connect()
        except BaseException as exc:
            self._broken = exc
            self._fail_all(exc)
            return
        try:
            while (batch := self._next_batch()) is not None:
                self._execute(conn, batch)
                if batch and batch[-1] is None:
                    break
        finally:
            conn.close()

    def _next_batch(self) -> list[Any] | None:
        first = self._queue.get()
        if first is None:
            return None
        batch: list[Any] = [first]
        while len(batch) < _MAX_BATCH:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            batch.append(item)
            if item is None:
                break
        return batch

    def _execute(self, conn: Conn, batch: list[_Job | None]) -> None:
        jobs = [j for j in batch if j is not None]
        try:
            for job in (j for j in jobs if not j.transaction):
                _call(job, conn)
            together = [j for j in jobs if j.transaction]
            if together:
                _commit_together(conn, together)
                if self._committed is not None:
                    self._committed()
        except BaseException as exc:  # the bookkeeping statements themselves failed
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            for job in jobs:
                if job.transaction or job.error is None:
                    job.value, job.error = None, exc
        _answer(jobs)

    def _fail_all(self, exc: BaseException) -> None:
        jobs: list[_Job] = []
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is not None:
                item.error = exc
                jobs.append(item)
        _answer(jobs)


def _call(job: _Job, conn: Conn) -> None:
    try:
        job.value = job.fn(conn)
    except BaseException as exc:
        job.error = exc


def _commit_together(conn: Conn, jobs: list[_Job]) -> None:
    try:
        begin_immediate(conn)
    except sqlite3.Error as exc:
        for job in jobs:
            job.error = exc
        return
    for job in jobs:
        conn.execute("SAVEPOINT job")
        _call(job, conn)
        if job.error is None:
            conn.execute("RELEASE job")
        elif conn.in_transaction:
            conn.execute("ROLLBACK TO job")
            conn.execute("RELEASE job")
        else:  # SQLite abandoned the whole transaction: nothing of this batch survives
            _fail_committed(jobs, job.error)
            return
    try:
        conn.execute("COMMIT")
    except sqlite3.Error as exc:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        _fail_committed(jobs, exc)


def _fail_committed(jobs: list[_Job], exc: BaseException) -> None:
    for job in jobs:
        if job.error is None:
            job.value, job.error = None, exc


def _answer(jobs: list[_Job]) -> None:
    """Wake each waiting event loop once for all of its jobs."""
    by_loop: dict[asyncio.AbstractEventLoop, list[_Job]] = defaultdict(list)
    for job in jobs:
        by_loop[job.loop].append(job)
    for loop, mine in by_loop.items():
        try:
            loop.call_soon_threadsafe(_settle, mine)
        except RuntimeError:  # that loop is closed: nobody is waiting any more
            continue


def _settle(jobs: list[_Job]) -> None:
    for job in jobs:
        if job.future.cancelled():
            continue
        if job.error is not None:
            job.future.set_exception(job.error)
        else:
            job.future.set_result(job.value)
