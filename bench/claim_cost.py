"""Benchmark: what one claim costs with a small and a large backlog of due deliveries.

The worker's hot query is ``claim_due``: lease up to ``--batch`` due deliveries. Per backend and
per backlog size (``--sizes``, default 1,000 and 1,000,000), a fresh store gets one project, one
distribution and that many pending, due deliveries (written straight into the table: the ingest
path is not what is measured); then ``--claims`` claims run back to back, each followed by a
``release`` of what it leased, so the backlog stays the same size. Prints the median and p90
milliseconds per claim and the ratio of the largest backlog to the smallest: near 1 means a
claim stays cheap however long the queue (issue #14 item 4).

Each size is measured twice: a plain backlog (every delivery due), and an ordered one (a
channel with ``"ordering": "per_customer"``, ``--per-customer`` deliveries per customer,
interleaved: each customer's oldest is due and the others are held behind it).

Run: ``.venv/bin/python bench/claim_cost.py [--sizes 1000,1000000] [--postgres]``.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
from rich.console import Console
from rich.table import Table

import postgres_scaleout
from sendout.bootstrap import make_storage
from sendout.clock import SystemClock, isoformat, to_ms
from sendout.outbox.ordering import HELD_MS
from sendout.projects import new_project
from sendout.records import Channel, Distribution, PropertyDef
from sendout.settings import Settings, sqlite_path
from sendout.storage.base import Storage

_COLUMNS = (
    "id", "project_id", "distribution_id", "event_id", "channel_index", "event_name", "url",
    "destination", "headers", "body", "status", "next_attempt_at", "created_at", "order_key",
)  # fmt: skip
_CHUNK = 50_000


async def prepare(url: str, ordering: str) -> tuple[str, str]:
    """One project and one distribution (its channel's ``ordering``) in a new store; their ids."""
    storage = make_storage(Settings(database_url=url))
    await storage.open()
    try:
        await storage.migrate()
        now = isoformat(SystemClock().now())
        project = await storage.create_default_project(new_project("bench", now).project)
        props = {"plan": PropertyDef("string", optional=True)}
        await storage.create_event_schema(project.id, "ms_bench", "sign_up", props, now)
        channel = Channel("webhook", "n", "http://127.0.0.1:9/hooks", ordering=ordering)
        made = Distribution(
            "distr_bench", project.id, "d", "customer.custom_event", "sign_up",
            {"type": "plain_message"}, (channel,), "ACTIVE", now, None,
        )  # fmt: skip
        await storage.create_distribution(made)
        return project.id, made.id
    finally:
        await storage.close()


def backlog(
    project_id: str, distribution_id: str, size: int, due_ms: int, per_customer: int
) -> Iterator[tuple[object, ...]]:
    """``size`` pending deliveries, oldest first: all due, or (``per_customer`` > 0) spread over
    ``size // per_customer`` customers in turn, each customer's first due and the rest held."""
    created = isoformat(SystemClock().now())
    customers = max(1, size // per_customer) if per_customer else 0
    for n in range(size):
        key = f"cust_{n % customers:09d}" if customers else None
        held = customers and n >= customers
        yield (
            f"whs_bench{n:012d}", project_id, distribution_id, f"event_{n:012d}", 0, "n",
            "http://127.0.0.1:9/hooks", "127.0.0.1:9", "{}", b"{}", "pending",
            HELD_MS if held else due_ms - size + n, created, key,
        )  # fmt: skip


async def fill(url: str, rows: Iterator[tuple[object, ...]]) -> None:
    path = sqlite_path(url)
    if path is not None:
        with sqlite3.connect(path) as file:
            marks = ", ".join("?" for _ in _COLUMNS)
            file.executemany(
                f"INSERT INTO deliveries ({', '.join(_COLUMNS)}) VALUES ({marks})", rows
            )
        return
    conn: asyncpg.Connection = await asyncpg.connect(url)
    try:
        batch: list[tuple[object, ...]] = []
        for row in rows:
            batch.append(row)
            if len(batch) == _CHUNK:
                await conn.copy_records_to_table("deliveries", records=batch, columns=_COLUMNS)
                batch = []
        if batch:
            await conn.copy_records_to_table("deliveries", records=batch, columns=_COLUMNS)
        await conn.execute("ANALYZE deliveries")
    finally:
        await conn.close()


async def time_claims(storage: Storage, claims: int, batch: int) -> list[float]:
    """Milliseconds per claim, each claim's leases given back at once."""
    spent = []
    for _ in range(claims):
        now_ms = to_ms(SystemClock().now())
        began = time.perf_counter()
        leased = await storage.claim_due(now_ms, batch, 60_000, retries=False)
        spent.append((time.perf_counter() - began) * 1000)
        assert leased, "the backlog is due"
        await storage.release([d.id for d in leased])
    return spent


async def measure(url: str, size: int, per_customer: int, claims: int, batch: int) -> list[float]:
    project_id, distribution_id = await prepare(url, "per_customer" if per_customer else "none")
    due_ms = to_ms(SystemClock().now())
    await fill(url, backlog(project_id, distribution_id, size, due_ms, per_customer))
    storage = make_storage(Settings(database_url=url))
    await storage.open()
    try:
        await time_claims(storage, 5, batch)  # warm caches and plans
        return await time_claims(storage, claims, batch)
    finally:
        await storage.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--sizes", default="1000,1000000", help="backlog sizes, comma-separated")
    parser.add_argument("--claims", type=int, default=200, help="claims timed per size")
    parser.add_argument("--batch", type=int, default=128, help="deliveries per claim")
    parser.add_argument("--per-customer", type=int, default=10, help="ordered: per customer")
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL too")
    options = parser.parse_args()
    sizes = [int(s) for s in options.sizes.split(",")]
    table = Table(title="claim_due: milliseconds per claim")
    for column in ("backend", "kind", "deliveries", "median ms", "p90 ms", "x smallest"):
        table.add_column(column, justify="right")
    backends = ("sqlite", "postgres") if options.postgres else ("sqlite",)
    for backend, per_customer in itertools.product(backends, (0, options.per_customer)):
        kind = f"ordered, {per_customer} per customer" if per_customer else "plain"
        smallest: float | None = None
        for size in sizes:
            with (
                tempfile.TemporaryDirectory(prefix="sendout-claim-") as tmp,
                postgres_scaleout.database(backend, Path(tmp)) as url,
            ):
                run = measure(url, size, per_customer, options.claims, options.batch)
                spent = asyncio.run(run)
            median = statistics.median(spent)
            smallest = median if smallest is None else smallest
            p90 = statistics.quantiles(spent, n=10)[-1]
            ratio = f"{median / smallest:.2f}"
            table.add_row(backend, kind, f"{size:,}", f"{median:.2f}", f"{p90:.2f}", ratio)
    Console().print(table)


if __name__ == "__main__":
    main()
