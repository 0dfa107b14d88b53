"""Typed settings: defaults < ``SENDOUT_*`` environment < command-line options. Validated once."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from sendout.delivery.addresses import IPNetwork, parse_networks
from sendout.delivery.signer import standard_secret_problem, voucherify_secret_problem
from sendout.outbox.retry import VOUCHERIFY_SCHEDULE, parse_schedule
from sendout.storage.sealing import parse_key

__all__ = ["DEFAULT_DATABASE_URL", "Settings", "SettingsError", "shown_url", "sqlite_path"]

DEFAULT_DATABASE_URL = "sqlite:///data/sendout.db"


class SettingsError(ValueError):
    """A setting has a value sendout cannot use; the message names it and says why."""


def _schedule(text: str) -> tuple[float, ...]:
    try:
        return parse_schedule(text)
    except ValueError as exc:
        raise SettingsError(f"SENDOUT_RETRY_SCHEDULE: {exc} (got {text!r})") from None


def _number(name: str, text: str, kind: type[int] | type[float], minimum: float) -> Any:
    try:
        value = kind(text)
    except ValueError:
        raise SettingsError(f"{name}: expected a number, got {text!r}") from None
    if value < minimum:
        raise SettingsError(f"{name}: must be at least {minimum}, got {text!r}")
    return value


@dataclass(frozen=True, slots=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8000
    database_url: str = DEFAULT_DATABASE_URL
    db_pool_size: int = 10  # PostgreSQL: connections per process (SQLite ignores it)
    # Credentials: taken from here when set, otherwise generated once and stored.
    app_id: str | None = None
    app_token: str | None = None
    management_id: str | None = None
    management_token: str | None = None
    webhook_secret: str | None = None
    voucherify_secret: str | None = None  # the default project's x-voucherify-signature key
    secret_key: str | None = None  # base64 of 32 bytes: seals stored secrets (AES-256-GCM)
    # Delivery.
    retry_schedule: tuple[float, ...] = VOUCHERIFY_SCHEDULE
    retry_throttle_floor: float = 60.0
    retry_after_max: float = 24 * 3600.0
    pause_after_failures: int = 12
    delivery_timeout: float = 10.0
    worker_concurrency: int = 256
    worker_batch: int = 128
    destination_concurrency: int = 128
    lease_seconds: float = 60.0
    poll_interval: float = 1.0
    # serve's worker: "process" (a child process of its own, so API and delivery use two cores)
    # or "inline" (in the API's event loop).
    worker_mode: str = "process"
    allowed_private_networks: tuple[IPNetwork, ...] = ()
    secret_grace_seconds: float = 24 * 3600.0
    # Housekeeping (run by workers).
    retention_days: float = 0.0  # finished deliveries and attempts kept this long; 0 = forever
    housekeeping_interval: float = 600.0  # seconds between purges
    # API.
    max_body_bytes: int = 1024 * 1024
    rate_limit: float = 0.0  # requests per second per project; 0 = no limit
    rate_burst: int = 0  # 0 = twice the rate
    # Operations.
    log_level: str = "info"
    log_format: str = "console"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Read ``SENDOUT_*`` variables, then apply non-``None`` overrides (CLI options)."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get("SENDOUT_" + f.name.upper())
            if raw is not None and raw != "":
                values[f.name] = _parse(f.name, raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        settings = cls(**values)
        settings.check()
        return settings

    def with_overrides(self, **overrides: Any) -> Settings:
        updated = replace(self, **{k: v for k, v in overrides.items() if v is not None})
        updated.check()
        return updated

    def check(self) -> None:
        if not self.retry_schedule:
            raise SettingsError("SENDOUT_RETRY_SCHEDULE: the retry schedule is empty")
        if self.lease_seconds <= self.delivery_timeout:
            raise SettingsError(
                "SENDOUT_LEASE_SECONDS must exceed SENDOUT_DELIVERY_TIMEOUT, or a slow attempt"
                " could be claimed twice"
            )
        if self.worker_mode not in ("process", "inline"):
            raise SettingsError("SENDOUT_WORKER_MODE: expected 'process' or 'inline'")
        if self.log_format not in ("console", "json"):
            raise SettingsError("SENDOUT_LOG_FORMAT: expected 'console' or 'json'")
        if not 0 < self.port < 65536:
            raise SettingsError(f"SENDOUT_PORT: {self.port} is not a TCP port")
        sqlite_path(self.database_url)
        self._check_secrets()

    def _check_secrets(self) -> None:
        if self.webhook_secret is not None:
            problem = standard_secret_problem(self.webhook_secret)
            if problem is not None:
                raise SettingsError(
                    f"SENDOUT_WEBHOOK_SECRET {problem} (a Voucherify secret key goes in"
                    " SENDOUT_VOUCHERIFY_SECRET)"
                )
        if self.voucherify_secret is not None:
            problem = voucherify_secret_problem(self.voucherify_secret)
            if problem is not None:
                raise SettingsError(f"SENDOUT_VOUCHERIFY_SECRET {problem}")
        if self.secret_key is not None:
            try:
                parse_key(self.secret_key)
            except ValueError as exc:
                raise SettingsError(f"SENDOUT_SECRET_KEY {exc}") from None

    @property
    def sealing_key(self) -> bytes | None:
        """The key that seals stored secrets, or ``None`` (they are stored as given)."""
        return None if self.secret_key is None else parse_key(self.secret_key)


_INTS = {
    "port": 1,
    "worker_concurrency": 1,
    "worker_batch": 1,
    "max_body_bytes": 1,
    "pause_after_failures": 1,
    "destination_concurrency": 1,
    "rate_burst": 0,
    "db_pool_size": 1,
}
_FLOATS = {
    "delivery_timeout": 0.01,
    "lease_seconds": 0.01,
    "poll_interval": 0.01,
    "retry_throttle_floor": 0.0,
    "retry_after_max": 0.0,
    "secret_grace_seconds": 0.0,
    "rate_limit": 0.0,
    "retention_days": 0.0,
    "housekeeping_interval": 0.1,
}


def _parse(name: str, raw: str) -> Any:
    env_name = "SENDOUT_" + name.upper()
    if name == "retry_schedule":
        return _schedule(raw)
    if name == "allowed_private_networks":
        try:
            return parse_networks(raw)
        except ValueError as exc:
            raise SettingsError(f"{env_name}: {exc}") from None
    if name in _INTS:
        return _number(env_name, raw, int, _INTS[name])
    if name in _FLOATS:
        return _number(env_name, raw, float, _FLOATS[name])
    return raw


def shown_url(database_url: str) -> str:
    """The URL with its password replaced by ``***``: how logs and messages show it."""
    parts = urlsplit(database_url)
    if not parts.password:
        return database_url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))


def sqlite_path(database_url: str) -> str | None:
    """The file path of a ``sqlite:///`` URL, ``None`` for PostgreSQL; refuse anything else."""
    if database_url.startswith("sqlite:///"):
        path = database_url.removeprefix("sqlite:///")
        if not path:
            raise SettingsError("SENDOUT_DATABASE_URL: sqlite:/// needs a file path")
        return path
    if database_url.startswith(("postgresql://", "postgres://")):
        return None
    raise SettingsError(
        "SENDOUT_DATABASE_URL: expected sqlite:///path/to/file.db or postgresql://…,"
        f" got {database_url!r}"
    )
