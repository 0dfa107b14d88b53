"""Making projects and their secrets."""

from __future__ import annotations

import secrets

from sendout import ids
from sendout.delivery.signer import new_secret
from sendout.records import Project

__all__ = ["new_app_id", "new_app_token", "new_project", "new_webhook_secret"]


def new_app_id() -> str:
    return "app_" + ids.secret_token(12)


def new_app_token() -> str:
    return ids.secret_token(24)


def new_webhook_secret() -> str:
    return new_secret(secrets.token_bytes(32))


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
) -> Project:
    return Project(
        id=ids.project_id(),
        name=name,
        app_id=app_id or new_app_id(),
        app_token=app_token or new_app_token(),
        webhook_secret=webhook_secret or new_webhook_secret(),
        created_at=created_at,
        description=description,
        timezone=timezone,
        currency=currency,
    )
