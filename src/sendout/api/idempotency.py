"""The ``Idempotency-Key`` request header: read, checked, and tied to the request body."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson
from starlette.requests import Request

from sendout.errors import InvalidInput
from sendout.storage.base import IdempotencyKey

__all__ = [
    "IDEMPOTENCY_HEADER",
    "IDEMPOTENCY_TTL_MS",
    "idempotency_key",
    "keyed",
    "refuse_body_key",
    "refuse_header",
]

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


def refuse_body_key(body: dict[str, Any]) -> None:
    """A single request's key goes in the header: ``idempotency_key`` in its body (a bulk
    item's field) is refused, since ignored it would let a retry track twice."""
    if "idempotency_key" in body:
        raise _invalid(
            "idempotency_key is a field of POST /v1/events/bulk items; send the Idempotency-Key"
            " header here"
        )


def refuse_header(request: Request) -> None:
    """A bulk request's keys go in its items: the header is refused, not ignored."""
    if "idempotency-key" in request.headers:
        raise _invalid(
            "POST /v1/events/bulk takes no Idempotency-Key header: give each item its own"
            " idempotency_key"
        )


def _invalid(details: str) -> InvalidInput:
    return InvalidInput(details, key="invalid_idempotency_key", message="Invalid idempotency key")


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
        raise _invalid(f"{name} must be 1 to {_MAX_LENGTH} printable ASCII characters")
    digest = hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()
    return IdempotencyKey(
        route=route, key=key, request_hash=digest, not_before_ms=now_ms - IDEMPOTENCY_TTL_MS
    )
