"""The gauges ``/metrics`` reads from the store when scraped: each distribution's queue
(pending, due now, how late the oldest due delivery is), its paused channels, and the codes each
campaign has left.

The store is shared, so every process reports the same values (take ``max`` across processes,
not ``sum``). A scrape reads the store at most once per ``min_interval`` seconds; scrapes in
between show the last reading.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime

from sendout import metrics
from sendout.clock import to_ms
from sendout.promotions.records import NO_CODES
from sendout.records import QueueCounts
from sendout.storage.base import Storage
from sendout.storage.pages import every_campaign, every_distribution

__all__ = ["StoreGauges", "read_gauges"]

_HOUR_MS = 3_600_000


@dataclass
class StoreGauges:
    """Refreshes the store gauges when the last reading is older than ``min_interval``."""

    min_interval: float = 5.0
    _read_at: float | None = None
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def refresh(self, storage: Storage, now: datetime, monotonic: float) -> None:
        if self._fresh(monotonic):
            return
        async with self._lock:
            if self._fresh(monotonic):
                return  # another scrape read while this one waited
            metrics.show_store(await read_gauges(storage, now))
            self._read_at = monotonic

    def _fresh(self, monotonic: float) -> bool:
        return self._read_at is not None and monotonic - self._read_at < self.min_interval


async def read_gauges(storage: Storage, now: datetime) -> metrics.StoreReading:
    """Every project's queues (zero for a distribution with none), paused channels and codes
    left, as of ``now``."""
    reading = metrics.StoreReading()
    for project in await storage.list_projects():
        await _read_project(storage, project.id, to_ms(now), reading)
    return reading


async def _read_project(
    storage: Storage, project_id: str, now_ms: int, reading: metrics.StoreReading
) -> None:
    queues = {
        q.distribution_id: q
        for q in await storage.queue_counts(project_id, now_ms, now_ms - _HOUR_MS)
    }
    for d in await every_distribution(storage, project_id):
        paused = sum(1 for i in range(len(d.channels)) if d.state_of(i).paused_at)
        reading.paused.append((project_id, d.id, paused))
        queues.setdefault(d.id, QueueCounts(d.id, 0, 0, None, 0))
    for q in queues.values():
        late = q.late_seconds(now_ms) or 0.0
        reading.queues.append(
            metrics.QueueReading(project_id, q.distribution_id, q.pending, q.due, late)
        )
    counts = await storage.code_counts_by_campaign(project_id)
    for campaign in await every_campaign(storage, project_id):
        left = counts.get(campaign.id, NO_CODES).remaining
        reading.codes_left.append((project_id, campaign.id, left))
