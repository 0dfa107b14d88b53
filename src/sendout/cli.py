"""``sendout serve | worker | migrate | credentials``. Every option has a ``SENDOUT_*`` twin."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from pathlib import Path
from typing import Annotated, Any

import structlog
import typer
import uvicorn

from sendout import __version__, metrics
from sendout.bootstrap import ensure_credentials, make_worker, open_storage
from sendout.clock import SystemClock, isoformat
from sendout.console import NEW_CREDENTIALS, print_credentials
from sendout.delivery.worker_process import ChildEnds
from sendout.errors import SendoutError
from sendout.logs import configure_logging
from sendout.settings import DEFAULT_DATABASE_URL, Settings, SettingsError

__all__ = ["app", "main"]

app = typer.Typer(
    name="sendout",
    help="Customer events in, signed Voucherify-compatible webhooks out.",
    no_args_is_help=True,
    add_completion=False,
)

LogFormat = Annotated[
    str | None,
    typer.Option(
        "--log-format",
        envvar="SENDOUT_LOG_FORMAT",
        help="console: readable lines; json: one JSON object per line [default: console]",
        show_default=False,
    ),
]

DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        envvar="SENDOUT_DATABASE_URL",
        help=f"sqlite:///path/to/file.db or postgresql://… [default: {DEFAULT_DATABASE_URL}]",
        show_default=False,
    ),
]


def _settings(**overrides: Any) -> Settings:
    try:
        settings = Settings.from_env(**overrides)
    except SettingsError as exc:
        typer.echo(f"sendout: {exc}", err=True)
        raise typer.Exit(2) from None
    configure_logging(settings.log_level, settings.log_format)
    return settings


@app.command()
def serve(
    host: Annotated[
        str | None,
        typer.Option(
            envvar="SENDOUT_HOST",
            help="Interface to listen on [default: 127.0.0.1]",
            show_default=False,
        ),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(envvar="SENDOUT_PORT", help="TCP port [default: 8000]", show_default=False),
    ] = None,
    database_url: DatabaseUrl = None,
    worker: Annotated[
        bool,
        typer.Option(
            "--worker/--no-worker",
            envvar="SENDOUT_WORKER",
            help="Run the delivery worker too [default: --worker]",
            show_default=False,
        ),
    ] = True,
    log_format: LogFormat = None,
    worker_mode: Annotated[
        str | None,
        typer.Option(
            "--worker-mode",
            envvar="SENDOUT_WORKER_MODE",
            help="process: the worker runs in a child process (a second core);"
            " inline: in this process [default: process]",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Run the API and, unless --no-worker, the delivery worker (in a child process it starts,
    restarts and stops, or inline)."""
    from sendout.api.app import create_app
    from sendout.api.http_protocol import SendoutHttpProtocol

    settings = _settings(
        host=host,
        port=port,
        database_url=database_url,
        worker_mode=worker_mode,
        log_format=log_format,
    )
    try:
        asyncio.run(_prepare(settings))
    except SettingsError as exc:
        typer.echo(f"sendout: {exc}", err=True)
        raise typer.Exit(2) from None
    config = uvicorn.Config(
        create_app(settings, run_worker=worker, prepared=True),
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        http=SendoutHttpProtocol,
        log_level=settings.log_level.lower(),
        access_log=False,
        server_header=False,
        timeout_graceful_shutdown=30,
    )
    try:
        uvicorn.Server(config).run()
    except SettingsError as exc:
        typer.echo(f"sendout: {exc}", err=True)
        raise typer.Exit(2) from None


async def _prepare(settings: Settings) -> None:
    """What the server's start does first, before the server: a bad setting or stored state
    then stops the command with exit code 2 and one line, not a failed ASGI start."""
    storage = await open_storage(settings)
    try:
        creds = await ensure_credentials(storage, settings, SystemClock())
    finally:
        await storage.close()
    if creds.generated:
        print_credentials(creds, title=NEW_CREDENTIALS)


async def _run_worker(settings: Settings, ends: ChildEnds | None = None) -> None:
    # Signals first: a SIGTERM while the store opens (or waits on a migration) stops cleanly.
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if ends is not None:  # serve's child: SIGINT is the terminal's, for the parent to handle
        loop.remove_signal_handler(signal.SIGINT)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    storage = await open_storage(settings)
    observe = metrics.record_attempt if ends is None else ends.observe
    worker, sender = make_worker(storage, settings, SystemClock(), observe)
    reporter = None
    if ends is not None:
        ends.listen(worker.wake, stop.set)
        reporter = asyncio.create_task(ends.report(stop))
    structlog.get_logger("sendout.cli").info("sendout.worker_started")
    try:
        await worker.run(stop)
    finally:
        stop.set()
        if reporter is not None:
            await reporter
        await sender.close()
        await storage.close()


