"""The composition root: pick the storage backend, make sure credentials exist, wire the worker."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass, field

from sendout import ids, metrics
from sendout.clock import Clock, isoformat
from sendout.delivery.addresses import AddressPolicy
from sendout.delivery.sender import Sender, new_sender
from sendout.delivery.signer import SECRET_PREFIX
from sendout.delivery.worker import Worker, WorkerLimits
from sendout.errors import Conflict
from sendout.outbox.retry import RetryPolicy
from sendout.projects import new_project
from sendout.records import Project
from sendout.settings import Settings, SettingsError, sqlite_path
from sendout.storage.base import Storage
from sendout.storage.postgres import PostgresStorage
from sendout.storage.sqlite import SqliteStorage

__all__ = [
    "Credentials",
    "address_policy",
    "ensure_credentials",
    "make_storage",
    "make_worker",
    "open_storage",
]

_MANAGEMENT_ID = "management_id"
_MANAGEMENT_TOKEN = "management_token"


@dataclass(frozen=True, slots=True)
class Credentials:
    project: Project
    management_id: str
    management_token: str
    generated: list[str] = field(default_factory=list)


def make_storage(settings: Settings) -> Storage:
    path = sqlite_path(settings.database_url)
    if path is None:
        return PostgresStorage(settings.database_url, pool_size=settings.db_pool_size)
    return SqliteStorage(path)


async def open_storage(settings: Settings) -> Storage:
    """Open the store and bring its schema up to date."""
    storage = make_storage(settings)
    await storage.open()
    await storage.migrate()
    return storage


def _check_secret(secret: str) -> str:
    try:
        key = base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if not secret.startswith(SECRET_PREFIX) or len(key) < 16:
        raise SettingsError(
            "SENDOUT_WEBHOOK_SECRET must be 'whsec_' followed by base64 of at least 16 bytes"
        )
    return secret


async def _management(
    storage: Storage, settings: Settings, generated: list[str]
) -> tuple[str, str]:
    values: list[str] = []
    for key, given in (
        (_MANAGEMENT_ID, settings.management_id),
        (_MANAGEMENT_TOKEN, settings.management_token),
    ):
        if given is not None:
            if given != await storage.get_setting(key):
                await storage.put_setting(key, given)
            values.append(given)
            continue
        stored = await storage.get_setting(key)
        if stored is None:
            # Processes starting together each make one; the first stored is everybody's.
            mine = ("mgmt_" if key == _MANAGEMENT_ID else "") + ids.secret_token(24)
            stored = await storage.put_setting_if_absent(key, mine)
            if stored == mine:
                generated.append(key)
        values.append(stored)
    return values[0], values[1]


async def _default_project(
    storage: Storage, settings: Settings, clock: Clock, generated: list[str]
) -> Project:
    given_secret = (
        None if settings.webhook_secret is None else _check_secret(settings.webhook_secret)
    )
    project = await storage.default_project()
    if project is None:
        fresh = [
            name
            for name, given in (
                ("app_id", settings.app_id),
                ("app_token", settings.app_token),
                ("webhook_secret", given_secret),
            )
            if given is None
        ]
        mine = new_project(
            "Default project",
            isoformat(clock.now()),
            app_id=settings.app_id,
            app_token=settings.app_token,
            webhook_secret=given_secret,
        )
        try:
            project = await storage.create_default_project(mine)
        except Conflict as exc:
            raise SettingsError(exc.details) from None
        if project.id == mine.id:  # not created first by another process starting at once
            generated.extend(fresh)
    wanted = (
        settings.app_id or project.app_id,
        settings.app_token or project.app_token,
        given_secret or project.webhook_secret,
    )
    if wanted != (project.app_id, project.app_token, project.webhook_secret):
        project = await storage.update_project_credentials(
            project.id, app_id=wanted[0], app_token=wanted[1], webhook_secret=wanted[2]
        )
    return project


async def ensure_credentials(storage: Storage, settings: Settings, clock: Clock) -> Credentials:
    """The default project and management key: from settings when given, else stored, else new."""
    generated: list[str] = []
    project = await _default_project(storage, settings, clock, generated)
    management_id, management_token = await _management(storage, settings, generated)
    return Credentials(project, management_id, management_token, generated)


def address_policy(settings: Settings) -> AddressPolicy:
    return AddressPolicy(settings.allowed_private_networks)


def make_worker(
    storage: Storage,
    settings: Settings,
    clock: Clock,
    observe: Callable[[str, float], None] = metrics.record_attempt,
) -> tuple[Worker, Sender]:
    sender = new_sender(
        settings.worker_concurrency, settings.delivery_timeout, address_policy(settings)
    )
    policy = RetryPolicy(
        settings.retry_schedule,
        throttle_floor=settings.retry_throttle_floor,
        retry_after_cap=settings.retry_after_max,
    )
    limits = WorkerLimits(
        concurrency=settings.worker_concurrency,
        batch=settings.worker_batch,
        per_destination=settings.destination_concurrency,
        lease_seconds=settings.lease_seconds,
        poll_interval=settings.poll_interval,
        pause_after=settings.pause_after_failures,
        retention_seconds=settings.retention_days * 86400,
        housekeeping_interval=settings.housekeeping_interval,
    )
    return Worker(storage, sender, policy, clock, limits, observe=observe), sender
