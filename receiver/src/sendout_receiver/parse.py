"""Turn a body into typed models, and the two steps together: ``verify_and_parse``.

A body that is not JSON, or not the shape of a ``customer.custom_event`` webhook, raises
``InvalidPayload`` (with pydantic's error list) instead of pydantic's own exception.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from sendout_receiver.errors import InvalidPayload
from sendout_receiver.models import CustomerCustomEventData, CustomerCustomEventWebhook
from sendout_receiver.verify import Scheme, verify

__all__ = ["Body", "parse", "parse_data", "verify_and_parse"]

Body = bytes | str | Mapping[str, Any]
M = TypeVar("M", bound=BaseModel)
_SHOWN_ERRORS = 3


def _where(error: Mapping[str, Any]) -> str:
    return ".".join(str(part) for part in error["loc"]) or "body"


def _validate(model: type[M], body: Body, what: str) -> M:
    try:
        if isinstance(body, bytes | str):
            return model.model_validate_json(body)
        return model.model_validate(body)
    except ValidationError as exc:
        errors = [dict(e) for e in exc.errors(include_url=False)]
        shown = "; ".join(f"{_where(e)}: {e['msg']}" for e in errors[:_SHOWN_ERRORS])
        more = f" (and {len(errors) - _SHOWN_ERRORS} more)" if len(errors) > _SHOWN_ERRORS else ""
        raise InvalidPayload(f"not {what}: {shown}{more}", errors) from None


def parse(body: Body) -> CustomerCustomEventWebhook:
    """The whole webhook (envelope and ``data``) from its raw body or its decoded JSON."""
    return _validate(CustomerCustomEventWebhook, body, "a customer.custom_event webhook")


def parse_data(body: Body) -> CustomerCustomEventData:
    """``data`` alone: what a payload designer's ``raw`` body or a stored copy may hold."""
    return _validate(CustomerCustomEventData, body, "customer.custom_event data")


def verify_and_parse(
    body: bytes,
    headers: Mapping[str, str],
    secret: str,
    *,
    tolerance: int = 300,
    now: datetime | None = None,
    scheme: Scheme = "auto",
) -> CustomerCustomEventWebhook:
    """``verify`` then ``parse``: nothing is parsed from a body that is not proven genuine."""
    verify(body, headers, secret, tolerance=tolerance, now=now, scheme=scheme)
    return parse(body)
