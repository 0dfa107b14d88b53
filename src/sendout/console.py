"""What sendout prints for people: the credentials panel."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from sendout.bootstrap import Credentials

__all__ = ["print_credentials"]


def print_credentials(creds: Credentials, *, title: str) -> None:
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column("name", style="bold")
    table.add_column("value")
    table.add_row("project id", creds.project.id)
    table.add_row("X-App-Id", creds.project.app_id)
    table.add_row("X-App-Token", creds.project.app_token)
    table.add_row("X-Management-Id", creds.management_id)
    table.add_row("X-Management-Token", creds.management_token)
    table.add_row("webhook secret", creds.project.webhook_secret)
    Console(stderr=True).print(table)
