"""Every error the kit raises: one base, verification failures, and a payload that is not one."""

from __future__ import annotations

from typing import Any

__all__ = [
    "InvalidPayload",
    "InvalidSignature",
    "MissingHeader",
    "ReceiverError",
    "TimestampOutOfRange",
    "WebhookVerificationError",
]


class ReceiverError(Exception):
    """Base of everything ``sendout_receiver`` raises about a received webhook."""


class WebhookVerificationError(ReceiverError):
    """The request is not proven to come from the sender: do not act on it."""


class MissingHeader(WebhookVerificationError):
    """A header the signature scheme needs is absent or empty."""

    def __init__(self, name: str) -> None:
        super().__init__(f"missing header {name!r}")
        self.header = name


class InvalidSignature(WebhookVerificationError):
    """No signature matches the body with this secret (forged, tampered or a wrong secret)."""


class TimestampOutOfRange(WebhookVerificationError):
    """``webhook-timestamp`` is not a Unix time within the tolerance of now (a replay, or a
    clock that is off)."""


class InvalidPayload(ReceiverError, ValueError):
    """The body is not JSON, or not a ``customer.custom_event`` webhook.

    ``errors`` holds pydantic's error list (``loc``, ``msg``, ``type`` …); empty when the body
    was not JSON at all.
    """

    def __init__(self, message: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or []
