"""Making projects and their secrets."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sendout import ids
from sendout.delivery.signer import new_secret
from sendout.records import Project
from sendout.token_digest import token_digest

__all__ = [
    "NewProject",
    "new_app_id",
    "new_app_token",
    "new_project",
    "new_voucherify_secret",
    "new_webhook_secret",
]


def new_app_id() -> str:
    return "app_" + ids.secret_token(12)


def new_app_token() -> str:
    return ids.secret_token(24)


def new_webhook_secret() -> str:
    return new_secret(secrets.token_bytes(32))


def new_voucherify_secret() -> str:
    """32 random bytes, URL-safe base64: visible ASCII, as a Voucherify secret key must be."""
    return ids.secret_token(32)


@dataclass(frozen=True, slots=True)
class NewProject:
    """A project to store, and its app token: stored only as a digest, so shown only now."""

    project: Project
    app_token: str


def new_project(
    name: str,
    created_at: str,
    *,
    app_id: str | None = None,
    app_token: str | None = None,
    webhook_secret: str | None = None,
    description: str | None = None,
    timezone: str = "UTC",
    currency: str = "USD",
    voucherify_secret: str | None = None,
) -> NewProject:
    """A new project; the webhook secret also keys ``x-voucherify-signature`` unless a
    Voucherify secret is given."""
    token = app_token or new_app_token()
    webhook = webhook_secret or new_webhook_secret()
    project = Project(
        id=ids.project_id(),
        name=name,
        app_id=app_id or new_app_id(),
        app_token_sha256=token_digest(token),
        webhook_secret=webhook,
        created_at=created_at,
        description=description,
        timezone=timezone,
        currency=currency,
        voucherify_secret=voucherify_secret or webhook,
    )
    return NewProject(project, token)
