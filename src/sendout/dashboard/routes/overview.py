"""The overview: events per minute and deliveries by outcome over the last hour and day, and
what needs a person: paused channels, failed deliveries, the oldest due delivery."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from markupsafe import Markup
from starlette.responses import Response

from sendout.api.context import AppContext, context_of
from sendout.clock import isoformat
from sendout.dashboard.charts import Bucket, Window, bar_chart, buckets, windows
from sendout.dashboard.guard import SignedIn
from sendout.dashboard.lookups import distributions_of
from sendout.dashboard.pages import PageRoute, page
from sendout.records import DELIVERY_STATUSES, Page
from sendout.storage.base import DeliveryFilter

__all__ = ["router"]

router = APIRouter(prefix="/dashboard", route_class=PageRoute, include_in_schema=False)


async def _charts(ctx: AppContext, project_id: str, window: Window, now: datetime) -> list[Markup]:
    keys = buckets(window, now)
    since = _start(keys[0])
    events = dict(await ctx.storage.events_per_bucket(project_id, since, window.width))
    sent: dict[str, dict[str, int]] = {k: {} for k in keys}
    for key, status, count in await ctx.storage.deliveries_per_bucket(
        project_id, since, window.width
    ):
        if key in sent:
            sent[key][status] = count
    return [
        bar_chart(
            "Events", window, [Bucket(k, {"events": events.get(k, 0)}) for k in keys], ("events",)
        ),
        bar_chart("Deliveries", window, [Bucket(k, sent[k]) for k in keys], DELIVERY_STATUSES),
    ]


def _start(key: str) -> str:
    """The ISO 8601 time a bucket key (a minute or an hour prefix) starts at."""
    return key + ":00:00.000Z"[len(key) - 13 :]


@router.get("")
async def overview(request: Request, project: SignedIn) -> Response:
    ctx = context_of(request)
    now = ctx.clock.now()
    distributions = await distributions_of(ctx, project.id)
    failed, failed_total = await ctx.storage.list_deliveries(
        project.id, Page(5, 1), DeliveryFilter(status="failed")
    )
    return page(
        request,
        "overview.html",
        title="Overview",
        charts=[(w.name, await _charts(ctx, project.id, w, now)) for w in windows()],
        paused=[d for d in distributions if d.paused],
        failed=failed,
        failed_total=failed_total,
        oldest=await ctx.storage.oldest_pending(project.id),
        names={d.id: d.name for d in distributions},
        has_distributions=bool(distributions),
        now=isoformat(now),
    )
