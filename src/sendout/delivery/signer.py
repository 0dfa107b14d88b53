"""Webhook signatures: Voucherify's ``x-voucherify-signature`` and Standard Webhooks. Pure."""

from __future__ import annotations

import base64
import hashlib
import hmac

__all__ = [
    "SECRET_PREFIX",
    "new_secret",
    "signature_headers",
    "standard_signature",
    "voucherify_signature",
]

SECRET_PREFIX = "whsec_"


def new_secret(random_bytes: bytes) -> str:
    """``whsec_`` + base64 of the key bytes (the Standard Webhooks secret format)."""
    return SECRET_PREFIX + base64.b64encode(random_bytes).decode("ascii")


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
    secrets: str | tuple[str, ...], msg_id: str, timestamp: int, body: bytes
) -> dict[str, str]:
    """Headers for one attempt. With several secrets (newest first, during a rotation) every
    one signs ``webhook-signature`` and the newest signs ``x-voucherify-signature``."""
    keys = (secrets,) if isinstance(secrets, str) else secrets
    return {
        "content-type": "application/json",
        "x-voucherify-signature": voucherify_signature(keys[0], body),
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(
            standard_signature(key, msg_id, timestamp, body) for key in keys
        ),
    }
