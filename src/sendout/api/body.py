"""Reading a JSON request body: media type, size limit, syntax, nulls, then the model; and the
field types the request models use so that JSON values are taken for what they are."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, TypeVar

import orjson
from pydantic import AfterValidator, BaseModel, BeforeValidator, Strict, ValidationError
from pydantic_core import PydanticCustomError
from starlette.requests import Request

from sendout.errors import InvalidInput, SendoutError
from sendout.jsonutil import strip_nulls

__all__ = [
    "MAX_METADATA_BYTES",
    "Bool",
    "Int",
    "IsoDate",
    "IsoDateTime",
    "Metadata",
    "Number",
    "parse_model",
    "read_json",
    "read_json_value",
    "read_model",
    "read_optional_model",
]

M = TypeVar("M", bound=BaseModel)

# Deeper bodies are refused: what is stored must serialize again (orjson stops at 254 levels),
# and no Voucherify object nests anywhere near this.
MAX_DEPTH = 64

# Pydantic's lax mode reads ``true`` as 1, ``"5"`` as 5 and ``0`` or ``"0"`` as 1970-01-01. A JSON
# body says what it means: a number field takes a JSON number (an integer field, an integer),
# never a boolean or a string; a date field takes an ISO 8601 string, never a number.
Int = Annotated[int, Strict()]
"""A JSON integer: not ``true``, ``1.5`` nor ``"1"``."""
Number = Annotated[float, Strict()]
"""A JSON number, integer or not: not ``true`` nor ``"1"``."""
Bool = Annotated[bool, Strict()]
"""A JSON boolean: not ``0``, ``1`` nor ``"true"``."""

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _iso_string(kind: str) -> BeforeValidator:
    def check(value: Any) -> Any:
        if isinstance(value, dt.date):  # built in Python, not read from JSON
            return value
        if not isinstance(value, str) or not _ISO_DATE.match(value):
            raise PydanticCustomError(
                f"iso_{kind}", f"Input should be an ISO 8601 {kind} string (YYYY-MM-DD…)"
            )
        return value

    return BeforeValidator(check)


IsoDate = Annotated[dt.date, _iso_string("date")]
"""A date as an ISO 8601 string (``"1990-05-17"``): not a number nor a timestamp string."""
IsoDateTime = Annotated[dt.datetime, _iso_string("datetime")]
"""A time as an ISO 8601 string (``"2024-01-31T10:00:00Z"``): not a Unix timestamp."""


MAX_METADATA_BYTES = 32 * 1024


def _bounded(value: dict[str, Any]) -> dict[str, Any]:
    size = len(orjson.dumps(value))
    if size > MAX_METADATA_BYTES:
        raise PydanticCustomError(
            "metadata_too_large",
            "metadata is {size} bytes as compact JSON; at most {limit} are kept",
            {"size": size, "limit": MAX_METADATA_BYTES},
        )
    return value


Metadata = Annotated[dict[str, Any], AfterValidator(_bounded)]
"""A ``metadata`` object, at most :data:`MAX_METADATA_BYTES` as compact JSON: every stored
thing stays small enough that a page of a hundred of them is a few megabytes."""


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


async def _read_limited(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit():
        if int(declared) > limit:
            raise _too_large(limit)
        return await request.body()  # the server stops at the declared length
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(limit: int) -> SendoutError:
    return SendoutError(
        f"The request body is larger than the limit of {limit} bytes",
        status=413,
        key="payload_too_large",
        message="Payload too large",
    )


async def read_json(request: Request, limit: int) -> dict[str, Any]:
    """The body as a JSON object with ``null`` members removed, or a clear 4xx."""
    return _object(await read_json_value(request, limit))


def _object(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidInput(
            f"The request body must be a JSON object, got {type(value).__name__}",
            key="invalid_payload",
        )
    return strip_nulls(value)  # type: ignore[no-any-return]


async def read_json_value(request: Request, limit: int) -> Any:
    """The body as any JSON value (checked media type, size and syntax), or a clear 4xx."""
    _check_media_type(request)
    return _parse(await _read_limited(request, limit))


def _check_media_type(request: Request) -> None:
    content_type = request.headers.get("content-type", "")
    if not _is_json(content_type):
        raise SendoutError(
            f"Expected Content-Type: application/json, got {content_type or 'none'!r}",
            status=415,
            key="unsupported_media_type",
            message="Unsupported media type",
        )


def _parse(raw: bytes) -> Any:
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(
            f"The request body is not valid JSON: {exc}",
            key="invalid_json",
            message="Malformed JSON",
        ) from None
    # JSON can only carry NUL as the escape \u0000; the walk runs only when that text is there.
    if b"\\u0000" in raw and _holds_nul(value):
        raise InvalidInput(
            "Text values (and keys) must not contain the NUL character (\\u0000)",
            key="invalid_payload",
        )
    # Nesting can only be deep with many brackets: count them (fast) before walking.
    if raw.count(b"{") + raw.count(b"[") > MAX_DEPTH and _depth(value) > MAX_DEPTH:
        raise InvalidInput(
            f"The request body nests objects and arrays deeper than {MAX_DEPTH} levels",
            key="invalid_payload",
        )
    return value


def _depth(value: Any) -> int:
    """How deeply objects and arrays nest in this JSON value (a loop: nesting may be deep)."""
    deepest = 0
    pending = [(value, 1)]
    while pending:
        item, level = pending.pop()
        children = item.values() if isinstance(item, dict) else item
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            pending.extend((c, level + 1) for c in children if isinstance(c, dict | list))
    return deepest


def _holds_nul(value: Any) -> bool:
    """Does any string or key in this JSON value hold NUL? (A loop: nesting may be deep.)"""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def parse_model(model: type[M], value: dict[str, Any]) -> M:
    """Validate with pydantic; a missing top-level field gets the key ``missing_<field>``."""
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        raise _invalid(exc) from None


def _invalid(exc: ValidationError) -> InvalidInput:
    first = exc.errors(include_url=False)[0]
    loc = ".".join(str(part) for part in first["loc"])
    if first["type"] == "missing" and len(first["loc"]) == 1:
        return InvalidInput(
            f"Missing required property '{loc}'",
            key=f"missing_{loc}",
            message=f"Missing {loc}",
        )
    if first["type"] == "metadata_too_large":
        return InvalidInput(
            f"{loc}: {first['msg']}", key="metadata_too_large", message="Metadata too large"
        )
    if first["type"] == "extra_forbidden":
        return InvalidInput(
            f"Unknown key '{loc}': this route takes no such setting", key="invalid_payload"
        )
    return InvalidInput(f"{loc}: {first['msg']}", key="invalid_payload")


async def read_model(request: Request, model: type[M], limit: int) -> M:
    return parse_model(model, await read_json(request, limit))


async def read_optional_model(request: Request, model: type[M], limit: int) -> M:
    """Like :func:`read_model`, but an empty body (however it is framed: no ``Content-Length``,
    ``Content-Length: 0`` or chunked with no data) means every field's default. A body that is
    not empty goes through the same checks: media type (415), size limit (413), syntax, model."""
    raw = await _read_limited(request, limit)
    if not raw:
        return parse_model(model, {})
    _check_media_type(request)
    return parse_model(model, _object(_parse(raw)))
