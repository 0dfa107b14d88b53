"""Benchmark: does sendout scale out on PostgreSQL? (Not a test; loopback only, bounded.)

Delivery: with the worker off (``serve --no-worker``) a backlog of ``--backlog`` deliveries is
filled through the API; then 1, 2 or 4 ``sendout worker`` processes drain it into an aiohttp
receiver (``--receivers`` processes sharing one port). Throughput = webhooks between the first
and the last arrival / that time. CPU seconds of every party over the drain say where time goes.

Ingest: ``--events`` POST /v1/events at ``--concurrency`` (keep-alive, aiohttp) spread over 1 or
2 ``serve --no-worker`` processes, after ``--warmup`` unmeasured ones; accepted events/s.

On PostgreSQL each run ``ANALYZE``s once its database holds data (the backlog, or the warm-up),
as autovacuum would on a server where it is on (see :func:`analyze`).

The same single-process figures on SQLite stand beside them. Medians over ``--repeat`` runs;
exits 0 whether targets are met or not. Run: ``.venv/bin/python bench/postgres_scaleout.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import http.client
import multiprocessing
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from multiprocessing.sharedctypes import Synchronized
from pathlib import Path
from typing import Any

import orjson

APP = {"X-App-Id": "bench-app", "X-App-Token": "bench-token", "Content-Type": "application/json"}
MGMT = {
    "X-Management-Id": "bench-mgmt",
    "X-Management-Token": "bench-mgmt-token",
    "Content-Type": "application/json",
}
ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
SPAWN = multiprocessing.get_context("spawn")
WARMUP = 2000  # unmeasured events before an ingest run: PostgreSQL then has data to ANALYZE


# --- the receiver: its own processes, one port (SO_REUSEPORT), shared counters -------------------


def receiver_main(port: int, count: Any, first: Any, last: Any) -> None:
    from aiohttp import web

    async def hook(request: web.Request) -> web.Response:
        await request.read()
        now = time.time()
        with count.get_lock():
            count.value += 1
            if first.value == 0.0:
                first.value = now
            last.value = max(last.value, now)
        return web.Response(status=200)

    async def serve() -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(("127.0.0.1", port))
        app = web.Application()
        app.router.add_post("/hook", hook)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        await web.SockSite(runner, sock, backlog=1024).start()
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        await stop.wait()
        await runner.cleanup()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())


@dataclass
class Receivers:
    port: int
    count: Synchronized[int]
    first: Synchronized[float]
    last: Synchronized[float]
    processes: list[Any] = field(default_factory=list)

    @classmethod
    def start(cls, n: int) -> Receivers:
        r = cls(free_port(), SPAWN.Value("q", 0), SPAWN.Value("d", 0.0), SPAWN.Value("d", 0.0))
        for _ in range(n):
            p = SPAWN.Process(target=receiver_main, args=(r.port, r.count, r.first, r.last))
            p.daemon = True
            p.start()
            r.processes.append(p)
        wait_port(r.port)
        return r

    def reset(self) -> None:
        with self.count.get_lock():
            self.count.value, self.first.value, self.last.value = 0, 0.0, 0.0

    def stop(self) -> None:
        for p in self.processes:
            p.terminate()
            p.join(5)


# --- the load generator: its own process, aiohttp keep-alive -------------------------------------


def loadgen_main(ports: list[int], count: int, concurrency: int, prefix: str, out: Any) -> None:
    import aiohttp

    async def generate() -> tuple[int, float]:
        ok = 0
        refused: collections.Counter[str] = collections.Counter()
        numbers = iter(range(count))
        connector = aiohttp.TCPConnector(limit=concurrency)
        async with aiohttp.ClientSession(connector=connector) as session:

            async def one_worker(w: int) -> None:
                nonlocal ok
                url = f"http://127.0.0.1:{ports[w % len(ports)]}/v1/events"
                for i in numbers:
                    body = orjson.dumps(
                        {"event": "bench_event", "customer": {"source_id": f"{prefix}{i}"}}
                    )
                    async with session.post(url, data=body, headers=APP) as response:
                        answer = await response.read()
                        ok += response.status == 200
                        if response.status != 200:
                            refused[why(response.status, answer)] += 1

            started = time.perf_counter()
            await asyncio.gather(*(one_worker(w) for w in range(concurrency)))
            seconds = time.perf_counter() - started
        print_refused(refused, "event(s)")
        return ok, seconds

    out.send(asyncio.run(generate()))
    out.close()


def why(status: int, answer: bytes) -> str:
    """A refused request's answer as :func:`reason` counts it."""
    try:
        return reason(status, orjson.loads(answer))
    except orjson.JSONDecodeError:
        return reason(status, answer.decode(errors="replace"))


