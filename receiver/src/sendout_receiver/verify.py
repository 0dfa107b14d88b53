"""Signature checks: Standard Webhooks (``whsec_`` secrets) and ``x-voucherify-signature``.

Standard Webhooks: ``webhook-signature`` holds one or more space-separated ``v1,<base64>``
signatures (more than one during a secret rotation), each an HMAC-SHA256 of
``{webhook-id}.{webhook-timestamp}.{body}`` keyed with the base64-decoded part of the secret;
``webhook-timestamp`` must be within ``tolerance`` seconds of now, in either direction.

Voucherify: ``x-voucherify-signature`` is the lowercase hex HMAC-SHA256 of the exact body bytes,
keyed with the secret string as it is. There is no timestamp, so no replay protection.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Literal

from sendout_receiver.errors import InvalidSignature, MissingHeader, TimestampOutOfRange

__all__ = ["SECRET_PREFIX", "Scheme", "verify"]

SECRET_PREFIX = "whsec_"
Scheme = Literal["auto", "standard", "voucherify"]


def verify(
    body: bytes,
    headers: Mapping[str, str],
    secret: str,
    *,
    tolerance: int = 300,
    now: datetime | None = None,
    scheme: Scheme = "auto",
) -> None:
    """Return if ``body`` was signed with ``secret``; raise a ``WebhookVerificationError`` if not.

    ``scheme="auto"`` checks Standard Webhooks for a ``whsec_`` secret and
    ``x-voucherify-signature`` for any other. sendout signs ``x-voucherify-signature`` with its
    ``whsec_`` secret string too: pass ``scheme="voucherify"`` to check that header instead.
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    if scheme == "auto":
        scheme = "standard" if secret.startswith(SECRET_PREFIX) else "voucherify"
    if scheme == "standard":
        _verify_standard(body, lowered, secret, tolerance, now or datetime.now(UTC))
    else:
        _verify_voucherify(body, lowered, secret)


def _header(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name, "").strip()
    if not value:
        raise MissingHeader(name)
    return value


def _same(expected: str, given: str) -> bool:
    """Constant-time comparison that also takes non-ASCII text (a forged header may hold any)."""
    return hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace"))


def _verify_voucherify(body: bytes, headers: Mapping[str, str], secret: str) -> None:
    given = _header(headers, "x-voucherify-signature").lower()
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    if not _same(expected, given):
        raise InvalidSignature("x-voucherify-signature does not match the body")


def _standard_key(secret: str) -> bytes:
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        padded = encoded + "=" * (-len(encoded) % 4)  # unpadded base64 too, as the libraries
        key = base64.b64decode(padded, validate=True)
    except binascii.Error:
        raise ValueError("a Standard Webhooks secret is 'whsec_' + base64") from None
    if not key:
        raise ValueError("the webhook secret is empty")
    return key


def _check_timestamp(text: str, tolerance: int, now: datetime) -> None:
    try:
        sent = int(text)
    except ValueError:
        raise TimestampOutOfRange(f"webhook-timestamp {text!r} is not Unix seconds") from None
    skew = now.timestamp() - sent
    if skew > tolerance:
        raise TimestampOutOfRange(f"webhook-timestamp is {skew:.0f} s old (tolerance {tolerance})")
    if -skew > tolerance:
        raise TimestampOutOfRange(
            f"webhook-timestamp is {-skew:.0f} s in the future (tolerance {tolerance})"
        )


def _verify_standard(
    body: bytes, headers: Mapping[str, str], secret: str, tolerance: int, now: datetime
) -> None:
    key = _standard_key(secret)
    msg_id = _header(headers, "webhook-id")
    timestamp = _header(headers, "webhook-timestamp")
    signatures = _header(headers, "webhook-signature")
    _check_timestamp(timestamp, tolerance, now)
    signed = b".".join((msg_id.encode(), timestamp.encode(), body))
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    for candidate in signatures.split():
        version, _, value = candidate.partition(",")
        if version == "v1" and _same(expected, value):
            return
    raise InvalidSignature("no v1 signature in webhook-signature matches the body")
