"""JSON the way the wire wants it: compact UTF-8 bytes, explicit nulls read as absent."""

from __future__ import annotations

from typing import Any

import orjson

__all__ = ["dumps", "loads", "strip_nulls"]


def dumps(value: Any) -> bytes:
    """Compact, UTF-8, no ASCII escaping: what Voucherify's signature check re-derives."""
    return orjson.dumps(value)


def loads(raw: bytes | str) -> Any:
    return orjson.loads(raw)


def strip_nulls(value: Any) -> Any:
    """Drop object keys whose value is ``null``, at every depth (``from_dict`` SDK models send them)."""
    if isinstance(value, dict):
        return {k: strip_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [strip_nulls(v) for v in value]
    return value