@app.command("worker")
def worker_command(
    database_url: DatabaseUrl = None,
    log_format: LogFormat = None,
    wake_fd: Annotated[int | None, typer.Option(hidden=True)] = None,
    report_fd: Annotated[int | None, typer.Option(hidden=True)] = None,
) -> None:
    """Run only the delivery worker (API processes run `serve --no-worker`)."""
    settings = _settings(database_url=database_url, log_format=log_format)
    ends = None
    if wake_fd is not None and report_fd is not None:  # started by `serve` as its child
        ends = ChildEnds(wake_fd, report_fd)
    try:
        asyncio.run(_run_worker(settings, ends))
    except SettingsError as exc:
        typer.echo(f"sendout: {exc}", err=True)
        raise typer.Exit(2) from None


@app.command()
def listen(
    distribution: Annotated[str, typer.Option(help="The distribution to follow (distr_…)")],
    forward_to: Annotated[
        str,
        typer.Option(help="Local URL each webhook is posted to, e.g. http://127.0.0.1:3000/hooks"),
    ],
    url: Annotated[
        str,
        typer.Option(
            envvar="SENDOUT_URL",
            help="The sendout server [default: http://127.0.0.1:8000]",
            show_default=False,
        ),
    ] = "http://127.0.0.1:8000",
    app_id: Annotated[
        str | None, typer.Option(envvar="SENDOUT_APP_ID", help="X-App-Id of the project")
    ] = None,
    app_token: Annotated[
        str | None, typer.Option(envvar="SENDOUT_APP_TOKEN", help="X-App-Token of the project")
    ] = None,
    fail_with: Annotated[
        int | None,
        typer.Option(help="Count each local answer as this status and send the webhook again"),
    ] = None,
) -> None:
    """Forward every webhook a distribution sends from now on to a local URL (a copy: the real
    channels are delivered as usual)."""
    from sendout.listen import Listen
    from sendout.listen import listen as follow

    if not app_id or not app_token:
        typer.echo(
            "sendout: --app-id and --app-token (or SENDOUT_APP_ID/_TOKEN) are needed", err=True
        )
        raise typer.Exit(2)
    options = Listen(url, distribution, forward_to, app_id, app_token, fail_with)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(follow(options, lambda line: typer.echo(line)))


@app.command()
def migrate(database_url: DatabaseUrl = None) -> None:
    """Bring the database schema up to date (serve and worker also do this on start)."""
    settings = _settings(database_url=database_url)

    async def applied() -> list[str]:
        from sendout.bootstrap import make_storage

        storage = make_storage(settings)
        await storage.open()
        try:
            return await storage.migrate()
        finally:
            await storage.close()

    try:
        names = asyncio.run(applied())
    except SettingsError as exc:
        typer.echo(f"sendout: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo("applied: " + ", ".join(names) if names else "schema is up to date")


@app.command()
def credentials(database_url: DatabaseUrl = None) -> None:
    """Show the default project's ids and secrets (tokens only when given or generated now)."""
    settings = _settings(database_url=database_url)

    async def run() -> None:
        storage = await open_storage(settings, announce=False)
        try:
            creds = await ensure_credentials(storage, settings, SystemClock())
        finally:
            await storage.close()
        print_credentials(creds, title="sendout credentials")

    try:
        asyncio.run(run())
    except SettingsError as exc:
        typer.echo(f"sendout: {exc}", err=True)
        raise typer.Exit(2) from None


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
    from sendout.promotions.csv_import import BATCH, CodeFileError, read_codes

    settings = _settings(database_url=database_url)
    try:
        codes = read_codes(csv_file.read_text(encoding="utf-8-sig"))
    except (CodeFileError, UnicodeDecodeError) as exc:
        typer.echo(f"sendout: {csv_file}: {exc}", err=True)
        raise typer.Exit(2) from None

    async def run() -> int:
        from rich.progress import Progress

        storage = await open_storage(settings, announce=False)
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

    try:
        added = asyncio.run(run())
    except (SettingsError, SendoutError) as exc:
        typer.echo(f"sendout: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"imported {added} code(s); {len(codes) - added} already existed in the project")


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(__version__)


def main() -> None:
    app(prog_name="sendout")


if __name__ == "__main__":
    main()
