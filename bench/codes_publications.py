"""Benchmark: generating codes for one campaign, and publishing codes through distributions.

Starts the same rig as ``ingest_delivery.py`` (loopback receiver + ``sendout serve`` on SQLite
in a temp dir, event schema ``bench_event``, a plain distribution ``bench``), then, per repeat:

* codes, baseline: the pure generator alone, in this process (``generate_codes`` + voucher ids
  for ``--codes`` codes): what generation costs before any storage;
* codes: ``POST /v1/campaigns`` with ``vouchers_count = --codes`` (a STATIC campaign, default
  code config: 8 alphanumerics): wall time of the whole request, which generates and commits
  every code before it answers. Target: 1,000,000 codes in at most 30 s.
* publications, baseline: ``--events`` events at ``--concurrency`` with only the plain
  distribution active: events/s of the plain pipeline on this machine, this run;
* publications: the same load with only a ``publish_unique_code`` distribution active (its
  STATIC campaign holds enough codes): each accepted event claims one code and writes one
  publication in the event's transaction. Figure: publications/s = accepted events / time.
  Target: at least 500/s.

After the runs it checks, in the database, that no code was published twice and that every
publication has its webhook, and prints medians with ratios to the baselines. Informative
only: exits 0 whether targets are met or not.
Run: ``.venv/bin/python bench/codes_publications.py [--codes N] [--events N] [--repeat N]``.
"""

from __future__ import annotations

import argparse
import math
import signal
import sqlite3
import statistics
import sys
import time
from pathlib import Path

from rich.table import Table

from ingest_delivery import (
    APP_HEADERS,
    Rig,
    _interrupt,
    closed,
    console,
    expect,
    load_average,
    rig,
    wait_delivered,
)
from sendout.promotions import ids as pids
from sendout.promotions.codes import code_config, generate_codes

TARGET_CODES_S = 30.0
TARGET_PUBLICATIONS_PER_S = 500.0


def generation_baseline(count: int) -> float:
    started = time.perf_counter()
    generate_codes(code_config(None), count)
    pids.voucher_ids(count)
    return time.perf_counter() - started


def create_codes(bench: Rig, count: int, n: int) -> float:
    body = {
        "name": f"bench-codes-{n}",
        "campaign_type": "DISCOUNT_COUPONS",
        "type": "STATIC",
        "vouchers_count": count,
        "voucher": {"discount": {"type": "PERCENT", "percent_off": 10}},
    }
    started = time.perf_counter()
    expect(bench.server.port, "POST", "/v1/campaigns", APP_HEADERS, body)
    return time.perf_counter() - started


def set_status(bench: Rig, distribution_id: str, status: str) -> None:
    """Switch a distribution on or off (``resume`` refuses one that is live, so PUT it)."""
    path = f"/v1/distributions/{distribution_id}"
    expect(bench.server.port, "PUT", path, APP_HEADERS, {"status": status})


def publishing_setup(bench: Rig, pool: int) -> tuple[str, str]:
    """A STATIC campaign of ``pool`` codes and a paused publish distribution; plain's id."""
    port = bench.server.port
    campaign = expect(
        port,
        "POST",
        "/v1/campaigns",
        APP_HEADERS,
        {
            "name": "bench-pool",
            "campaign_type": "DISCOUNT_COUPONS",
            "type": "STATIC",
            "vouchers_count": pool,
            "voucher": {"discount": {"type": "AMOUNT", "amount_off": 500}},
        },
    )
    publish = expect(
        port,
        "POST",
        "/v1/distributions",
        APP_HEADERS,
        {
            "name": "bench-publish",
            "trigger": {"type": "customer.custom_event", "event": "bench_event"},
            "action": {"type": "publish_unique_code", "campaign_id": campaign["id"]},
            "channels": [{"type": "webhook", "event_name": "code", "url": bench.hook_url}],
            "status": "PAUSED",
        },
    )
    listed = expect(port, "GET", "/v1/distributions?limit=100", APP_HEADERS)
    plain = next(d["id"] for d in listed["distributions"] if d["name"] == "bench")
    return plain, publish["id"]


def rate(bench: Rig, events: int) -> tuple[float, int]:
    result = closed(bench, bench.events_target, events)
    return result.ok / result.elapsed, result.failed


def database_check(database: Path) -> tuple[int, int, int, int]:
    """Publications, distinct published codes, codes with a holder, publish webhooks."""
    conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        pubs, distinct = conn.execute(
            "SELECT COUNT(*), COUNT(DISTINCT voucher_id) FROM publication_vouchers"
        ).fetchone()
        held = conn.execute("SELECT COUNT(*) FROM vouchers WHERE holder_id IS NOT NULL").fetchone()
        hooks = conn.execute("SELECT COUNT(*) FROM deliveries WHERE event_name = 'code'").fetchone()
        return int(pubs), int(distinct), int(held[0]), int(hooks[0])
    finally:
        conn.close()