def reason(status: int, error: Any) -> str:
    """A refusal without its request id, so that alike refusals count as one reason."""
    if isinstance(error, dict):
        return f"{status} {error.get('key')}: {error.get('details')}"
    return f"{status} {str(error)[:200]}"


def print_refused(refused: collections.Counter[str], what: str) -> None:
    """What went wrong, should anything have: the commonest reasons, and how many in all."""
    for text, n in refused.most_common(5):
        print(f"refused {n} {what}: {text}", file=sys.stderr)
    if refused:
        print(f"refused {sum(refused.values())} {what} in all", file=sys.stderr)


def generate_load(
    ports: list[int], count: int, concurrency: int, prefix: str = "c"
) -> tuple[int, float]:
    """Events accepted and seconds taken; each event names a new customer ``{prefix}{n}``."""
    reader, writer = SPAWN.Pipe(duplex=False)
    args = (ports, count, concurrency, prefix, writer)
    p = SPAWN.Process(target=loadgen_main, args=args, daemon=True)
    p.start()
    writer.close()
    if not reader.poll(600):
        p.kill()
        raise TimeoutError("load generator did not finish in 600 s")
    ok, seconds = reader.recv()
    p.join(10)
    return int(ok), float(seconds)


# --- sendout processes and databases -------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def call(port: int, method: str, path: str, headers: dict[str, str], body: Any = None) -> Any:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(
            method, path, body=None if body is None else orjson.dumps(body), headers=headers
        )
        response = conn.getresponse()
        raw = response.read()
    finally:
        conn.close()
    if response.status != 200:
        raise RuntimeError(f"{method} {path}: {response.status} {raw[:300]!r}")
    return orjson.loads(raw) if raw else None


