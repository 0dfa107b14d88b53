"""The rules a distribution must follow to be saved: trigger, status, channels (URLs, headers,
retry schedules) and action. Pure."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from sendout.errors import InvalidInput
from sendout.matching.match import CUSTOM_EVENT_TRIGGER
from sendout.outbox.ordering import ORDERINGS
from sendout.outbox.retry import check_schedule
from sendout.records import Channel

__all__ = [
    "ACTION_TARGETS",
    "ACTION_TYPES",
    "RESERVED_HEADERS",
    "STATUSES",
    "check_action",
    "check_channel",
    "check_status",
    "check_trigger_type",
]

ACTION_TYPES = ("plain_message", "notify_promotion", "publish_unique_code")
# The ids each purpose names (checked to exist when the distribution is saved).
ACTION_TARGETS = {
    "plain_message": (),
    "notify_promotion": ("campaign_id", "promotion_tier_id"),
    "publish_unique_code": ("campaign_id",),
}
STATUSES = ("ACTIVE", "PAUSED")
CHANNEL_TYPES = ("webhook",)
# Headers sendout sets itself; a channel may not override them.
RESERVED_HEADERS = frozenset(
    {
        "content-type",
        "content-length",
        "content-encoding",
        "transfer-encoding",
        "connection",
        "host",
        "user-agent",
        "x-voucherify-signature",
        "webhook-id",
        "webhook-timestamp",
        "webhook-signature",
    }
)
_HEADER_NAME = re.compile(r"^[a-z0-9-]{1,100}$")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # what HTTP forbids in a field value
_MAX_HEADER_VALUE = 4096


def check_trigger_type(trigger_type: str) -> None:
    if trigger_type != CUSTOM_EVENT_TRIGGER:
        raise InvalidInput(
            f"trigger.type must be '{CUSTOM_EVENT_TRIGGER}', got '{trigger_type}'",
            key="invalid_trigger",
            message="Invalid trigger",
        )


def check_action(action: Mapping[str, Any]) -> dict[str, Any]:
    kind = action.get("type")
    if kind not in ACTION_TYPES:
        raise InvalidInput(
            f"action.type must be one of {', '.join(ACTION_TYPES)}, got '{kind}'",
            key="invalid_action",
            message="Invalid action",
        )
    unknown = sorted(set(action) - {"type", *ACTION_TARGETS[kind]})
    if unknown:
        raise InvalidInput(
            f"Unknown key 'action.{unknown[0]}': a {kind} action takes"
            f" {', '.join(('type', *ACTION_TARGETS[kind]))}",
            key="invalid_payload",
        )
    checked: dict[str, Any] = {"type": kind}
    for name in ACTION_TARGETS[kind]:
        value = action.get(name)
        if not isinstance(value, str) or not value:
            raise InvalidInput(
                f"action.{name} is required for a {kind} action",
                key="invalid_action",
                message="Invalid action",
            )
        checked[name] = value
    return checked


def check_status(status: str) -> str:
    if status not in STATUSES:
        raise InvalidInput(
            f"status must be ACTIVE or PAUSED, got '{status}'",
            key="invalid_status",
            message="Invalid status",
        )
    return status


def check_url(url: str, where: str) -> str:
    problem = _url_problem(url)
    if problem:
        raise InvalidInput(
            f"{where}.url {problem}: {url!r}", key="invalid_url", message="Invalid URL"
        )
    return url


def _url_problem(url: str) -> str | None:
    if url != url.strip() or any(ch.isspace() for ch in url):
        return "must not contain white space"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError as exc:
        return f"is malformed ({exc})"
    if parts.scheme not in ("http", "https"):
        return "must start with http:// or https://"
    if not parts.hostname:
        return "has no host"
    try:
        # What resolving the host does (socket.getaddrinfo): an empty label or one over 63
        # characters cannot be encoded, so the URL could never be dialled.
        parts.hostname.encode("idna")
    except UnicodeError as exc:
        return f"has a host that is not a valid domain name ({exc.__cause__ or exc})"
    if parts.fragment:
        return "must not have a #fragment"
    return None


def check_headers(headers: Mapping[str, str], where: str) -> dict[str, str]:
    checked: dict[str, str] = {}
    for name, value in headers.items():
        lowered = name.lower()
        if not _HEADER_NAME.match(lowered):
            raise _bad_header(f"{where}.headers: '{name}' may hold only letters, digits and dashes")
        if lowered in RESERVED_HEADERS or lowered.startswith("webhook-"):
            raise _bad_header(
                f"{where}.headers: '{lowered}' is set by sendout and cannot be overridden"
            )
        if _CONTROL.search(value) or len(value) > _MAX_HEADER_VALUE:
            raise _bad_header(
                f"{where}.headers: the value of '{lowered}' must be at most"
                f" {_MAX_HEADER_VALUE} characters with no control character (tab aside)"
            )
        checked[lowered] = value
    return checked


def _bad_header(details: str) -> InvalidInput:
    return InvalidInput(details, key="invalid_header", message="Invalid header")


def check_retry_schedule(raw: Sequence[Any] | None, where: str) -> tuple[float, ...] | None:
    if raw is None:
        return None
    try:
        numbers = [float(d) if not isinstance(d, bool) else float("nan") for d in raw]
        return check_schedule(numbers)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(
            f"{where}.retry_schedule: {exc}",
            key="invalid_retry_schedule",
            message="Invalid retry schedule",
        ) from None


def check_channel(
    index: int,
    kind: str,
    event_name: str,
    url: str,
    headers: Mapping[str, str],
    retry_schedule: Sequence[Any] | None = None,
    ordering: str = "none",
) -> Channel:
    where = f"channels[{index}]"
    if kind not in CHANNEL_TYPES:
        raise InvalidInput(
            f"{where}.type must be 'webhook', got '{kind}'",
            key="invalid_channel",
            message="Invalid channel",
        )
    if ordering not in ORDERINGS:
        raise InvalidInput(
            f"{where}.ordering must be one of {', '.join(map(repr, ORDERINGS))}, got {ordering!r}",
            key="invalid_channel",
            message="Invalid channel",
        )
    return Channel(
        type=kind,
        event_name=event_name,
        url=check_url(url, where),
        headers=check_headers(headers, where),
        retry_schedule=check_retry_schedule(retry_schedule, where),
        ordering=ordering,
    )