def median(values: list[float]) -> float:
    finite = [v for v in values if not math.isnan(v)]
    return statistics.median(finite) if finite else math.nan


def report(figures: dict[str, list[float]], checks: tuple[int, int, int, int], options: argparse.Namespace, load: str) -> None:  # fmt: skip
    table = Table(title=f"codes and publications (load average before: {load})")
    for column in ("measure", "median", "runs", "target", "verdict"):
        table.add_column(column)

    def row(name: str, key: str, unit: str, target: str = "", ok: bool | None = None) -> None:
        values = figures[key]
        verdict = "" if ok is None else ("PASS" if ok else "MISS")
        runs = ", ".join(f"{v:.2f}" for v in values)
        table.add_row(name, f"{median(values):.2f} {unit}", runs, target, verdict)

    codes_s = median(figures["codes_s"])
    pubs = median(figures["publications_per_s"])
    row(f"generate {options.codes:,} codes (pure, baseline)", "generation_s", "s")
    row(f"POST /v1/campaigns with {options.codes:,} codes", "codes_s", "s", f"<= {TARGET_CODES_S:g} s", codes_s <= TARGET_CODES_S)  # fmt: skip
    figures["codes_ratio"] = [c / g for c, g in zip(figures["codes_s"], figures["generation_s"], strict=True)]  # fmt: skip
    row("  ratio to the pure generator", "codes_ratio", "x")
    row("events/s, plain distribution (baseline)", "plain_per_s", "/s")
    row("publications/s via publish_unique_code", "publications_per_s", "/s", f">= {TARGET_PUBLICATIONS_PER_S:g}/s", pubs >= TARGET_PUBLICATIONS_PER_S)  # fmt: skip
    figures["pub_ratio"] = [p / b for p, b in zip(figures["publications_per_s"], figures["plain_per_s"], strict=True)]  # fmt: skip
    row("  ratio to the plain pipeline", "pub_ratio", "x")
    console.print(table)
    publications, distinct, held, hooks = checks
    ok = publications == distinct == held == hooks
    console.print(
        f"publications {publications}, distinct codes published {distinct}, codes with a holder"
        f" {held}, publish webhooks {hooks}, failed requests {int(sum(figures['failed']))}:"
        f" {'no duplicate' if ok else 'MISMATCH'}"
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--codes", type=int, default=1_000_000, help="codes per campaign")
    parser.add_argument("--events", type=int, default=10_000, help="events per publishing run")
    parser.add_argument("--concurrency", type=int, default=48, help="requests in flight")
    parser.add_argument("--repeat", type=int, default=3, help="runs; medians are printed")
    parser.add_argument("--phase-timeout", type=float, default=300.0, help="seconds per phase")
    options = parser.parse_args(argv)
    for name in ("codes", "events", "concurrency", "repeat", "phase_timeout"):
        if getattr(options, name) <= 0:
            parser.error(f"--{name.replace('_', '-')} must be positive")
    return options


def one_run(bench: Rig, options: argparse.Namespace, plain: str, publish: str, n: int, figures: dict[str, list[float]]) -> None:  # fmt: skip
    figures["generation_s"].append(generation_baseline(options.codes))
    figures["codes_s"].append(create_codes(bench, options.codes, n))
    set_status(bench, publish, "PAUSED")
    set_status(bench, plain, "ACTIVE")
    plain_rate, plain_failed = rate(bench, options.events)
    set_status(bench, plain, "PAUSED")
    set_status(bench, publish, "ACTIVE")
    publish_rate, publish_failed = rate(bench, options.events)
    figures["plain_per_s"].append(plain_rate)
    figures["publications_per_s"].append(publish_rate)
    figures["failed"].append(plain_failed + publish_failed)


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    load = load_average()
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    figures: dict[str, list[float]] = {
        k: [] for k in ("generation_s", "codes_s", "plain_per_s", "publications_per_s", "failed")
    }
    try:
        with rig(options) as bench:
            plain, publish = publishing_setup(bench, options.events * options.repeat + 100)
            for n in range(options.repeat):
                one_run(bench, options, plain, publish, n, figures)
            set_status(bench, plain, "ACTIVE")
            published = options.events * options.repeat
            wait_delivered(bench, published * 2)
            database = Path(bench.server.log_path).parent / "bench.db"
            checks = database_check(database)
    except KeyboardInterrupt:
        console.print("[yellow]interrupted; processes stopped[/yellow]")
        return 130
    except (RuntimeError, TimeoutError, OSError) as exc:
        console.print(f"[red]benchmark failed: {exc}[/red]")
        return 1
    report(figures, checks, options, load)
    return 0


if __name__ == "__main__":
    sys.exit(main())
