"""Benchmark: what distribution conditions cost the tracking path. (Not a test; loopback only.)

Two configurations of ``sendout serve --no-worker`` on SQLite, measured back to back, ``--repeat``
times each: ten active distributions on the event without conditions, and the same ten each with
five conditions that all hold (so both enqueue ten deliveries per event and differ only in the
evaluation). Prints accepted events/s per run, the medians and their ratio (target ≥ 0.8).

    .venv/bin/python bench/conditions.py                  # 10,000 events x 3 per configuration
    .venv/bin/python bench/conditions.py --events 3000 --repeat 1
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path
from typing import Any

from postgres_scaleout import APP, MGMT, Sendout, call, database, generate_load

FIVE_THAT_HOLD = {
    "customer.source_id": {"conditions": {"$starts_with": ["c"], "$has_value": True}},
    "customer.email": {"conditions": {"$is_unknown": True}},
    "event.metadata.plan": {"conditions": {"$is_not": ["free"]}},
    "customer.metadata.region": {"conditions": {"$not_in": ["APAC"]}},
}


def configure(api: Sendout, distributions: int, conditions: dict[str, Any] | None) -> None:
    project = call(api.port, "GET", "/management/v1/projects", MGMT)["data"][0]["id"]
    call(
        api.port,
        "POST",
        f"/management/v1/projects/{project}/custom-event-schemas",
        MGMT,
        {"name": "bench_event", "schema": {"properties": {}}},
    )
    for i in range(distributions):
        body: dict[str, Any] = {
            "name": f"bench-{i}",
            "trigger": {"type": "customer.custom_event", "event": "bench_event"},
            "action": {"type": "plain_message"},
            "channels": [{"type": "webhook", "event_name": "b", "url": "http://127.0.0.1:9/h"}],
        }
        if conditions is not None:
            body["conditions"] = conditions
        call(api.port, "POST", "/v1/distributions", APP, body)


def one_run(tmp: Path, args: argparse.Namespace, conditions: dict[str, Any] | None) -> float:
    with database("sqlite", tmp) as url:
        server = Sendout(tmp, url, "serve")
        try:
            configure(server, args.distributions, conditions)
            ok, seconds = generate_load([server.port], args.events, args.concurrency)
        finally:
            server.stop()
    if ok != args.events:
        raise SystemExit(f"only {ok} of {args.events} events were accepted")
    return ok / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=48)
    parser.add_argument("--distributions", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    runs: dict[str, list[float]] = {"none": [], "five": []}
    with tempfile.TemporaryDirectory(prefix="sendout-conditions-") as tmp:
        for i in range(args.repeat):
            for name, conditions in (("none", None), ("five", FIVE_THAT_HOLD)):
                rate = one_run(Path(tmp), args, conditions)
                runs[name].append(rate)
                print(f"  run {i + 1}: {name:4} conditions  {rate:8.0f} events/s", flush=True)
    none, five = statistics.median(runs["none"]), statistics.median(runs["five"])
    print(
        f"\n{args.distributions} distributions, {args.events} events x {args.repeat}:"
        f" without conditions {none:.0f}/s, with 5 each {five:.0f}/s,"
        f" ratio {five / none:.2f} (target >= 0.80)"
    )


if __name__ == "__main__":
    main()
