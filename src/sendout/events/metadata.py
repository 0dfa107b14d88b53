"""Validate an event's metadata against its custom event schema. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from sendout.errors import InvalidInput
from sendout.records import EventSchema, PropertyDef

__all__ = ["PROPERTY_TYPES", "check_metadata", "metadata_problems"]

PROPERTY_TYPES = ("string", "number", "date", "datetime", "boolean")


def _is_date(value: Any) -> bool:
    if not isinstance(value, str) or len(value) != 10:
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _is_datetime(value: Any) -> bool:
    if not isinstance(value, str) or "T" not in value:
        return False
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


_CHECKS = {
    "string": lambda v: isinstance(v, str),
    "number": _is_number,
    "boolean": lambda v: isinstance(v, bool),
    "date": _is_date,
    "datetime": _is_datetime,
}

_EXPECTED = {
    "string": "a string",
    "number": "a number",
    "boolean": "true or false",
    "date": "a date (YYYY-MM-DD)",
    "datetime": "an ISO 8601 date-time",
}


def metadata_problems(
    properties: Mapping[str, PropertyDef], metadata: Mapping[str, Any]
) -> list[str]:
    """Every way ``metadata`` breaks the schema; empty when it fits.

    Keys the schema does not define are accepted as they are (Voucherify's "allow any").
    """
    problems: list[str] = []
    for name, prop in properties.items():
        if prop.deleted:
            continue
        if name not in metadata:
            if not prop.optional:
                problems.append(f"property '{name}' is required")
            continue
        if not _CHECKS[prop.type](metadata[name]):
            problems.append(f"property '{name}' must be {_EXPECTED[prop.type]}")
    return problems


def check_metadata(schema: EventSchema, metadata: Mapping[str, Any]) -> None:
    """Raise ``metadata_validation_failed`` (400) naming every problem, if there are any."""
    problems = metadata_problems(schema.properties, metadata)
    if problems:
        raise InvalidInput(
            f"Metadata of event '{schema.name}' does not match its schema: " + "; ".join(problems),
            key="metadata_validation_failed",
            message="Metadata validation failed",
            resource_id=schema.id,
            resource_type="custom_event_schema",
        )
