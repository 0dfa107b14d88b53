"""Benchmark: events accepted per second, webhooks delivered per second, end-to-end latency.

Starts a loopback webhook receiver and ``sendout serve`` (SQLite in a temp dir), creates one
event schema and one distribution with one webhook channel, then, per repeat:

* baseline: the load generator POSTs the same bodies straight to the receiver
  (raw HTTP round trips/s of this machine, generator + receiver only);
* phase A: ``--events`` POST /v1/events at ``--concurrency``: accepted events/s, and delivered
  webhooks/s from the first send to the last webhook's arrival;
* phase B: open loop at ``--rate`` events/s for ``--duration`` s: end-to-end latency
  (receiver arrival - ``metadata.sent_at``), p50/p90/p99/max.

Prints medians over ``--repeat`` runs. Informative only: exits 0 whether targets are met or not.
Run: ``.venv/bin/python bench/ingest_delivery.py [--events N] [--repeat N] ...``.
"""

from __future__ import annotations

import argparse
import http.client
import importlib.util
import math
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import orjson
from rich.console import Console
from rich.table import Table

import loadgen
import receiver
from loadgen import GenResult, Target
from procs import Child, run_child

APP_ID, APP_TOKEN = "bench-app", "bench-token"
MGMT_ID, MGMT_TOKEN = "bench-mgmt", "bench-mgmt-token"
APP_HEADERS = {"X-App-Id": APP_ID, "X-App-Token": APP_TOKEN, "Content-Type": "application/json"}
MGMT_HEADERS = {"X-Management-Id": MGMT_ID, "X-Management-Token": MGMT_TOKEN}
TARGET_EVENTS_PER_S = 1000.0
TARGET_P99_MS = 250.0
STALL_SECONDS = 30.0

console = Console()


# --- plumbing ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def call(
    port: int,
    method: str,
    path: str,
    headers: dict[str, str] | None = None,
    body: Any = None,
    timeout: float = 30.0,
) -> tuple[int, Any]:
    """One loopback HTTP request; the JSON answer decoded (``None`` when empty)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        headers = dict(headers or {})
        payload = None
        if body is not None:
            payload = orjson.dumps(body)
            headers.setdefault("Content-Type", "application/json")
        conn.request(method, path, body=payload, headers=headers)
        response = conn.getresponse()
        raw = response.read()
    finally:
        conn.close()
    return response.status, orjson.loads(raw) if raw else None


def expect(port: int, method: str, path: str, headers: dict[str, str], body: Any = None) -> Any:
    status, answer = call(port, method, path, headers, body)
    if status != 200:
        raise RuntimeError(f"{method} {path} answered {status}: {answer}")
    return answer


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux ``/proc``); 0.0 elsewhere."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    after_name = stat.rsplit(")", 1)[1].split()
    return (int(after_name[11]) + int(after_name[12])) / os.sysconf("SC_CLK_TCK")


def child_pids(pid: int) -> list[int]:
    """The live children of a process (Linux ``/proc``); [] elsewhere."""
    found: list[int] = []
    with suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            found += [int(c) for c in (task / "children").read_text().split()]
    return found


def machine_busy_seconds() -> float:
    """CPU time spent busy by the whole machine, all cores (Linux ``/proc/stat``); 0.0 elsewhere."""
    try:
        first = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return 0.0
    ticks = [int(v) for v in first]
    idle = ticks[3] + ticks[4]  # idle + iowait
    return (sum(ticks[:8]) - idle) / os.sysconf("SC_CLK_TCK")


class SendoutServer:
    """``python -m sendout serve`` on a free loopback port, SQLite in ``workdir``."""

    def __init__(self, workdir: Path, extra_env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.log_path = workdir / "sendout.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("SENDOUT_")}
        env.update(
            SENDOUT_DATABASE_URL=f"sqlite:///{workdir / 'bench.db'}",
            SENDOUT_APP_ID=APP_ID,
            SENDOUT_APP_TOKEN=APP_TOKEN,
            SENDOUT_MANAGEMENT_ID=MGMT_ID,
            SENDOUT_MANAGEMENT_TOKEN=MGMT_TOKEN,
            SENDOUT_LOG_LEVEL="warning",
            # Newer sendout refuses loopback webhook URLs (SSRF guard) unless opened; older
            # versions ignore the variable.
            SENDOUT_ALLOWED_PRIVATE_NETWORKS="127.0.0.1/32",
        )
        env.update(extra_env or {})
        command = [sys.executable, "-m", "sendout", "serve", "--port", str(self.port)]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command,
                cwd=workdir,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_healthy(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"sendout exited with {self.process.returncode}")
            with suppress(OSError):
                if call(self.port, "GET", "/health", timeout=2)[0] == 200:
                    return
            time.sleep(0.1)
        raise TimeoutError(f"sendout: /health did not answer 200 within {timeout:g} s")

    def cpu(self) -> float:
        """The CPU of ``serve`` and of the worker process it runs as its child."""
        return sum(cpu_seconds(pid) for pid in (self.process.pid, *child_pids(self.process.pid)))

    def log_tail(self, lines: int = 30) -> str:
        with suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


# --- the rig: receiver + server + configuration ------------------------------------------------


@dataclass
class Rig:
    server: SendoutServer
    receiver_port: int
    options: argparse.Namespace
    receiver_cpu: float = 0.0
    receiver_cpu_delta: float = 0.0

    @property
    def hook_url(self) -> str:
        return f"http://127.0.0.1:{self.receiver_port}/hook"

    @property
    def events_target(self) -> Target:
        return Target(f"http://127.0.0.1:{self.server.port}/v1/events", APP_HEADERS)

    def take(self) -> list[tuple[str | None, float, float | None]]:
        """Hand over the receiver's records (and forget them there)."""
        answer = expect(self.receiver_port, "POST", "/_take", {})
        self.receiver_cpu, previous = answer["cpu_seconds"], self.receiver_cpu
        self.receiver_cpu_delta = self.receiver_cpu - previous
        return [tuple(r) for r in answer["records"]]

    def distinct_received(self) -> int:
        return int(expect(self.receiver_port, "GET", "/_count", {})["distinct"])


