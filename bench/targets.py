"""Benchmark entry point: issue #14's targets, each measured beside its baseline in the same run.

One command, a table of medians and ratios, and a PNG (latency distribution, throughput over
time). Per run (``--repeat``, default 3), on SQLite with ``sendout serve``'s defaults, each run
with a fresh ``serve``, receiver and database, so that the runs repeat one another:

* baseline: the load generator straight to the receiver (raw loopback round trips/s);
* end to end: ``--events`` POST /v1/events at ``--concurrency``, accepted and delivered per second;
* latency: open loop at ``--rate`` (1,000) events/s for ``--duration`` s, receiver arrival minus
  the scheduled send time, p50/p99;
* ingest alone (``serve --no-worker``, fresh database): ``--events`` single events, then
  ``--backlog`` (100,000) more through ``POST /v1/events/bulk``, 100 per request;
* drain: that server stopped, ``serve`` started on its database: webhooks/s from the first
  arrival to the last;
* peak RSS of ``serve`` and its worker child (the sum of their high-water marks).

``--postgres`` adds PostgreSQL's figures (1 and 2 workers draining a backlog, ingest beside
SQLite's) from ``postgres_scaleout.py``. Informative only: exits 0 whether targets are met or not.

    .venv/bin/python bench/targets.py                       # about 10 minutes
    .venv/bin/python bench/targets.py --repeat 1 --events 5000 --backlog 20000 --duration 5
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.table import Table

import postgres_scaleout
from bulk_ingest import send_bulk
from ingest_delivery import (
    APP_HEADERS,
    Rig,
    SendoutServer,
    _interrupt,
    child_pids,
    closed,
    code_under_test,
    configure,
    first_arrivals,
    generate,
    load_average,
    percentile,
    rig,
    wait_delivered,
    warm_up,
)
from loadgen import Target

BULK_BATCH = 100
console = Console(width=120)  # the table stays one line per row when piped to a file
BULK_IN_FLIGHT = 4


@dataclass
class RunFigures:
    """One run's figures, and the series the PNG is drawn from."""

    baseline_rps: float = math.nan
    e2e_accepted: float = math.nan
    e2e_delivered: float = math.nan
    ingest_alone: float = math.nan
    bulk_ingest: float = math.nan
    drain: float = math.nan
    p50_ms: float = math.nan
    p99_ms: float = math.nan
    offered: float = math.nan
    peak_rss_mb: float = 0.0
    lost: int = 0
    e2e_arrivals: list[float] = field(default_factory=list)
    drain_arrivals: list[float] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)


# --- measurements ------------------------------------------------------------------------------


