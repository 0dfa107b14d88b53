"""The attributes of a delivery attempt's span: what links it to its event and delivery.

A claimed delivery does not carry its event's id, but its body does (``data.event.id`` of the
``customer.custom_event`` envelope, the request id as ``event.group_id``): the body is parsed
for them, and only when tracing is on. A channel whose designed body leaves them out has spans
without them; ``sendout.delivery_id`` (the ``whs_…`` webhook id) still finds the delivery,
and the delivery its event.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import orjson

from sendout import tracing
from sendout.records import ClaimedDelivery, Outcome

__all__ = ["attempt_attributes", "record_outcome"]


def attempt_attributes(delivery: ClaimedDelivery) -> dict[str, tracing.Value]:
    """The span's attributes before the attempt ({} when tracing is off: nothing is parsed)."""
    if not tracing.enabled():
        return {}
    target = urlsplit(delivery.url)  # not url.full: a webhook URL may hold a secret
    attributes: dict[str, tracing.Value] = {
        "sendout.delivery_id": delivery.id,
        "sendout.distribution_id": delivery.distribution_id,
        "sendout.project_id": delivery.project_id,
        "sendout.channel_index": delivery.channel_index,
        "sendout.attempt": delivery.attempts + 1,
        "http.request.method": "POST",
        "url.scheme": target.scheme,
        "server.address": target.hostname or "",
        "server.port": target.port or (443 if target.scheme == "https" else 80),
    }
    attributes.update(_body_ids(delivery.body))
    return attributes


def record_outcome(span: tracing.Span, outcome: Outcome, label: str) -> None:
    """What the attempt came to: its status code, ``sendout.outcome`` (delivered, retry,
    failed) and, unless delivered, the error (the span is then marked failed)."""
    if not tracing.enabled():
        return
    attributes: dict[str, tracing.Value] = {"sendout.outcome": label}
    if outcome.status_code is not None:
        attributes["http.response.status_code"] = outcome.status_code
    if not outcome.delivered:
        attributes["error.type"] = (
            str(outcome.status_code) if outcome.status_code is not None else _error_type(outcome)
        )
    span.set_attributes(attributes)
    if not outcome.delivered:
        tracing.failed(span, outcome.error or f"HTTP {outcome.status_code}")


def _body_ids(body: bytes) -> dict[str, tracing.Value]:
    try:
        envelope: Any = orjson.loads(body)
    except orjson.JSONDecodeError:
        return {}
    found: dict[str, tracing.Value] = {}
    event_id = _at(envelope, "data", "event", "id")
    if isinstance(event_id, str):
        found["sendout.event_id"] = event_id
    request_id = _at(envelope, "event", "group_id")
    if isinstance(request_id, str):
        found["sendout.request_id"] = request_id
    return found


def _at(value: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _error_type(outcome: Outcome) -> str:
    """The error's kind: what comes before the colon of the recorded error (``timeout``,
    ``connect error``, ``blocked destination``)."""
    return (outcome.error or "error").split(":", 1)[0]