def configure(server: SendoutServer, hook_url: str) -> None:
    """Event schema ``bench_event`` and one distribution that webhooks every such event."""
    projects = expect(server.port, "GET", "/management/v1/projects", MGMT_HEADERS)
    project_id = projects["data"][0]["id"]
    schema = {
        "name": "bench_event",
        "schema": {"properties": {"sent_at": {"type": "number", "optional": True}}},
    }
    expect(
        server.port,
        "POST",
        f"/management/v1/projects/{project_id}/custom-event-schemas",
        MGMT_HEADERS,
        schema,
    )
    distribution = {
        "name": "bench",
        "trigger": {"type": "customer.custom_event", "event": "bench_event"},
        "action": {"type": "plain_message"},
        "channels": [{"type": "webhook", "event_name": "bench", "url": hook_url}],
    }
    expect(server.port, "POST", "/v1/distributions", APP_HEADERS, distribution)


@contextmanager
def rig(options: argparse.Namespace) -> Iterator[Rig]:
    with ExitStack() as stack:
        parent = getattr(options, "tmp_parent", None)
        workdir = Path(
            stack.enter_context(tempfile.TemporaryDirectory(prefix="sendout-bench-", dir=parent))
        )
        hooks = Child("receiver", receiver.run)
        stack.callback(hooks.stop)
        receiver_port = int(hooks.receive(30))
        server = SendoutServer(workdir, dict(getattr(options, "server_env", [])))
        stack.callback(server.stop)
        try:
            server.wait_healthy()
            bench = Rig(server, receiver_port, options)
            configure(server, bench.hook_url)
            yield bench
        except Exception:
            console.print(f"[red]sendout log (last lines):[/red]\n{server.log_tail()}")
            raise


# --- measurements ------------------------------------------------------------------------------


def generate(rig: Rig, kind: str, target: Target, **options: Any) -> GenResult:
    timeout = rig.options.phase_timeout + 60
    result: GenResult = run_child(f"loadgen-{kind}", loadgen.run, (kind, target, options), timeout)
    return result


def closed(rig: Rig, target: Target, count: int) -> GenResult:
    deadline = rig.options.phase_timeout
    return generate(
        rig, "closed", target, count=count, concurrency=rig.options.concurrency, deadline=deadline
    )


