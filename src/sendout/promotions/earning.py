"""Earning rules keyed on a custom event: the rule's shape and the points it gives. Pure.

Voucherify's ``loyalty`` object of an earning rule, the two forms sendout supports::

    {"type": "FIXED", "points": 10}
    {"type": "PROPORTIONAL", "calculation_type": "CUSTOM_EVENT_METADATA",
     "custom_event": {"metadata": {"every": 5, "points": 1, "property": "amount"}}}

The proportional form gives ``floor(metadata[property] / every) * points``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from sendout.errors import InvalidInput
from sendout.promotions import ids as pids
from sendout.promotions.records import EarningRule
from sendout.records import EventSchema, PropertyDef

__all__ = [
    "check_loyalty",
    "check_rule_schema",
    "new_earning_rule",
    "points_for",
    "rule_schema_ref",
]

JSON = dict[str, Any]


def _bad(details: str) -> InvalidInput:
    return InvalidInput(details, key="invalid_earning_rule", message="Invalid earning rule")


def _positive_int(value: Any, where: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise _bad(f"{where} must be a positive integer")
    return value


def check_loyalty(raw: Any, properties: Mapping[str, PropertyDef]) -> JSON:
    """The rule's ``loyalty`` object, checked against the custom event's schema properties."""
    if not isinstance(raw, Mapping):
        raise _bad("loyalty is required: {type: FIXED, points} or {type: PROPORTIONAL, …}")
    kind = raw.get("type")
    if kind == "FIXED":
        return {"type": "FIXED", "points": _positive_int(raw.get("points"), "loyalty.points")}
    if kind != "PROPORTIONAL":
        raise _bad(f"loyalty.type must be FIXED or PROPORTIONAL, got {kind!r}")
    if raw.get("calculation_type") != "CUSTOM_EVENT_METADATA":
        raise _bad("a PROPORTIONAL rule needs calculation_type CUSTOM_EVENT_METADATA")
    spec = (raw.get("custom_event") or {}).get("metadata") or {}
    prop = spec.get("property")
    defined = properties.get(prop) if isinstance(prop, str) else None
    if defined is None or defined.type != "number" or defined.deleted:
        raise _bad(
            "loyalty.custom_event.metadata.property must name a number property of the"
            f" custom event's schema, got {prop!r}"
        )
    return {
        "type": "PROPORTIONAL",
        "calculation_type": "CUSTOM_EVENT_METADATA",
        "custom_event": {
            "metadata": {
                "every": _positive_int(spec.get("every"), "loyalty.custom_event.metadata.every"),
                "points": _positive_int(spec.get("points"), "loyalty.custom_event.metadata.points"),
                "property": prop,
            }
        },
    }


def points_for(loyalty: Mapping[str, Any], metadata: Mapping[str, Any]) -> int:
    """Points one event earns under one rule (0 when the property is missing or negative)."""
    if loyalty["type"] == "FIXED":
        return int(loyalty["points"])
    spec = loyalty["custom_event"]["metadata"]
    value = metadata.get(spec["property"])
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        return 0
    if value <= 0:
        return 0
    return int(value // spec["every"]) * int(spec["points"])


def new_earning_rule(
    project_id: str, campaign_id: str, schema: EventSchema, raw: Mapping[str, Any], now: str
) -> EarningRule:
    """An earning rule from its request body (``loyalty`` checked against the event's schema)."""
    return EarningRule(
        id=pids.earning_rule_id(),
        project_id=project_id,
        campaign_id=campaign_id,
        event=schema.name,
        schema_id=schema.id,
        loyalty=check_loyalty(raw.get("loyalty"), schema.properties),
        active=raw.get("active", True) is not False,
        metadata=raw.get("metadata") or {},
        created_at=now,
        updated_at=None,
    )


def rule_schema_ref(raw: Mapping[str, Any]) -> tuple[str, str | None]:
    """How an earning rule names its custom event schema: ``("id", schema_id)`` when
    ``custom_event.schema_id`` is given, else ``("name", event)``."""
    schema_id = (raw.get("custom_event") or {}).get("schema_id")
    if schema_id is not None:
        return "id", schema_id if isinstance(schema_id, str) else None
    event = raw.get("event")
    return "name", event if isinstance(event, str) else None


def check_rule_schema(raw: Mapping[str, Any], index: int, found: EventSchema | None) -> EventSchema:
    """The schema the rule at ``index`` names (``found`` by :func:`rule_schema_ref`); refused
    when there is none, or when ``event`` and ``custom_event.schema_id`` disagree."""
    schema_id = (raw.get("custom_event") or {}).get("schema_id")
    event = raw.get("event")
    if found is None or (event is not None and schema_id is not None and found.name != event):
        raise _bad(
            f"[{index}]: event must name a custom event schema of this project (and"
            f" custom_event.schema_id, when given, must be its id); got event={event!r},"
            f" schema_id={schema_id!r}"
        )
    return found
