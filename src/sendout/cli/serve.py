"""``sendout serve`` and ``sendout worker``: the processes that run sendout."""

from __future__ import annotations

import asyncio
import signal
import socket
from typing import Annotated

import structlog
import typer
import uvicorn

from sendout import heap, metrics, tracing
from sendout.bootstrap import ensure_credentials, make_worker, open_storage
from sendout.cli.app import DatabaseUrl, LogFormat, app, fail, load_settings, run
from sendout.clock import SystemClock
from sendout.console import NEW_CREDENTIALS, print_credentials
from sendout.delivery.worker_process import ChildEnds
from sendout.logs import stdlib_log_config
from sendout.settings import Settings, SettingsError

__all__ = ["serve", "worker_command"]


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
    problem = tracing.propagators_problem()
    if problem is not None:  # FastAPI's import would fail on it with a traceback
        fail(f"OTEL_PROPAGATORS: {problem}")
    from sendout.api.app import create_app
    from sendout.api.http_protocol import SendoutHttpProtocol

    settings = load_settings(
        host=host,
        port=port,
        database_url=database_url,
        worker_mode=worker_mode,
        log_format=log_format,
    )
    _check_port_free(settings.host, settings.port)
    run(_prepare(settings))
    config = uvicorn.Config(
        create_app(settings, run_worker=worker, prepared=True),
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        http=SendoutHttpProtocol,
        log_level=settings.log_level.lower(),
        log_config=stdlib_log_config(settings.log_level, settings.log_format),
        access_log=False,
        server_header=False,
        timeout_graceful_shutdown=30,
    )
    tracing.start("api")
    try:
        _Server(config).run()
    except SettingsError as exc:
        fail(str(exc))
    finally:
        tracing.stop()


class _Server(uvicorn.Server):
    """uvicorn's server, leaving what is alive once it has started out of the garbage
    collector's full passes (:mod:`sendout.heap`), and flushing traces once it has shut down:
    uvicorn then raises again the signal that stopped it, which ends the process before any
    ``finally`` of the caller."""

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        _freeze("api")

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        try:
            await super().shutdown(sockets)
        finally:
            tracing.stop()


def _freeze(process: str) -> None:
    """Leave what is alive once ``process`` has started out of the collector's full passes,
    saying how much at debug level (so a test can see each process did)."""
    frozen = heap.freeze_started()
    structlog.get_logger("sendout.cli").debug(
        "sendout.heap_frozen", process=process, objects=frozen
    )


def _check_port_free(host: str, port: int) -> None:
    """Refuse a port already taken before anything is created (credentials included)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server will
        try:
            probe.bind((host, port))
        except OSError as exc:
            fail(
                f"cannot listen on {host}:{port}: {exc.strerror or exc} (is another server"
                " there? choose another port with --port or SENDOUT_PORT)"
            )


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
    # serve's child: the parent has said whether secrets are encrypted; say it once per start.
    storage = await open_storage(settings, announce=ends is None)
    observe = metrics.record_attempt if ends is None else ends.observe
    worker, sender = make_worker(storage, settings, SystemClock(), observe)
    reporter = None
    if ends is not None:
        ends.listen(worker.wake, stop.set)
        reporter = asyncio.create_task(ends.report(stop))
    structlog.get_logger("sendout.cli").info("sendout.worker_started")
    _freeze("worker")
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
    settings = load_settings(database_url=database_url, log_format=log_format)
    ends = None
    if wake_fd is not None and report_fd is not None:  # started by `serve` as its child
        ends = ChildEnds(wake_fd, report_fd)
    tracing.start("worker")
    try:
        run(_run_worker(settings, ends))
    finally:
        tracing.stop()
