"""Benchmark: bulk ingest against single events. (Not a test; loopback only.)

``sendout serve --no-worker`` on SQLite (or PostgreSQL), one active distribution on the event
(so every event enqueues one delivery), measured back to back ``--repeat`` times each: the
baseline, ``--events`` events one per ``POST /v1/events`` with 48 connections; then the same
number through ``POST /v1/events/bulk``, ``--batch`` events per request with ``--concurrency``
requests in flight. Each configuration gets a fresh database. Prints events/s per run, the
medians and their ratio.

With ``--apis N``, N ``serve --no-worker`` processes share the database and the load (each
takes ``--concurrency`` bulk requests in flight, and every N-th of the single events' 48
connections): does a second process taking events help on this machine?

    .venv/bin/python bench/bulk_ingest.py                       # SQLite, 20,000 events x 3
    .venv/bin/python bench/bulk_ingest.py --backend postgres --events 10000
    .venv/bin/python bench/bulk_ingest.py --apis 2              # two API processes, one SQLite file
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import aiohttp
import orjson

from postgres_scaleout import (
    APP,
    MGMT,
    Sendout,
    call,
    database,
    generate_load,
    print_refused,
    reason,
)


def configure(server: Sendout) -> None:
    project = call(server.port, "GET", "/management/v1/projects", MGMT)["data"][0]["id"]
    call(
        server.port,
        "POST",
        f"/management/v1/projects/{project}/custom-event-schemas",
        MGMT,
        {"name": "bench_event", "schema": {"properties": {}}},
    )
    body = {
        "name": "bench",
        "trigger": {"type": "customer.custom_event", "event": "bench_event"},
        "action": {"type": "plain_message"},
        "channels": [{"type": "webhook", "event_name": "b", "url": "http://127.0.0.1:9/h"}],
    }
    call(server.port, "POST", "/v1/distributions", APP, body)


async def send_bulk(
    ports: Sequence[int], events: int, batch: int, concurrency: int
) -> tuple[int, float]:
    """``events`` in bodies of ``batch``, ``concurrency`` requests in flight per port."""
    bodies = [
        orjson.dumps(
            {
                "events": [
                    {"event": "bench_event", "customer": {"source_id": f"c{i}"}}
                    for i in range(start, min(start + batch, events))
                ]
            }
        )
        for start in range(0, events, batch)
    ]
    pending = iter(bodies)
    accepted = 0
    refused: collections.Counter[str] = collections.Counter()
    async with aiohttp.ClientSession() as session:

        async def worker(port: int) -> None:
            nonlocal accepted
            url = f"http://127.0.0.1:{port}/v1/events/bulk"
            for body in pending:
                async with session.post(url, data=body, headers=APP) as response:
                    if response.status != 200:
                        text = await response.text()
                        raise SystemExit(f"POST /v1/events/bulk: {response.status} {text[:500]}")
                    answer = await response.json()
                    accepted += int(answer["accepted"])
                    refused.update(
                        reason(r["status"], r["error"]) for r in answer["results"] if "error" in r
                    )

        started = time.perf_counter()
        await asyncio.gather(*(worker(p) for p in ports for _ in range(concurrency)))
        seconds = time.perf_counter() - started
    print_refused(refused, "item(s)")
    return accepted, seconds


def one_run(backend: str, tmp: Path, args: argparse.Namespace, bulk: bool) -> float:
    with database(backend, tmp) as url:
        servers = [Sendout(tmp, url, "serve") for _ in range(args.apis)]
        ports = [server.port for server in servers]
        try:
            configure(servers[0])
            if bulk:
                accepted, seconds = asyncio.run(
                    send_bulk(ports, args.events, args.batch, args.concurrency)
                )
            else:
                accepted, seconds = generate_load(ports, args.events, 48)
        finally:
            for server in servers:
                server.stop()
        if accepted != args.events:  # the servers' logs say why, before they are deleted
            for log in (Path(server.log.name) for server in servers):
                tail = log.read_text(errors="replace").splitlines()[-20:]
                print(f"--- {log.name}", *tail, sep="\n", file=sys.stderr)
            raise SystemExit(f"only {accepted} of {args.events} events were accepted")
    return args.events / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument(
        "--concurrency", type=int, default=4, help="bulk requests in flight per API process"
    )
    parser.add_argument(
        "--apis", type=int, default=1, help="serve --no-worker processes on the one database"
    )
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    single: list[float] = []
    bulk: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(args.repeat):
            single.append(one_run(args.backend, Path(tmp), args, bulk=False))
            bulk.append(one_run(args.backend, Path(tmp), args, bulk=True))
            print(f"run {n + 1}: single {single[-1]:,.0f} events/s, bulk {bulk[-1]:,.0f} events/s")
    a, b = statistics.median(single), statistics.median(bulk)
    print(
        f"{args.backend}, {args.apis} API process(es), {args.events:,} events, bulk"
        f" {args.batch} per request x {args.concurrency} in flight each: single {a:,.0f}/s,"
        f" bulk {b:,.0f}/s, ratio {b / a:.2f}x"
    )


if __name__ == "__main__":
    main()
