"""``sendout deliveries``: the project's latest deliveries, filtered by status and
distribution, as a table (id, when, where, outcome) or ``--json`` (the API's shape)."""

from __future__ import annotations

from typing import Annotated

import orjson
import typer
from rich.table import Table
from rich.text import Text

from sendout.api.views import delivery_view
from sendout.bootstrap import open_storage
from sendout.cli.app import (
    AsJson,
    DatabaseUrl,
    ProjectId,
    app,
    fail,
    load_settings,
    output,
    run,
)
from sendout.cli.status import chosen_project
from sendout.records import DELIVERY_STATUSES, Delivery, Page
from sendout.settings import Settings
from sendout.storage.base import DeliveryFilter

__all__ = ["deliveries"]


@app.command()
def deliveries(
    status: Annotated[
        str | None,
        typer.Option(help=f"Only this status: {', '.join(DELIVERY_STATUSES)}", show_default=False),
    ] = None,
    distribution: Annotated[
        str | None, typer.Option(help="Only this distribution (distr_…)", show_default=False)
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=100, help="How many, newest first")] = 20,
    database_url: DatabaseUrl = None,
    project: ProjectId = None,
    as_json: AsJson = False,
) -> None:
    """The latest deliveries with their outcome; `sendout deliveries --status failed` lists
    what needs a look."""
    if status is not None and status not in DELIVERY_STATUSES:
        fail(f"--status: expected one of {', '.join(DELIVERY_STATUSES)}, got {status!r}")
    settings = load_settings(database_url=database_url)
    where = DeliveryFilter(distribution_id=distribution, status=status)
    found, total = run(_read(settings, project, where, limit))
    if as_json:
        body = {"object": "list", "data": [delivery_view(d) for d in found], "total": total}
        typer.echo(orjson.dumps(body, option=orjson.OPT_INDENT_2))
    elif not found:
        typer.echo("no deliveries match" if status or distribution else "no deliveries yet")
    else:
        output().print(_table(found, total))


async def _read(
    settings: Settings, project_id: str | None, where: DeliveryFilter, limit: int
) -> tuple[list[Delivery], int]:
    storage = await open_storage(settings, announce=False, existing=True)
    try:
        project = await chosen_project(storage, project_id)
        return await storage.list_deliveries(project.id, Page(limit, 1), where)
    finally:
        await storage.close()


def _table(found: list[Delivery], total: int) -> Table:
    table = Table(title=f"{len(found)} of {total} deliveries, newest first", title_justify="left")
    for column in ("id", "created", "distribution", "status", "attempts", "last answer"):
        # an id too wide for the terminal folds onto a second line, never cut short
        table.add_column(
            column, overflow="fold" if column in ("id", "distribution") else "ellipsis"
        )
    for d in found:
        cells = (d.id, d.created_at, d.distribution_id, d.status, str(d.attempts_count))
        table.add_row(*(Text(c) for c in cells), Text(_last_answer(d)))
    return table


def _last_answer(d: Delivery) -> str:
    if not d.attempts:
        return ""
    last = d.attempts[-1]
    answer = str(last.status_code) if last.status_code is not None else (last.error or "error")
    return f"{answer} in {last.latency_ms:.0f} ms"
