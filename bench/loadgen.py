"""Load generators for the benchmarks, each run in its own process (``run`` is the target).

* ``closed``: ``count`` POSTs by ``concurrency`` keep-alive workers, as fast as answers come.
* ``paced``: open loop, ``rate`` POSTs per second for ``duration`` seconds; send ``i`` is
  scheduled at ``start + i / rate`` whatever earlier ones are doing, and its ``sent_at`` is
  that scheduled time, so a slow server cannot hide its queueing (no coordinated omission).

Every body is ``{"event": "bench_event", "customer": {"source_id": "c-<i mod 1000>"},
"metadata": {"sent_at": <time.time()>}}``. Both stop at a deadline whatever happens.
"""

from __future__ import annotations

import asyncio
import time
import traceback
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

import aiohttp
import orjson

from procs import new_loop_runner

__all__ = ["GenResult", "Target", "closed_loop", "paced", "run"]

REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=30)
PACED_CONNECTIONS = 256


@dataclass(frozen=True, slots=True)
class Target:
    url: str
    headers: dict[str, str]


@dataclass(slots=True)
class GenResult:
    sent: int = 0
    ok: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    started: float = 0.0  # time.time() just before the first send
    finished: float = 0.0  # time.time() once the last answer is in
    max_lag_ms: float = 0.0  # paced only: worst lateness of a send against its schedule
    cpu_seconds: float = 0.0

    @property
    def elapsed(self) -> float:
        return max(self.finished - self.started, 1e-9)

    @property
    def failed(self) -> int:
        return self.sent - self.ok


def event_body(i: int, sent_at: float) -> bytes:
    return orjson.dumps(
        {
            "event": "bench_event",
            "customer": {"source_id": f"c-{i % 1000}"},
            "metadata": {"sent_at": sent_at},
        }
    )


def _session(limit: int) -> aiohttp.ClientSession:
    connector = aiohttp.TCPConnector(limit=limit, limit_per_host=limit)
    return aiohttp.ClientSession(connector=connector, timeout=REQUEST_TIMEOUT)


async def _post(
    session: aiohttp.ClientSession, target: Target, body: bytes, result: GenResult
) -> None:
    result.sent += 1
    try:
        async with session.post(target.url, data=body, headers=target.headers) as response:
            await response.read()
            status = response.status
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        result.errors[type(exc).__name__] += 1
        return
    result.statuses[status] += 1
    if status == 200:
        result.ok += 1


async def _worker(
    session: aiohttp.ClientSession,
    target: Target,
    numbers: Iterator[int],
    stop_at: float,
    result: GenResult,
) -> None:
    for i in numbers:
        if time.monotonic() > stop_at:
            return
        await _post(session, target, event_body(i, time.time()), result)


async def closed_loop(target: Target, count: int, concurrency: int, deadline: float) -> GenResult:
    result = GenResult()
    numbers = iter(range(count))
    stop_at = time.monotonic() + deadline
    async with _session(concurrency) as session:
        result.started = time.time()
        workers = (_worker(session, target, numbers, stop_at, result) for _ in range(concurrency))
        await asyncio.gather(*workers)
        result.finished = time.time()
    return result


async def _settle(tasks: set[asyncio.Task[None]], seconds: float, result: GenResult) -> None:
    if not tasks:
        return
    _, pending = await asyncio.wait(tasks, timeout=max(seconds, 0.1))
    for task in pending:
        task.cancel()
    result.errors["unanswered at deadline"] += len(pending)


async def paced(target: Target, rate: float, duration: float, deadline: float) -> GenResult:
    result = GenResult()
    loop = asyncio.get_running_loop()
    tasks: set[asyncio.Task[None]] = set()
    async with _session(PACED_CONNECTIONS) as session:
        result.started, t0 = time.time(), loop.time()
        for i in range(max(1, round(rate * duration))):
            due = t0 + i / rate
            if due - loop.time() > 0:
                await asyncio.sleep(due - loop.time())
            result.max_lag_ms = max(result.max_lag_ms, (loop.time() - due) * 1000)
            body = event_body(i, result.started + i / rate)
            task = asyncio.create_task(_post(session, target, body, result))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        await _settle(tasks, t0 + deadline - loop.time(), result)
        result.finished = time.time()
    return result


async def _generate(kind: str, target: Target, options: dict[str, Any]) -> GenResult:
    cpu = time.process_time()
    if kind == "closed":
        result = await closed_loop(target, **options)
    else:
        result = await paced(target, **options)
    result.cpu_seconds = time.process_time() - cpu
    return result


def run(conn: Connection, kind: str, target: Target, options: dict[str, Any]) -> None:
    """Process target: generate, then send ``("ok", GenResult)`` or ``("error", traceback)``."""
    try:
        with new_loop_runner() as runner:
            answer: tuple[str, Any] = ("ok", runner.run(_generate(kind, target, options)))
    except KeyboardInterrupt:
        return
    except Exception:
        answer = ("error", traceback.format_exc())
    conn.send(answer)
    conn.close()