def wait_delivered(rig: Rig, expected: int) -> None:
    """Until ``expected`` distinct webhooks arrived, nothing arrived for a while, or timeout."""
    deadline = time.monotonic() + rig.options.phase_timeout
    seen, progress_at = -1, time.monotonic()
    while time.monotonic() < deadline:
        now_seen = rig.distinct_received()
        if now_seen >= expected:
            return
        if now_seen != seen:
            seen, progress_at = now_seen, time.monotonic()
        elif time.monotonic() - progress_at > STALL_SECONDS:
            return
        time.sleep(0.05)


def first_arrivals(
    records: list[tuple[str | None, float, float | None]],
) -> dict[str, tuple[float, float | None]]:
    """Per webhook id: its first arrival time and ``sent_at`` (retries/duplicates ignored)."""
    first: dict[str, tuple[float, float | None]] = {}
    for webhook_id, arrived, sent_at in records:
        if webhook_id is not None and (webhook_id not in first or arrived < first[webhook_id][0]):
            first[webhook_id] = (arrived, sent_at)
    return first


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


@dataclass
class RunFigures:
    baseline_rps: float = math.nan
    accepted_rps: float = math.nan
    delivered_rps: float = math.nan
    ratio: float = math.nan
    drain_s: float = math.nan
    a_failed: float = 0
    a_missing: float = 0
    a_duplicates: float = 0
    cpu_sendout: float = math.nan
    cpu_loadgen: float = math.nan
    cpu_receiver: float = math.nan
    cpu_other: float = math.nan
    cpu_ms_per_event: float = math.nan
    b_rate: float = math.nan
    b_lag_ms: float = math.nan
    b_p50: float = math.nan
    b_p90: float = math.nan
    b_p99: float = math.nan
    b_max: float = math.nan
    b_failed: float = 0
    b_missing: float = 0
    baseline_failed: float = 0
    problems: Counter[str] = field(default_factory=Counter)


def note_failures(figures: RunFigures, phase: str, result: GenResult) -> None:
    for status, n in result.statuses.items():
        if status != 200:
            figures.problems[f"{phase}: HTTP {status}"] += n
    for error, n in result.errors.items():
        figures.problems[f"{phase}: {error}"] += n


def measure_baseline(rig: Rig, figures: RunFigures) -> None:
    rig.take()
    result = closed(rig, Target(rig.hook_url, APP_HEADERS), rig.options.events)
    rig.take()
    figures.baseline_rps = result.ok / result.elapsed
    figures.baseline_failed = result.failed
    note_failures(figures, "baseline", result)


def cpu_shares(
    rig: Rig, figures: RunFigures, since: tuple[float, float], gen_cpu: float, wall: float
) -> None:
    """CPU of each process over ``wall`` seconds, as % of one core; ``since``: (server, machine)."""
    figures.cpu_sendout = 100 * (rig.server.cpu() - since[0]) / wall
    figures.cpu_loadgen = 100 * gen_cpu / wall
    figures.cpu_receiver = 100 * rig.receiver_cpu_delta / wall
    busy = 100 * (machine_busy_seconds() - since[1]) / wall
    figures.cpu_other = busy - figures.cpu_sendout - figures.cpu_loadgen - figures.cpu_receiver


def measure_throughput(rig: Rig, figures: RunFigures) -> None:
    rig.take()
    since = rig.server.cpu(), machine_busy_seconds()
    result = closed(rig, rig.events_target, rig.options.events)
    wait_delivered(rig, result.ok)
    records = rig.take()
    first = first_arrivals(records)
    last = max((arrived for arrived, _ in first.values()), default=math.nan)
    wall = last - result.started
    figures.accepted_rps = result.ok / result.elapsed
    figures.delivered_rps = len(first) / wall
    figures.drain_s = last - result.finished
    figures.a_failed, figures.a_missing = result.failed, max(0, result.ok - len(first))
    figures.a_duplicates = len(records) - len(first)
    cpu_shares(rig, figures, since, result.cpu_seconds, wall)
    figures.cpu_ms_per_event = 1000 * (rig.server.cpu() - since[0]) / max(len(first), 1)
    note_failures(figures, "phase A", result)