class Sendout:
    """One ``python -m sendout …`` process with the benchmark's settings."""

    def __init__(self, workdir: Path, url: str, *args: str) -> None:
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("SENDOUT_")}
        env.update(
            SENDOUT_DATABASE_URL=url,
            SENDOUT_APP_ID="bench-app",
            SENDOUT_APP_TOKEN="bench-token",
            SENDOUT_MANAGEMENT_ID="bench-mgmt",
            SENDOUT_MANAGEMENT_TOKEN="bench-mgmt-token",
            SENDOUT_WEBHOOK_SECRET="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            SENDOUT_LOG_LEVEL="warning",
            SENDOUT_POLL_INTERVAL="0.05",
            SENDOUT_ALLOWED_PRIVATE_NETWORKS="127.0.0.0/8",  # the receivers are on loopback
        )
        command = [sys.executable, "-m", "sendout", *args]
        if args[0] == "serve":
            command += ["--port", str(self.port), "--no-worker"]
        self.log = (workdir / f"{args[0]}-{self.port}.log").open("ab")
        self.process = subprocess.Popen(command, env=env, stdout=self.log, stderr=self.log)
        if args[0] == "serve":
            wait_port(self.port)

    def cpu(self) -> float:
        return cpu_seconds(self.process.pid)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def postgres_cpu() -> float:
    """CPU seconds of every process named ``postgres`` (the server and its backends)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if (entry / "comm").read_text().strip() == "postgres":
                    total += cpu_seconds(int(entry.name))
    return total


@contextlib.contextmanager
def database(backend: str, workdir: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{workdir / f'{uuid.uuid4().hex}.db'}"
        return
    name = f"sendout_bench_{uuid.uuid4().hex[:10]}"
    execute(ADMIN_URL, f'CREATE DATABASE "{name}"')
    try:
        yield ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        execute(ADMIN_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def execute(url: str, sql: str) -> None:
    """Run one statement on the PostgreSQL database at ``url``, on a connection of its own."""
    import asyncpg

    async def run() -> None:
        conn = await asyncpg.connect(url)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run())


def analyze(url: str) -> None:
    """On PostgreSQL, what autovacuum does on a server where it is on: statistics for the planner.

    This machine's server runs with autovacuum off, and a run is shorter than autovacuum's naptime
    anyway; without statistics the planner guesses, and a plan a connection keeps can read every
    customer for every batch (docs/operations.md, "Statistics"). SQLite needs nothing of the
    kind."""
    if url.startswith("postgresql"):
        execute(url, "ANALYZE")


def configure(api: Sendout, receiver_port: int) -> None:
    project = call(api.port, "GET", "/management/v1/projects", MGMT)["data"][0]["id"]
    call(
        api.port,
        "POST",
        f"/management/v1/projects/{project}/custom-event-schemas",
        MGMT,
        {"name": "bench_event", "schema": {"properties": {}}},
    )
    channel = {
        "type": "webhook",
        "event_name": "bench",
        "url": f"http://127.0.0.1:{receiver_port}/hook",
    }
    call(
        api.port,
        "POST",
        "/v1/distributions",
        APP,
        {
            "name": "bench",
            "trigger": {"type": "customer.custom_event", "event": "bench_event"},
            "action": {"type": "plain_message"},
            "channels": [channel],
        },
    )


# --- the two measurements --------------------------------------------------------------------------


@dataclass
class Run:
    per_second: float
    cpu: dict[str, float] = field(default_factory=dict)


def delivery_run(
    backend: str, workers: int, args: argparse.Namespace, r: Receivers, tmp: Path
) -> Run:
    with database(backend, tmp) as url:
        api = Sendout(tmp, url, "serve")
        try:
            configure(api, r.port)
            ok, _ = generate_load([api.port], args.backlog, args.concurrency)
            assert ok == args.backlog, f"backlog: {ok} of {args.backlog} accepted"
        finally:
            api.stop()
        analyze(url)
        r.reset()
        procs = [Sendout(tmp, url, "worker") for _ in range(workers)]
        try:
            deadline = time.monotonic() + args.timeout
            while r.count.value == 0 and time.monotonic() < deadline:
                time.sleep(0.005)
            cpu0 = cpu_snapshot(procs, r)  # from the first arrival: start-up costs left out
            while r.count.value < args.backlog and time.monotonic() < deadline:
                time.sleep(0.02)
            cpu = {k: v - cpu0[k] for k, v in cpu_snapshot(procs, r).items()}
        finally:
            for p in procs:
                p.stop()
        got, seconds = r.count.value, max(r.last.value - r.first.value, 1e-9)
        if got < args.backlog:
            print(f"  ! {backend} x{workers}: only {got} of {args.backlog} delivered", flush=True)
        return Run((got - 1) / seconds, {k: v / seconds for k, v in cpu.items()})


def cpu_snapshot(workers: list[Sendout], r: Receivers) -> dict[str, float]:
    return {
        "workers": sum(p.cpu() for p in workers),
        "receivers": sum(cpu_seconds(p.pid) for p in r.processes),
        "postgres": postgres_cpu(),
    }


def ingest_run(backend: str, apis: int, args: argparse.Namespace, r: Receivers, tmp: Path) -> Run:
    with database(backend, tmp) as url:
        servers = [Sendout(tmp, url, "serve") for _ in range(apis)]
        try:
            configure(servers[0], r.port)
            ok, _ = generate_load([s.port for s in servers], args.warmup, args.concurrency, "w")
            assert ok == args.warmup, f"warm-up: {ok} of {args.warmup} accepted"
            analyze(url)
            cpu0 = sum(s.cpu() for s in servers), postgres_cpu()
            ok, seconds = generate_load([s.port for s in servers], args.events, args.concurrency)
            cpu = {
                "api": sum(s.cpu() for s in servers) - cpu0[0],
                "postgres": postgres_cpu() - cpu0[1],
            }
        finally:
            for s in servers:
                s.stop()
        return Run(ok / seconds, {k: v / seconds for k, v in cpu.items()})


# --- orchestration and the table -------------------------------------------------------------------


def measure(
    kind: str, backend: str, n: int, args: argparse.Namespace, r: Receivers, tmp: Path
) -> list[Run]:
    runs = []
    for i in range(args.repeat):
        run = (delivery_run if kind == "delivery" else ingest_run)(backend, n, args, r, tmp)
        print(f"  {kind:8} {backend:8} x{n} run {i + 1}: {run.per_second:8.0f}/s", flush=True)
        runs.append(run)
    return runs


def print_table(results: dict[tuple[str, str, int], list[Run]]) -> None:
    reference = {"delivery": ("delivery", "postgres", 1), "ingest": ("ingest", "sqlite", 1)}
    baseline = {
        kind: statistics.median(r.per_second for r in results[step])
        for kind, step in reference.items()
        if step in results
    }
    print()
    print(
        f"{'measure':9} {'backend':9} {'procs':>5} {'median/s':>9} {'ratio':>6}  runs/s   | CPU cores used while measuring"
    )
    for (kind, backend, n), runs in results.items():
        median = statistics.median(r.per_second for r in runs)
        against = "x 1 PG worker" if kind == "delivery" else "x SQLite"
        each = ", ".join(f"{r.per_second:.0f}" for r in runs)
        cpu = " ".join(
            f"{k}={statistics.median(r.cpu.get(k, 0.0) for r in runs):.2f}" for k in runs[0].cpu
        )
        print(
            f"{kind:9} {backend:9} {n:>5} {median:>9.0f} {median / baseline[kind]:>5.2f}{against:<13} {each} | {cpu}"
        )
    print(f"\nmachine: {os.cpu_count()} cores, load average {os.getloadavg()}")
    print_delivery_budget(results.get(("delivery", "postgres", 1)))


def print_delivery_budget(runs: list[Run] | None, wanted: float = 1.6) -> None:
    """Cores that ``wanted`` x one worker's rate would take at one worker's CPU per webhook."""
    if not runs:
        return
    rate = statistics.median(r.per_second for r in runs)
    per_hook = {
        k: statistics.median(r.cpu.get(k, 0.0) / r.per_second * 1000 for r in runs)
        for k in runs[0].cpu
    }
    total_ms = sum(per_hook.values())
    parts = ", ".join(f"{k} {v:.3f}" for k, v in per_hook.items())
    print(
        f"where the time goes with 1 PostgreSQL worker: CPU ms per webhook: {parts};"
        f" {total_ms:.3f} ms in all"
    )
    need = wanted * rate * total_ms / 1000
    print(
        f"{wanted}x one worker ({wanted * rate:.0f} webhooks/s) at that cost needs {need:.2f}"
        f" cores; this machine has {os.cpu_count()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--backlog", type=int, default=6000, help="deliveries drained per delivery run"
    )
    parser.add_argument("--events", type=int, default=6000, help="events sent per ingest run")
    parser.add_argument("--concurrency", type=int, default=48)
    parser.add_argument(
        "--warmup", type=int, default=WARMUP, help="unmeasured events sent first per ingest run"
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--receivers", type=int, default=2, help="receiver processes on one port")
    parser.add_argument("--timeout", type=float, default=120.0, help="longest wait for one drain")
    parser.add_argument("--only", choices=["delivery", "ingest"], help="run one measure only")
    args = parser.parse_args()
    plan = [
        ("delivery", "sqlite", 1),
        ("delivery", "postgres", 1),
        ("delivery", "postgres", 2),
        ("delivery", "postgres", 4),
        ("ingest", "sqlite", 1),
        ("ingest", "postgres", 1),
        ("ingest", "postgres", 2),
        ("ingest", "sqlite", 2),  # two API processes on one SQLite file: the write lock shared
    ]
    plan = [step for step in plan if args.only in (None, step[0])]
    receivers = Receivers.start(args.receivers)
    try:
        with tempfile.TemporaryDirectory(prefix="sendout-bench-") as tmp:
            results = {step: measure(*step, args, receivers, Path(tmp)) for step in plan}
    finally:
        receivers.stop()
    print_table(results)


if __name__ == "__main__":
    main()
