"""``sendout migrate | credentials | import-codes | version``: the commands that look after
one store. Only ``migrate`` (like ``serve``) creates a SQLite file that is not there yet."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import orjson
import typer

from sendout import __version__
from sendout.bootstrap import ensure_credentials, migrate_storage, open_storage
from sendout.cli.app import AsJson, DatabaseUrl, app, fail, load_settings, run
from sendout.clock import SystemClock, isoformat
from sendout.console import credentials_env, credentials_json, print_credentials
from sendout.settings import Settings, SettingsError

__all__ = ["credentials", "import_codes_command", "migrate", "version"]


@app.command()
def migrate(database_url: DatabaseUrl = None) -> None:
    """Bring the database schema up to date, creating the database file if there is none
    (serve and worker also do this on start)."""
    settings = load_settings(database_url=database_url)
    names = run(migrate_storage(settings))
    typer.echo("applied: " + ", ".join(names) if names else "schema is up to date")


@app.command()
def credentials(
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
    as_env: Annotated[
        bool, typer.Option("--env", help="Print SENDOUT_*=value lines for an environment file")
    ] = False,
) -> None:
    """Print the default project's ids and secrets to stdout (tokens only when given in the
    environment or generated now). The database must exist already."""
    if as_json and as_env:
        fail("--json and --env: choose one")
    settings = load_settings(database_url=database_url)

    async def shown() -> None:
        storage = await open_storage(settings, announce=False, existing=True)
        try:
            creds = await ensure_credentials(storage, settings, SystemClock())
        finally:
            await storage.close()
        if as_json:
            typer.echo(orjson.dumps(credentials_json(creds), option=orjson.OPT_INDENT_2))
        elif as_env:
            typer.echo(credentials_env(creds))
        else:
            print_credentials(creds, title="sendout credentials", stderr=False)

    run(shown())


@app.command("import-codes")
def import_codes_command(
    campaign: Annotated[str, typer.Argument(help="Campaign id or name (default project)")],
    csv_file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="CSV file")
    ],
    database_url: DatabaseUrl = None,
) -> None:
    """Add the codes of a CSV file (first column; a `code` header is skipped) to a campaign.

    The whole file is checked first; then codes go in by batches of 10,000, one transaction
    each. Codes already in the project are skipped, so running it again is safe.
    """
    from sendout.promotions.csv_import import CodeFileError, read_codes

    settings = load_settings(database_url=database_url)
    try:
        codes = read_codes(csv_file.read_text(encoding="utf-8-sig"))
    except (CodeFileError, UnicodeDecodeError) as exc:
        fail(f"{csv_file}: {exc}")
    added = run(_import(settings, campaign, codes))
    typer.echo(f"imported {added} code(s); {len(codes) - added} already existed in the project")


async def _import(settings: Settings, campaign: str, codes: list[str]) -> int:
    from rich.progress import Progress

    from sendout.promotions.csv_import import BATCH

    storage = await open_storage(settings, announce=False, existing=True)
    try:
        project = await storage.default_project()
        if project is None:
            raise SettingsError("no project yet: start `sendout serve` once first")
        target = await storage.get_campaign(project.id, campaign)
        added = 0
        with Progress(transient=False) as progress:
            task = progress.add_task(f"importing into {target.name}", total=len(codes))
            for start in range(0, len(codes), BATCH):
                batch = codes[start : start + BATCH]
                now = isoformat(SystemClock().now())
                added += await storage.import_codes(project.id, target.id, batch, now)
                progress.advance(task, len(batch))
        return added
    finally:
        await storage.close()


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(__version__)