def measure_latency(rig: Rig, figures: RunFigures) -> None:
    rig.take()
    options = rig.options
    deadline = options.duration + options.phase_timeout
    result = generate(
        rig,
        "paced",
        rig.events_target,
        rate=options.rate,
        duration=options.duration,
        deadline=deadline,
    )
    wait_delivered(rig, result.ok)
    first = first_arrivals(rig.take())
    latencies = [1000 * (a - s) for a, s in first.values() if s is not None]
    figures.b_rate = result.sent / max(options.duration, 1e-9)
    figures.b_lag_ms = result.max_lag_ms
    figures.b_p50, figures.b_p90 = percentile(latencies, 50), percentile(latencies, 90)
    figures.b_p99, figures.b_max = percentile(latencies, 99), max(latencies, default=math.nan)
    figures.b_failed, figures.b_missing = result.failed, max(0, result.ok - len(first))
    note_failures(figures, "phase B", result)


def warm_up(rig: Rig) -> None:
    if rig.options.warmup > 0:
        rig.take()
        result = closed(rig, rig.events_target, rig.options.warmup)
        wait_delivered(rig, result.ok)
        rig.take()
    time.sleep(getattr(rig.options, "settle", 0.0))  # let the warm-up's writes settle first


def one_run(rig: Rig, n: int) -> RunFigures:
    figures = RunFigures()
    steps: list[tuple[str, Callable[[Rig, RunFigures], None]]] = [
        ("baseline", measure_baseline),
        ("phase A (throughput)", measure_throughput),
        ("phase B (latency)", measure_latency),
    ]
    for name, step in steps:
        console.print(f"[dim]run {n + 1}/{rig.options.repeat}: {name}…[/dim]")
        step(rig, figures)
    figures.ratio = figures.accepted_rps / figures.baseline_rps
    return figures


# --- report ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    label: str
    attr: str
    fmt: str
    total: bool = False  # counts: summed over runs instead of the median
    target: str = ""
    meets: Callable[[float], bool] | None = None


ROWS = [
    Row("baseline: raw round trips/s", "baseline_rps", "{:,.0f}"),
    Row(
        "A: accepted events/s",
        "accepted_rps",
        "{:,.0f}",
        target="≥ 1,000",
        meets=lambda v: v >= TARGET_EVENTS_PER_S,
    ),
    Row("A: accepted ÷ baseline", "ratio", "{:.3f}"),
    Row(
        "A: delivered webhooks/s (e2e)",
        "delivered_rps",
        "{:,.0f}",
        target="≥ 1,000",
        meets=lambda v: v >= TARGET_EVENTS_PER_S,
    ),
    Row("A: drain after last 200 (s)", "drain_s", "{:.2f}"),
    Row("A: sendout CPU ms per event", "cpu_ms_per_event", "{:.2f}"),
    Row("A: CPU % sendout", "cpu_sendout", "{:.0f}"),
    Row("A: CPU % loadgen", "cpu_loadgen", "{:.0f}"),
    Row("A: CPU % receiver", "cpu_receiver", "{:.0f}"),
    Row("A: CPU % rest of machine", "cpu_other", "{:.0f}"),
    Row("A: non-200 / failed (sum)", "a_failed", "{:.0f}", total=True),
    Row("A: accepted, undelivered (sum)", "a_missing", "{:.0f}", total=True),
    Row("A: duplicate deliveries (sum)", "a_duplicates", "{:.0f}", total=True),
    Row("B: offered events/s", "b_rate", "{:,.1f}"),
    Row("B: generator max lag (ms)", "b_lag_ms", "{:.1f}"),
    Row("B: e2e latency p50 (ms)", "b_p50", "{:.1f}"),
    Row("B: e2e latency p90 (ms)", "b_p90", "{:.1f}"),
    Row(
        "B: e2e latency p99 (ms)",
        "b_p99",
        "{:.1f}",
        target="≤ 250",
        meets=lambda v: v <= TARGET_P99_MS,
    ),
    Row("B: e2e latency max (ms)", "b_max", "{:.1f}"),
    Row("B: non-200 / failed (sum)", "b_failed", "{:.0f}", total=True),
    Row("B: accepted, undelivered (sum)", "b_missing", "{:.0f}", total=True),
    Row("baseline: failed (sum)", "baseline_failed", "{:.0f}", total=True),
]


def summary(row: Row, values: list[float]) -> float:
    if row.total:
        return float(sum(values))
    finite = [v for v in values if not math.isnan(v)]
    return statistics.median(finite) if finite else math.nan


