"""The ``sendout`` command itself: the Typer app, the options several commands share, and how
a command turns a bad setting, an unreachable store or a refused request into one line on
stderr and exit code 2."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Coroutine
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console
from typer.core import TyperGroup

from sendout.errors import SendoutError
from sendout.logs import configure_logging
from sendout.settings import DEFAULT_DATABASE_URL, Settings, SettingsError

__all__ = [
    "DEFAULT_URL",
    "AppId",
    "AppToken",
    "AsJson",
    "DatabaseUrl",
    "LogFormat",
    "ProjectId",
    "ServerUrl",
    "app",
    "fail",
    "load_settings",
    "output",
    "run",
]

T = TypeVar("T")

DEFAULT_URL = "http://127.0.0.1:8000"
_PIPED_WIDTH = 1_000  # columns of a table written to a pipe or a file: none cut to fit

_ORDER = (
    "serve",
    "worker",
    "status",
    "deliveries",
    "events",
    "listen",
    "migrate",
    "credentials",
    "import-codes",
    "version",
)


class _Commands(TyperGroup):
    """Lists commands in the order an operator meets them, not by module import order."""

    def list_commands(self, ctx: Any) -> list[str]:  # typer's vendored click.Context
        names = super().list_commands(ctx)
        return sorted(names, key=lambda n: _ORDER.index(n) if n in _ORDER else len(_ORDER))


app = typer.Typer(
    cls=_Commands,
    name="sendout",
    help="Customer events in, signed Voucherify-compatible webhooks out.",
    no_args_is_help=True,
    add_completion=False,
    # Plain help text: with rich markup, "[default: …]" in a help string is read as a style.
    rich_markup_mode=None,
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

ProjectId = Annotated[
    str | None,
    typer.Option("--project", help="Project id (proj_…) [default: the default project]"),
]

AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table")]

ServerUrl = Annotated[
    str,
    typer.Option(
        "--url",
        envvar="SENDOUT_URL",
        help=f"The sendout server [default: {DEFAULT_URL}]",
        show_default=False,
    ),
]

AppId = Annotated[
    str | None,
    typer.Option("--app-id", envvar="SENDOUT_APP_ID", help="X-App-Id of the project"),
]

AppToken = Annotated[
    str | None,
    typer.Option("--app-token", envvar="SENDOUT_APP_TOKEN", help="X-App-Token of the project"),
]


def fail(message: str, code: int = 2) -> NoReturn:
    """Stop the command: one line on stderr, exit ``code``."""
    typer.echo(f"sendout: {message}", err=True)
    raise typer.Exit(code)


def output() -> Console:
    """Where a command prints its tables: the terminal's width, or, written to a pipe or a file
    (where rich would assume 80 columns and cut ids short), as wide as the rows are."""
    # Not rich's is_terminal, which FORCE_COLOR makes true on a pipe too.
    return Console() if sys.stdout.isatty() else Console(width=_PIPED_WIDTH)


def load_settings(**overrides: Any) -> Settings:
    """``SENDOUT_*`` settings with the command's options applied; logging configured."""
    try:
        settings = Settings.from_env(**overrides)
    except SettingsError as exc:
        fail(str(exc))
    configure_logging(settings.log_level, settings.log_format)
    return settings


def run(work: Coroutine[Any, Any, T]) -> T:
    """Run a command's coroutine; a setting, store or lookup that fails stops it in one line."""
    try:
        return asyncio.run(work)
    except (SettingsError, SendoutError) as exc:
        fail(str(exc))