def peak_rss_mb(pid: int) -> float:
    """High-water RSS of a process and its children, MB (Linux ``/proc``; NaN elsewhere)."""
    total = 0.0
    for each in (pid, *child_pids(pid)):
        try:
            status = Path(f"/proc/{each}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                total += int(line.split()[1]) / 1024
    return total or math.nan


def baseline(bench: Rig, figures: RunFigures) -> None:
    bench.take()
    result = closed(bench, Target(bench.hook_url, APP_HEADERS), bench.options.events)
    bench.take()
    figures.baseline_rps = result.ok / result.elapsed


def end_to_end(bench: Rig, figures: RunFigures) -> None:
    bench.take()
    result = closed(bench, bench.events_target, bench.options.events)
    wait_delivered(bench, result.ok)
    first = first_arrivals(bench.take())
    arrivals = sorted(arrived for arrived, _ in first.values())
    figures.e2e_accepted = result.ok / result.elapsed
    figures.e2e_delivered = len(arrivals) / max(arrivals[-1] - result.started, 1e-9)
    figures.e2e_arrivals = [t - result.started for t in arrivals]
    figures.lost += max(0, result.ok - len(arrivals))


def latency(bench: Rig, figures: RunFigures) -> None:
    options = bench.options
    bench.take()
    result = generate(
        bench,
        "paced",
        bench.events_target,
        rate=options.rate,
        duration=options.duration,
        deadline=options.duration + options.phase_timeout,
    )
    wait_delivered(bench, result.ok)
    first = first_arrivals(bench.take())
    figures.latencies_ms = [1000 * (a - s) for a, s in first.values() if s is not None]
    figures.offered = result.sent / options.duration
    figures.p50_ms = percentile(figures.latencies_ms, 50)
    figures.p99_ms = percentile(figures.latencies_ms, 99)
    figures.lost += max(0, result.ok - len(first))


def ingest_then_drain(bench: Rig, figures: RunFigures) -> None:
    """Ingest with no worker (single, then bulk), then drain what they left with ``serve``."""
    options = bench.options
    with tempfile.TemporaryDirectory(prefix="sendout-targets-", dir=options.tmp_parent) as tmp:
        workdir = Path(tmp)
        accepted = _ingest(bench, workdir, figures)
        bench.take()
        server = SendoutServer(workdir, dict(options.server_env))
        try:
            server.wait_healthy()
            wait_delivered(bench, accepted)
            arrivals = sorted(a for a, _ in first_arrivals(bench.take()).values())
            figures.peak_rss_mb = max(figures.peak_rss_mb, peak_rss_mb(server.process.pid))
        finally:
            server.stop()
    figures.drain = (len(arrivals) - 1) / max(arrivals[-1] - arrivals[0], 1e-9)
    figures.drain_arrivals = [t - arrivals[0] for t in arrivals]
    figures.lost += max(0, accepted - len(arrivals))


def _ingest(bench: Rig, workdir: Path, figures: RunFigures) -> int:
    options = bench.options
    env = {**dict(options.server_env), "SENDOUT_WORKER": "false"}
    server = SendoutServer(workdir, env)
    try:
        server.wait_healthy()
        configure(server, bench.hook_url)
        target = Target(f"http://127.0.0.1:{server.port}/v1/events", APP_HEADERS)
        single = closed(bench, target, options.events)
        figures.ingest_alone = single.ok / single.elapsed
        bulk, seconds = asyncio.run(
            send_bulk([server.port], options.backlog, BULK_BATCH, BULK_IN_FLIGHT)
        )
        figures.bulk_ingest = bulk / seconds
    finally:
        server.stop()
    return single.ok + bulk


def one_run(bench: Rig, n: int, repeat: int) -> RunFigures:
    figures = RunFigures()
    steps: list[tuple[str, Callable[[Rig, RunFigures], None]]] = [
        ("baseline", baseline),
        ("end to end", end_to_end),
        (f"latency at {bench.options.rate:g}/s", latency),
        ("ingest alone, bulk, drain", ingest_then_drain),
    ]
    for name, step in steps:
        console.print(f"[dim]run {n + 1}/{repeat}: {name}…[/dim]")
        step(bench, figures)
    figures.peak_rss_mb = max(figures.peak_rss_mb, peak_rss_mb(bench.server.process.pid))
    return figures


# --- the table ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    label: str
    value: Callable[[RunFigures], float]
    fmt: str
    target: str = ""
    meets: Callable[[float, RunFigures], bool] | None = None


ROWS = [
    Row("baseline: raw round trips/s", lambda f: f.baseline_rps, "{:,.0f}"),
    Row(
        "end to end: accepted events/s",
        lambda f: f.e2e_accepted,
        "{:,.0f}",
        "≥ 3,000",
        lambda v, f: v >= 3000,
    ),
    Row(
        "end to end: delivered webhooks/s",
        lambda f: f.e2e_delivered,
        "{:,.0f}",
        "≥ 3,000",
        lambda v, f: v >= 3000,
    ),
    Row("ingest alone: events/s", lambda f: f.ingest_alone, "{:,.0f}"),
    Row(
        "ingest alone ÷ baseline",
        lambda f: f.ingest_alone / f.baseline_rps,
        "{:.2f}",
        "≥ 0.5",
        lambda v, f: v >= 0.5,
    ),
    Row(
        f"bulk ingest ({BULK_BATCH} per request): events/s",
        lambda f: f.bulk_ingest,
        "{:,.0f}",
        "≥ 30,000",
        lambda v, f: v >= 30000,
    ),
    Row("bulk ÷ single ingest", lambda f: f.bulk_ingest / f.ingest_alone, "{:.2f}"),
    Row(
        "drain of the backlog: webhooks/s",
        lambda f: f.drain,
        "{:,.0f}",
        "≥ 5,000 or ≥ 0.5x baseline",
        lambda v, f: v >= 5000 or v >= 0.5 * f.baseline_rps,
    ),
    Row("drain ÷ baseline", lambda f: f.drain / f.baseline_rps, "{:.2f}"),
    Row("latency: offered events/s", lambda f: f.offered, "{:,.0f}"),
    Row("latency: e2e p50 (ms)", lambda f: f.p50_ms, "{:.1f}"),
    Row(
        "latency: e2e p99 (ms)",
        lambda f: f.p99_ms,
        "{:.1f}",
        "≤ 25 at 1,000/s",
        lambda v, f: v <= 25 and f.offered >= 990,
    ),
    Row(
        "peak RSS, serve + worker child (MB)",
        lambda f: f.peak_rss_mb,
        "{:.0f}",
        "≤ 250",
        lambda v, f: v <= 250,
    ),
    Row("accepted, never delivered (sum)", lambda f: float(f.lost), "{:.0f}", "0"),
]


def _median(values: list[float]) -> float:
    finite = [v for v in values if not math.isnan(v)]
    return statistics.median(finite) if finite else math.nan


def report(runs: list[RunFigures], context: str) -> None:
    table = Table(title=f"sendout against issue #14's targets: medians of {len(runs)} run(s)")
    for name, justify in (("measure", "left"), ("median", "right"), ("each run", "right")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    table.add_column("target", justify="right")
    table.add_column("")
    median_run = _median_run(runs)
    for row in ROWS:
        values = [row.value(run) for run in runs]
        value = sum(values) if row.label.endswith("(sum)") else _median(values)
        verdict = ""
        if row.meets is not None:
            passed = not math.isnan(value) and row.meets(value, median_run)
            verdict = "[green]PASS[/green]" if passed else "[red]MISS[/red]"
        each = " ".join(row.fmt.format(v) for v in values)
        table.add_row(row.label, row.fmt.format(value), each, row.target, verdict)
    console.print(table)
    console.print(f"[dim]{os.cpu_count()} CPU(s); {context}. Targets are informative only.[/dim]")


def _median_run(runs: list[RunFigures]) -> RunFigures:
    """The run whose baseline is the median: the other figures a row's target reads with it."""
    return sorted(runs, key=lambda r: r.baseline_rps)[len(runs) // 2]


def postgres_figures(options: argparse.Namespace) -> None:
    """PostgreSQL scale-out beside SQLite, measured now (see postgres_scaleout.py)."""
    args = argparse.Namespace(
        backlog=options.events,
        events=options.events,
        concurrency=options.concurrency,
        warmup=postgres_scaleout.WARMUP,
        repeat=options.repeat,
        receivers=2,
        timeout=options.phase_timeout,
    )
    plan = [
        ("delivery", "postgres", 1),
        ("delivery", "postgres", 2),
        ("ingest", "sqlite", 1),
        ("ingest", "postgres", 1),
    ]
    receivers = postgres_scaleout.Receivers.start(args.receivers)
    try:
        with tempfile.TemporaryDirectory(prefix="sendout-bench-") as tmp:
            results = {s: postgres_scaleout.measure(*s, args, receivers, Path(tmp)) for s in plan}
    finally:
        receivers.stop()
    rate = {s: statistics.median(r.per_second for r in runs) for s, runs in results.items()}
    workers = rate[("delivery", "postgres", 2)] / rate[("delivery", "postgres", 1)]
    ingest = rate[("ingest", "postgres", 1)] / rate[("ingest", "sqlite", 1)]
    postgres_scaleout.print_table(results)
    console.print(
        f"PostgreSQL: 2 workers ÷ 1 = {workers:.2f} (target ≥ 1.25); ingest ÷ SQLite's ="
        f" {ingest:.2f} (target ≥ 0.9)"
    )


# --- entry point -------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    add = parser.add_argument
    add("--events", type=int, default=20_000, help="events per baseline, end-to-end, ingest run")
    add("--backlog", type=int, default=100_000, help="events sent in bulk, then drained")
    add("--concurrency", type=int, default=48, help="requests in flight (single events)")
    add("--rate", type=float, default=1000.0, help="events/s offered in the latency step")
    add("--duration", type=float, default=15.0, help="seconds of the latency step")
    add("--repeat", type=int, default=3, help="runs; medians are printed")
    add("--warmup", type=int, default=500, help="unmeasured events sent first")
    add("--phase-timeout", type=float, default=300.0, help="longest a step may send or wait")
    add("--tmp-parent", metavar="DIR", help="where the temp dirs (and databases) go")
    add("--png", type=Path, default=Path(__file__).parent / "targets.png", help="the figure")
    add("--postgres", action="store_true", help="also PostgreSQL's scale-out figures")
    options = parser.parse_args(argv)
    options.server_env = []
    for name in ("events", "backlog", "concurrency", "rate", "duration", "repeat"):
        if getattr(options, name) <= 0:
            parser.error(f"--{name} must be positive")
    return options


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    context = f"{code_under_test()}; load average before start {load_average()}"
    started = time.monotonic()
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started with it ignored
    try:
        runs = []
        for n in range(options.repeat):  # each run on a database of its own, as the first
            with rig(options) as bench:
                warm_up(bench)
                runs.append(one_run(bench, n, options.repeat))
        if options.postgres:
            postgres_figures(options)
    except KeyboardInterrupt:
        console.print("[yellow]interrupted; processes stopped[/yellow]")
        return 130
    except (RuntimeError, TimeoutError, OSError) as exc:
        console.print(f"[red]benchmark failed: {exc}[/red]")
        return 1
    report(runs, f"{context}; {time.monotonic() - started:.0f} s in all")
    _draw(runs, options)
    return 0


def _draw(runs: list[RunFigures], options: argparse.Namespace) -> None:
    try:
        from plots import draw
    except ImportError:
        console.print(
            "[yellow]no PNG: install the bench extra (pip install -e '.[bench]')[/yellow]"
        )
        return
    draw(runs, options.png, f"latency at {options.rate:g} events/s offered")
    console.print(f"figure: {options.png}")


if __name__ == "__main__":
    sys.exit(main())
