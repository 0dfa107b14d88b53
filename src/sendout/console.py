"""What sendout prints for people: the credentials panel."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from sendout import voucherify_secret
from sendout.bootstrap import Credentials

__all__ = ["HASHED", "NEW_CREDENTIALS", "print_credentials"]


NEW_CREDENTIALS = (
    "sendout: new credentials (shown once: tokens are stored as hashes and cannot be shown again)"
)
HASHED = "(stored as a hash: shown only when generated; set {} to replace it)"


def print_credentials(creds: Credentials, *, title: str) -> None:
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column("name", style="bold")
    table.add_column("value")
    table.add_row("project id", creds.project.id)
    table.add_row("X-App-Id", creds.project.app_id)
    table.add_row("X-App-Token", creds.app_token or HASHED.format("SENDOUT_APP_TOKEN"))
    table.add_row("X-Management-Id", creds.management_id)
    table.add_row(
        "X-Management-Token", creds.management_token or HASHED.format("SENDOUT_MANAGEMENT_TOKEN")
    )
    table.add_row("webhook secret", creds.project.webhook_secret)
    table.add_row("Voucherify secret", voucherify_secret.secrets_of(creds.project).current)
    staged = creds.project.staged_voucherify_secret
    if staged is not None:
        table.add_row("staged Voucherify secret", staged)
    Console(stderr=True).print(table)
