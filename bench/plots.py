"""The PNG of ``targets.py``: end-to-end latency distribution and throughput over time.

Needs matplotlib (the ``bench`` extra); ``targets.py`` prints its table without it.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Protocol

import matplotlib

matplotlib.use("Agg")  # no screen here: render to a file

import matplotlib.pyplot as plt

BIN_SECONDS = 0.25


class Series(Protocol):
    latencies_ms: list[float]
    e2e_arrivals: list[float]
    drain_arrivals: list[float]


def per_second(offsets: list[float]) -> tuple[list[float], list[float]]:
    """Arrivals (seconds from the start) binned into a rate over time."""
    bins = Counter(int(t / BIN_SECONDS) for t in offsets)
    keys = range(max(bins, default=-1) + 1)
    return [k * BIN_SECONDS for k in keys], [bins[k] / BIN_SECONDS for k in keys]


def draw(runs: list[Series], path: Path, latency_title: str) -> None:
    figure, (left, middle, right) = plt.subplots(1, 3, figsize=(16, 4.5))
    pooled = sorted(v for run in runs for v in run.latencies_ms)
    if pooled:
        left.hist(pooled, bins=80, range=(0, pooled[int(0.999 * (len(pooled) - 1))]))
    left.set(title=f"{latency_title} (all runs)", xlabel="end-to-end ms", ylabel="webhooks")
    for name, axes, attr in (
        ("end to end, closed loop", middle, "e2e_arrivals"),
        ("drain of the backlog", right, "drain_arrivals"),
    ):
        for n, run in enumerate(runs):
            axes.plot(*per_second(getattr(run, attr)), label=f"run {n + 1}", linewidth=1)
        axes.set(title=name, xlabel="seconds", ylabel="webhooks/s delivered")
        axes.set_ylim(bottom=0)
        axes.legend()
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)