def verdict(row: Row, value: float) -> str:
    if row.meets is None:
        return ""
    if not math.isnan(value) and row.meets(value):
        return "[green]PASS[/green]"
    return "[red]MISS[/red]"


def report(runs: list[RunFigures], options: argparse.Namespace, context: str) -> None:
    table = Table(title=f"sendout ingest → delivery: medians of {len(runs)} run(s)")
    table.add_column("measure")
    for name in ("median", "each run", "target"):
        table.add_column(name, justify="right")
    table.add_column("")
    for row in ROWS:
        values = [float(getattr(run, row.attr)) for run in runs]
        value = summary(row, values)
        each = " ".join(row.fmt.format(v) for v in values)
        table.add_row(row.label, row.fmt.format(value), each, row.target, verdict(row, value))
    console.print(table)
    problems = sum((run.problems for run in runs), Counter[str]())
    for problem, n in sorted(problems.items()):
        console.print(f"[yellow]{problem}: {n}[/yellow]")
    console.print(
        f"[dim]{os.cpu_count()} CPU(s), Python {platform.python_version()}; events={options.events}"
        f" concurrency={options.concurrency} rate={options.rate:g}/s duration={options.duration:g} s"
        f" warmup={options.warmup}; {context}. Targets are informative only.[/dim]"
    )


# --- entry point -------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--events", type=int, default=20000, help="events per throughput run (phase A and baseline)"
    )
    parser.add_argument(
        "--concurrency", type=int, default=48, help="requests in flight in phase A and baseline"
    )
    parser.add_argument("--rate", type=float, default=200.0, help="events/s offered in phase B")
    parser.add_argument("--duration", type=float, default=15.0, help="seconds of phase B")
    parser.add_argument("--repeat", type=int, default=3, help="runs; medians are printed")
    parser.add_argument("--warmup", type=int, default=500, help="unmeasured events sent first")
    parser.add_argument(
        "--settle", type=float, default=0.0, help="seconds to wait after the warm-up [default: 0]"
    )
    parser.add_argument(
        "--phase-timeout",
        type=float,
        default=300.0,
        help="seconds a phase (sending or waiting for deliveries) may take at most",
    )
    parser.add_argument(
        "--tmp-parent",
        metavar="DIR",
        help="where to make the temp dir holding the database (e.g. /dev/shm to take the disk out) [default: the system's]",
    )
    parser.add_argument(
        "--server-env",
        action="append",
        type=env_pair,
        default=[],
        metavar="SENDOUT_X=VALUE",
        help="extra environment for sendout serve (repeatable), to try a setting",
    )
    options = parser.parse_args(argv)
    for name in ("events", "concurrency", "rate", "duration", "repeat", "phase_timeout"):
        if getattr(options, name) <= 0:
            parser.error(f"--{name.replace('_', '-')} must be positive")
    return options


def env_pair(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name.startswith("SENDOUT_"):
        raise argparse.ArgumentTypeError(f"expected SENDOUT_NAME=VALUE, got {text!r}")
    return name, value


def code_under_test() -> str:
    """Where ``sendout`` is imported from (as the server will import it) and its git state."""
    spec = importlib.util.find_spec("sendout")
    if spec is None or spec.origin is None:
        return "sendout: not importable"
    where = Path(spec.origin).parent
    try:
        head = subprocess.run(
            ["git", "-C", str(where), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(where), "status", "--porcelain", "--", "."],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return f"sendout from {where}"
    return f"sendout from {where} (git {head}{', uncommitted changes' if dirty else ''})"


def load_average() -> str:
    """1-minute load average: other work on the machine skews every figure."""
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except OSError:
        return "n/a"


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    context = f"{code_under_test()}; load average before start {load_average()}"
    if options.tmp_parent:
        context += f"; database under {options.tmp_parent}"
    if options.server_env:
        context += "; server env " + " ".join(f"{k}={v}" for k, v in options.server_env)
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started with it ignored
    try:
        with rig(options) as bench:
            warm_up(bench)
            runs = [one_run(bench, n) for n in range(options.repeat)]
    except KeyboardInterrupt:
        console.print("[yellow]interrupted; processes stopped[/yellow]")
        return 130
    except (RuntimeError, TimeoutError, OSError) as exc:
        console.print(f"[red]benchmark failed: {exc}[/red]")
        return 1
    report(runs, options, context)
    return 0


if __name__ == "__main__":
    sys.exit(main())
