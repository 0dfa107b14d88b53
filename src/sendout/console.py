"""What sendout prints of the credentials: a panel for people, JSON for scripts, and
``SENDOUT_*=`` lines for an environment file."""

from __future__ import annotations

import shlex

from rich.console import Console
from rich.table import Table

from sendout import voucherify_secret
from sendout.bootstrap import Credentials
from sendout.records import JSON

__all__ = [
    "HASHED",
    "NEW_CREDENTIALS",
    "credentials_env",
    "credentials_json",
    "print_credentials",
]


NEW_CREDENTIALS = (
    "sendout: new credentials (shown once: tokens are stored as hashes and cannot be shown again)"
)
HASHED = "(stored as a hash: shown only when generated; set {} to replace it)"


def print_credentials(creds: Credentials, *, title: str, stderr: bool = True) -> None:
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
    Console(stderr=stderr).print(table)


def credentials_json(creds: Credentials) -> JSON:
    """Every credential by name; a token stored only as a hash is ``null``."""
    return {
        "project_id": creds.project.id,
        "app_id": creds.project.app_id,
        "app_token": creds.app_token,
        "management_id": creds.management_id,
        "management_token": creds.management_token,
        "webhook_secret": creds.project.webhook_secret,
        "voucherify_secret": voucherify_secret.secrets_of(creds.project).current,
        "staged_voucherify_secret": creds.project.staged_voucherify_secret,
    }


_ENV_NAMES = {
    "app_id": "SENDOUT_APP_ID",
    "app_token": "SENDOUT_APP_TOKEN",
    "management_id": "SENDOUT_MANAGEMENT_ID",
    "management_token": "SENDOUT_MANAGEMENT_TOKEN",
    "webhook_secret": "SENDOUT_WEBHOOK_SECRET",
    "voucherify_secret": "SENDOUT_VOUCHERIFY_SECRET",
}


def credentials_env(creds: Credentials) -> str:
    """``NAME=value`` lines of the settings that pin these credentials (and that the client
    commands read); a token stored only as a hash is a comment saying so."""
    values = credentials_json(creds)
    lines = [f"# sendout project {creds.project.id}"]
    for key, name in _ENV_NAMES.items():
        value = values[key]
        if value is None:
            lines.append(f"# {name}: {HASHED.format(name)}")
        else:
            lines.append(f"{name}={shlex.quote(str(value))}")
    return "\n".join(lines)
