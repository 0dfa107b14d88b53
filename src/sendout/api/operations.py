"""What an operator does to deliveries and distributions, written once for the API routes and
the dashboard: each is the storage verb at the context's clock, then the worker's wake-up."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from sendout.api.context import AppContext
from sendout.clock import isoformat, to_ms
from sendout.records import Delivery, Distribution

__all__ = ["pause", "replay_failed", "resend", "resume"]


async def resend(ctx: AppContext, project_id: str, delivery_id: str) -> Delivery:
    """One more attempt of the delivery, now."""
    found = await ctx.storage.resend_delivery(project_id, delivery_id, to_ms(ctx.clock.now()))
    ctx.wake_worker()
    return found


async def replay_failed(
    ctx: AppContext, project_id: str, distribution_id: str, since: datetime
) -> tuple[str, int]:
    """Failed deliveries of the distribution created since ``since`` (naive: UTC) due again
    now; the ``since`` applied, and how many."""
    since_text = isoformat(since if since.tzinfo else since.replace(tzinfo=UTC))
    count = await ctx.storage.replay_deliveries(
        project_id, distribution_id, since_text, to_ms(ctx.clock.now())
    )
    if count:
        ctx.wake_worker()
    return since_text, count


async def pause(ctx: AppContext, project_id: str, distribution_id: str) -> Distribution:
    """Status PAUSED: it matches no new events and its queued deliveries wait."""
    current = await ctx.storage.get_distribution(project_id, distribution_id)
    paused = replace(current, status="PAUSED", updated_at=isoformat(ctx.clock.now()))
    await ctx.storage.replace_distribution(paused)
    return paused


async def resume(ctx: AppContext, project_id: str, distribution_id: str) -> Distribution:
    """Set live: ACTIVE, channels unpaused, the backlog delivered in order."""
    now = ctx.clock.now()
    resumed = await ctx.storage.resume_distribution(
        project_id, distribution_id, isoformat(now), to_ms(now)
    )
    ctx.wake_worker()
    return resumed
