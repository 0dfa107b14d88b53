"""Webhook signatures: Voucherify's ``x-voucherify-signature`` and Standard Webhooks. Pure."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from dataclasses import dataclass

__all__ = [
    "SECRET_PREFIX",
    "SigningKeys",
    "new_secret",
    "signature_headers",
    "standard_secret_problem",
    "standard_signature",
    "voucherify_secret_problem",
    "voucherify_signature",
]

SECRET_PREFIX = "whsec_"
_VOUCHERIFY_SECRET = re.compile(r"[\x21-\x7e]{8,1024}")


@dataclass(frozen=True, slots=True)
class SigningKeys:
    """What signs one attempt: every Standard Webhooks secret (newest first; two during a
    rotation's grace period) and the one Voucherify secret, used verbatim."""

    standard: tuple[str, ...]
    voucherify: str


def new_secret(random_bytes: bytes) -> str:
    """``whsec_`` + base64 of the key bytes (the Standard Webhooks secret format)."""
    return SECRET_PREFIX + base64.b64encode(random_bytes).decode("ascii")


def standard_secret_problem(secret: str) -> str | None:
    """Why ``secret`` cannot be a Standard Webhooks secret, or ``None`` if it can."""
    try:
        key = base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if not secret.startswith(SECRET_PREFIX) or len(key) < 16:
        return "must be 'whsec_' followed by base64 of at least 16 bytes"
    return None


def voucherify_secret_problem(secret: str) -> str | None:
    """Why ``secret`` cannot key ``x-voucherify-signature``, or ``None`` if it can: 8 to 1,024
    visible ASCII characters (no spaces), so it is the same string on every side."""
    if _VOUCHERIFY_SECRET.fullmatch(secret) is None:
        return "must be 8 to 1024 visible ASCII characters (no spaces or control characters)"
    return None


def voucherify_signature(secret: str, body: bytes) -> str:
    """Lowercase hex HMAC-SHA256 of the exact body bytes, keyed by the secret string."""
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def _standard_key(secret: str) -> bytes:
    encoded = secret.removeprefix(SECRET_PREFIX)
    return base64.b64decode(encoded)


def standard_signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`` keyed by the decoded secret."""
    signed = msg_id.encode("utf-8") + b"." + str(timestamp).encode("ascii") + b"." + body
    digest = hmac.new(_standard_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def signature_headers(
    keys: SigningKeys, msg_id: str, timestamp: int, body: bytes
) -> dict[str, str]:
    """Headers for one attempt: ``webhook-signature`` carries one ``v1,`` signature per
    Standard Webhooks secret; ``x-voucherify-signature`` is the one Voucherify secret's."""
    return {
        "content-type": "application/json",
        "x-voucherify-signature": voucherify_signature(keys.voucherify, body),
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(
            standard_signature(key, msg_id, timestamp, body) for key in keys.standard
        ),
    }
