"""``sendout status``: what an operator asks first. How long the queue is and how late its
oldest delivery, which channels are paused, what failed in the last hour, per distribution;
read straight from the store, as a table or ``--json``."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import orjson
import typer
from rich.table import Table
from rich.text import Text

from sendout.bootstrap import open_storage
from sendout.cli.app import AsJson, DatabaseUrl, ProjectId, app, load_settings, output, run
from sendout.clock import SystemClock, from_ms, isoformat, to_ms
from sendout.records import JSON, Distribution, Project, QueueCounts
from sendout.settings import Settings, SettingsError
from sendout.storage.base import Storage
from sendout.storage.pages import every_distribution

__all__ = ["report", "status"]

_HOUR_MS = 3_600_000


@app.command()
def status(
    database_url: DatabaseUrl = None, project: ProjectId = None, as_json: AsJson = False
) -> None:
    """Queue depth, the oldest due delivery, paused channels and deliveries failed in the last
    hour, in all and per distribution."""
    settings = load_settings(database_url=database_url)
    now = SystemClock().now()
    found = run(_read(settings, project, now))
    if as_json:
        typer.echo(orjson.dumps(found, option=orjson.OPT_INDENT_2))
    else:
        _print(found)


async def _read(settings: Settings, project_id: str | None, now: datetime) -> JSON:
    storage = await open_storage(settings, announce=False, existing=True)
    try:
        project = await chosen_project(storage, project_id)
        distributions = await every_distribution(storage, project.id)
        now_ms = to_ms(now)
        queues = await storage.queue_counts(project.id, now_ms, now_ms - _HOUR_MS)
    finally:
        await storage.close()
    return report(project.id, distributions, queues, now)


async def chosen_project(storage: Storage, project_id: str | None) -> Project:
    """The project asked for, else the default one; a store without any is refused."""
    if project_id is not None:
        return await storage.get_project(project_id)
    project = await storage.default_project()
    if project is None:
        raise SettingsError("no project yet: start `sendout serve` once first")
    return project


def report(
    project_id: str,
    distributions: Iterable[Distribution],
    queues: Iterable[QueueCounts],
    now: datetime,
) -> JSON:
    """The status as JSON: totals, paused channels, and a row per distribution that is known
    or has deliveries waiting or failed lately."""
    by_id = {q.distribution_id: q for q in queues}
    rows = [_row(d.id, d.name, d.status, by_id.pop(d.id, None), now) for d in distributions]
    rows += [_row(q.distribution_id, None, "DELETED", q, now) for q in by_id.values()]
    oldest = [r["oldest_due_at"] for r in rows if r["oldest_due_at"] is not None]
    return {
        "project_id": project_id,
        "at": isoformat(now),
        "pending": sum(r["pending"] for r in rows),
        "due": sum(r["due"] for r in rows),
        "oldest_due_at": min(oldest, default=None),
        "failed_last_hour": sum(r["failed_last_hour"] for r in rows),
        "paused_channels": [
            {
                "distribution_id": d.id,
                "channel_index": index,
                "url": channel.url,
                "paused_at": d.state_of(index).paused_at,
                "pause_reason": d.state_of(index).pause_reason,
            }
            for d in distributions
            for index, channel in enumerate(d.channels)
            if d.state_of(index).paused_at
        ],
        "distributions": rows,
    }


def _row(
    distribution_id: str, name: str | None, state: str, queue: QueueCounts | None, now: datetime
) -> JSON:
    oldest = queue.oldest_due_ms if queue else None
    return {
        "id": distribution_id,
        "name": name,
        "status": state,
        "pending": queue.pending if queue else 0,
        "due": queue.due if queue else 0,
        "oldest_due_at": None if oldest is None else isoformat(from_ms(oldest)),
        "oldest_due_late_seconds": queue.late_seconds(to_ms(now)) if queue else None,
        "failed_last_hour": queue.failed if queue else 0,
    }


def _print(found: JSON) -> None:
    console = output()
    oldest = found["oldest_due_at"] or "none"
    console.print(
        f"project {found['project_id']} at {found['at']}\n"
        f"queue: {found['pending']} pending, {found['due']} due now, oldest due {oldest}\n"
        f"failed in the last hour: {found['failed_last_hour']}\n"
        f"paused channels: {len(found['paused_channels'])}",
        markup=False,
        highlight=False,
    )
    for channel in found["paused_channels"]:
        console.print(
            f"  {channel['distribution_id']} channel {channel['channel_index']}"
            f" ({channel['url']}) since {channel['paused_at']}: {channel['pause_reason']}",
            markup=False,
            highlight=False,
        )
    if not found["distributions"]:
        console.print("no distributions yet: create one with POST /v1/distributions")
        return
    console.print(_table(found["distributions"]))


def _table(rows: list[JSON]) -> Table:
    table = Table(title="per distribution", title_justify="left")
    for column in ("id", "name", "status", "pending", "due", "oldest due", "failed 1h"):
        table.add_column(
            column,
            justify="right" if column in ("pending", "due", "failed 1h") else "left",
            overflow="fold" if column == "id" else "ellipsis",  # an id is never cut short
        )
    for r in rows:
        cells = (r["id"], r["name"], r["status"], r["pending"], r["due"], r["oldest_due_at"])
        table.add_row(
            *(Text("" if c is None else str(c)) for c in cells), Text(str(r["failed_last_hour"]))
        )
    return table
