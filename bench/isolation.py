"""Benchmark: isolation from a blackholed endpoint, and draining a backlog after a restart.

* baseline: ``--events`` events, two distributions on the same event, each to its own healthy
  loopback receiver; webhooks delivered per second to the first (first send to last arrival).
* blackhole beside it: the same, but the second endpoint accepts connections and never answers
  (every attempt hangs to the 10 s timeout). Auto-pause is set out of reach, so the blackhole
  keeps its per-destination slots busy all along. Each event makes the same two deliveries in both
  runs, so the ratio shows only what the dead endpoint costs the healthy one (target: >= 0.9).
* backlog drain: ``--backlog`` events accepted by ``serve --no-worker``, the process stopped,
  then ``serve`` started on the same database: time until every webhook has arrived.

Prints medians over ``--repeat`` runs. Informative only (exit 0 whether targets are met).
Run: ``.venv/bin/python bench/isolation.py [--events N] [--backlog N] [--repeat N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from multiprocessing.connection import Connection
from pathlib import Path

from rich.console import Console
from rich.table import Table

import loadgen
import receiver
from ingest_delivery import APP_HEADERS, MGMT_HEADERS, SendoutServer, expect
from loadgen import GenResult, Target
from procs import Child, new_loop_runner, run_child

console = Console()
NEVER_PAUSE = "1000000"
PHASE_TIMEOUT = 600.0


# --- a blackhole: accepts, reads, never answers ---------------------------------------------


async def _hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError):
        while await reader.read(65536):
            pass
    writer.close()


async def _blackhole(conn: Connection) -> None:
    server = await asyncio.start_server(_hold, "127.0.0.1", 0, backlog=1024)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    conn.send(server.sockets[0].getsockname()[1])
    async with server:
        await stop.wait()


def blackhole(conn: Connection) -> None:
    """Process target: hold every connection open without a byte of answer."""
    with contextlib.suppress(KeyboardInterrupt), new_loop_runner() as runner:
        runner.run(_blackhole(conn))


# --- set-up ------------------------------------------------------------------------------------


def define_event(server: SendoutServer) -> None:
    project = expect(server.port, "GET", "/management/v1/projects", MGMT_HEADERS)["data"][0]["id"]
    schema = {"name": "bench_event", "schema": {"properties": {}}}
    path = f"/management/v1/projects/{project}/custom-event-schemas"
    expect(server.port, "POST", path, MGMT_HEADERS, schema)


def add_distribution(server: SendoutServer, name: str, url: str) -> None:
    body = {
        "name": name,
        "trigger": {"type": "customer.custom_event", "event": "bench_event"},
        "action": {"type": "plain_message"},
        "channels": [{"type": "webhook", "event_name": name, "url": url}],
    }
    expect(server.port, "POST", "/v1/distributions", APP_HEADERS, body)


def ingest(server: SendoutServer, count: int, concurrency: int) -> GenResult:
    target = Target(f"http://127.0.0.1:{server.port}/v1/events", APP_HEADERS)
    options = {"count": count, "concurrency": concurrency, "deadline": PHASE_TIMEOUT}
    result: GenResult = run_child(
        "loadgen", loadgen.run, ("closed", target, options), PHASE_TIMEOUT + 60
    )
    if result.failed:
        console.print(f"[yellow]{result.failed} events refused: {dict(result.statuses)}[/yellow]")
    return result


def wait_arrivals(hooks_port: int, expected: int) -> float:
    """Until ``expected`` distinct webhooks arrived; return the last arrival time."""
    deadline = time.monotonic() + PHASE_TIMEOUT
    while time.monotonic() < deadline:
        if expect(hooks_port, "GET", "/_count", {})["distinct"] >= expected:
            break
        time.sleep(0.05)
    records = expect(hooks_port, "POST", "/_take", {})["records"]
    return max((arrived for _, arrived, _ in records), default=time.time())


@contextmanager
def started(workdir: Path, env: dict[str, str]) -> Iterator[SendoutServer]:
    server = SendoutServer(workdir, env)
    try:
        server.wait_healthy()
        yield server
    finally:
        server.stop()


# --- the three measurements --------------------------------------------------------------------


def healthy_rate(options: argparse.Namespace, hooks_port: int, other_port: int) -> float:
    env = {"SENDOUT_PAUSE_AFTER_FAILURES": NEVER_PAUSE}
    with tempfile.TemporaryDirectory(prefix="sendout-iso-") as tmp, started(Path(tmp), env) as srv:
        define_event(srv)
        add_distribution(srv, "healthy", f"http://127.0.0.1:{hooks_port}/hook")
        add_distribution(srv, "other", f"http://127.0.0.1:{other_port}/hook")
        result = ingest(srv, options.events, options.concurrency)
        last = wait_arrivals(hooks_port, result.ok)
        return result.ok / max(last - result.started, 1e-9)


def drain_time(options: argparse.Namespace, hooks_port: int) -> tuple[float, float]:
    """Seconds to deliver a backlog after a restart, and the ingest rate that built it."""
    with tempfile.TemporaryDirectory(prefix="sendout-drain-") as tmp:
        workdir = Path(tmp)
        with started(workdir, {"SENDOUT_WORKER": "false"}) as srv:
            define_event(srv)
            add_distribution(srv, "healthy", f"http://127.0.0.1:{hooks_port}/hook")
            result = ingest(srv, options.backlog, options.concurrency)
        began = time.time()
        with started(workdir, {}):
            last = wait_arrivals(hooks_port, result.ok)
        return last - began, result.ok / result.elapsed


# --- report ------------------------------------------------------------------------------------


def report(
    alone: list[float], beside: list[float], drains: list[tuple[float, float]], n: int
) -> None:
    table = Table(title=f"isolation and backlog drain (medians of {len(alone)} runs)")
    for column in ("measure", "median", "target"):
        table.add_column(column)
    healthy, with_hole = statistics.median(alone), statistics.median(beside)
    ratio = with_hole / healthy
    table.add_row("healthy webhooks/s, beside a healthy one (baseline)", f"{healthy:,.0f}", "")
    table.add_row("healthy webhooks/s, blackhole beside it", f"{with_hole:,.0f}", "")
    verdict = "PASS" if ratio >= 0.9 else "MISS"
    table.add_row("ratio", f"{ratio:.2f}x", f">= 0.90x  {verdict}")
    if drains:
        seconds = statistics.median(d for d, _ in drains)
        table.add_row(f"drain {n:,} backlog after restart", f"{seconds:,.1f} s", "")
        table.add_row("drain rate", f"{n / seconds:,.0f} webhooks/s", "")
        table.add_row(
            "ingest rate while building it",
            f"{statistics.median(r for _, r in drains):,.0f} events/s",
            "",
        )
    console.print(table)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=5000, help="events per isolation run")
    parser.add_argument("--backlog", type=int, default=100_000, help="0 skips the drain")
    parser.add_argument("--concurrency", type=int, default=48)
    parser.add_argument("--repeat", type=int, default=3)
    return parser.parse_args()


def main() -> int:
    options = parse_args()
    alone: list[float] = []
    beside: list[float] = []
    drains: list[tuple[float, float]] = []
    with ExitStack() as stack:
        hooks = Child("receiver", receiver.run)
        stack.callback(hooks.stop)
        second = Child("receiver-2", receiver.run)
        stack.callback(second.stop)
        hole = Child("blackhole", blackhole)
        stack.callback(hole.stop)
        hooks_port, hole_port = int(hooks.receive(30)), int(hole.receive(30))
        second_port = int(second.receive(30))
        for run in range(options.repeat):
            alone.append(healthy_rate(options, hooks_port, second_port))
            expect(second_port, "POST", "/_take", {})
            beside.append(healthy_rate(options, hooks_port, hole_port))
            console.print(
                f"run {run + 1}: alone {alone[-1]:,.0f}/s, beside blackhole {beside[-1]:,.0f}/s"
            )
        if options.backlog:
            drains.append(drain_time(options, hooks_port))
    report(alone, beside, drains, options.backlog)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
