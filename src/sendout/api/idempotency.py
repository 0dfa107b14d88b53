"""The ``Idempotency-Key`` request header: read, checked, and tied to the request body."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson
from starlette.requests import Request

from sendout.errors import InvalidInput
from sendout.storage.base import IdempotencyKey

__all__ = ["IDEMPOTENCY_HEADER", "IDEMPOTENCY_TTL_MS", "idempotency_key", "keyed"]

IDEMPOTENCY_TTL_MS = 24 * 3600 * 1000
_MAX_LENGTH = 255
# The header as the OpenAPI document describes it, on the route that takes it.
IDEMPOTENCY_HEADER = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "The same key with the same body within 24 hours answers with the first"
    " response (header idempotent-replayed: true) and creates nothing; with another body, 409"
    " idempotency_key_reused.",
    "schema": {"type": "string", "minLength": 1, "maxLength": _MAX_LENGTH},
}


def idempotency_key(
    request: Request, route: str, body: dict[str, Any], now_ms: int
) -> IdempotencyKey | None:
    """The request's key with a hash of its (null-stripped, key-sorted) body, if it sent one."""
    return keyed(request.headers.get("idempotency-key"), route, body, now_ms)


def keyed(
    key: Any, route: str, body: dict[str, Any], now_ms: int, *, name: str = "Idempotency-Key"
) -> IdempotencyKey | None:
    """``key`` (a header's, or a bulk item's ``idempotency_key``: ``name`` says which, for the
    refusal) with a hash of ``body``."""
    if key is None:
        return None
    if (
        not isinstance(key, str)
        or not 0 < len(key) <= _MAX_LENGTH
        or not key.isprintable()
        or not key.isascii()
    ):
        raise InvalidInput(
            f"{name} must be 1 to {_MAX_LENGTH} printable ASCII characters",
            key="invalid_idempotency_key",
            message="Invalid idempotency key",
        )
    digest = hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()
    return IdempotencyKey(
        route=route, key=key, request_hash=digest, not_before_ms=now_ms - IDEMPOTENCY_TTL_MS
    )
