"""Benchmark: simulating a distribution over 100,000 stored events. (Not a test; loopback only.)

One ``sendout serve --no-worker`` per backend: 1,000 events of 1,000 customers are tracked over
HTTP, then copied in SQL to ``--events`` rows, one minute earlier per copy (the simulation
reads; how the rows got there does not matter to it). Then, ``--repeat`` times each, back to
back: ``POST /v1/distributions/simulate`` of a distribution with five conditions and a limited
re-entry rule over the whole range, and the baseline: the same rows read raw by the database
driver in this process (``SELECT *`` of the range, fetched). Prints seconds per run, medians,
and the ratio simulation / raw read.

    .venv/bin/python bench/simulation.py                       # SQLite, 100,000 events x 3
    .venv/bin/python bench/simulation.py --backend postgres    # PostgreSQL at 127.0.0.1:5432
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from postgres_scaleout import APP, MGMT, Sendout, call, database, generate_load

SEED = 1_000
FIVE_THAT_HOLD = {
    "customer.source_id": {"conditions": {"$starts_with": ["c"], "$has_value": True}},
    "customer.email": {"conditions": {"$is_unknown": True}},
    "customer.name": {"conditions": {"$is_unknown": True}},
    "customer.metadata.region": {"conditions": {"$not_in": ["APAC"]}},
}
SINCE, UNTIL = "2000-01-01T00:00:00.000Z", "2100-01-01T00:00:00.000Z"
RANGE = (
    f"SELECT * FROM events WHERE type = 'bench_event' AND created_at >= '{SINCE}'"
    f" AND created_at < '{UNTIL}' ORDER BY created_at, id"
)

# Copies of each seeded event, one minute earlier per copy (ids stay unique).
SQLITE_COPY = """
WITH RECURSIVE k(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM k WHERE n < ?)
INSERT INTO events
SELECT e.id || '_' || k.n, e.project_id, e.type, e.customer_id, e.schema_id, e.metadata,
       e.referral, e.loyalty, e.request_id,
       strftime('%Y-%m-%dT%H:%M:%fZ', e.created_at, '-' || k.n || ' minutes')
FROM events e, k
"""
POSTGRES_COPY = """
INSERT INTO events
SELECT e.id || '_' || k.n, e.project_id, e.type, e.customer_id, e.schema_id, e.metadata,
       e.referral, e.loyalty, e.request_id,
       to_char((e.created_at::timestamptz - k.n * interval '1 minute') AT TIME ZONE 'UTC',
               'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
FROM events e, generate_series(1, $1) AS k(n)
"""


def seed(url: str, tmp: Path, total: int) -> None:
    """Track ``SEED`` events over HTTP, then copy them in SQL up to ``total`` rows."""
    server = Sendout(tmp, url, "serve")
    try:
        project = call(server.port, "GET", "/management/v1/projects", MGMT)["data"][0]["id"]
        call(
            server.port,
            "POST",
            f"/management/v1/projects/{project}/custom-event-schemas",
            MGMT,
            {"name": "bench_event", "schema": {"properties": {}}},
        )
        accepted, _ = generate_load([server.port], SEED, 32)
        if accepted != SEED:
            raise SystemExit(f"only {accepted} of {SEED} seed events were accepted")
    finally:
        server.stop()
    copies = total // SEED - 1
    if url.startswith("sqlite"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            conn.execute(SQLITE_COPY, (copies,))
    else:
        _postgres(url, lambda conn: conn.execute(POSTGRES_COPY, copies))


def _postgres(url: str, work: Callable[[Any], Any]) -> Any:
    import asyncpg

    async def run() -> Any:
        conn = await asyncpg.connect(url)
        try:
            return await work(conn)
        finally:
            await conn.close()

    return asyncio.run(run())


def raw_read(url: str) -> tuple[int, float]:
    """The baseline: the range's rows fetched by the driver alone."""
    started = time.perf_counter()
    if url.startswith("sqlite"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            rows = len(conn.execute(RANGE).fetchall())
    else:
        rows = len(_postgres(url, lambda conn: conn.fetch(RANGE)))
    return rows, time.perf_counter() - started


def simulated(server: Sendout) -> tuple[dict[str, Any], float]:
    body = {
        "distribution": {
            "name": "bench",
            "trigger": {"type": "customer.custom_event", "event": "bench_event"},
            "action": {"type": "plain_message"},
            "channels": [{"type": "webhook", "event_name": "b", "url": "http://127.0.0.1:9/h"}],
            "conditions": FIVE_THAT_HOLD,
            "reentry": {"mode": "limited", "limit": 3, "period": "P1D"},
        },
        "since": SINCE,
        "until": UNTIL,
    }
    started = time.perf_counter()
    answer = call(server.port, "POST", "/v1/distributions/simulate", APP, body)
    return answer, time.perf_counter() - started


def measure(backend: str, args: argparse.Namespace, tmp: Path) -> None:
    with database(backend, tmp) as url:
        seed(url, tmp, args.events)
        server = Sendout(tmp, url, "serve")
        try:
            simulate_s, raw_s = [], []
            for n in range(args.repeat):
                answer, seconds = simulated(server)
                rows, raw = raw_read(url)
                simulate_s.append(seconds)
                raw_s.append(raw)
                print(
                    f"{backend} run {n + 1}: simulate {seconds:.2f} s"
                    f" ({answer['events']:,} events, {answer['would_send']:,} would send,"
                    f" skipped {answer['skipped']}); raw read of {rows:,} rows {raw:.2f} s"
                )
        finally:
            server.stop()
    sim, raw = statistics.median(simulate_s), statistics.median(raw_s)
    print(
        f"{backend} median: simulate {sim:.2f} s ({args.events / sim:,.0f} events/s),"
        f" raw read {raw:.2f} s, ratio {sim / raw:.1f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="sqlite")
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    backends = ("sqlite", "postgres") if args.backend == "both" else (args.backend,)
    with tempfile.TemporaryDirectory() as tmp:
        for backend in backends:
            measure(backend, args, Path(tmp))


if __name__ == "__main__":
    main()
