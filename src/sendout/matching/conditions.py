"""Distribution conditions in Voucherify's filter shape: checked at save, evaluated per event. Pure.

A conditions object maps paths to operators, combined by its ``junction`` (``AND`` by default,
or ``OR``)::

    {"junction": "AND",
     "event.metadata.plan": {"conditions": {"$is": ["pro"]}},
     "customer.metadata.region": {"conditions": {"$in": ["EMEA", "NA"]}},
     "$or": [{"customer.email": {"conditions": {"$has_value": true}}},
             {"customer.phone": {"conditions": {"$has_value": true}}}]}

Several operators under one path must all hold. ``$or`` / ``$and`` take a list of conditions
objects of the same shape (one level deep; each may set its own ``junction``) and count as one
item of the outer junction. Nothing is coerced: a number never equals a string, booleans are not
numbers, a missing value (absent or ``null``) satisfies only ``$is_unknown``, ``$is_not`` and
``$not_in``. Order operators compare numbers with numbers, or ISO 8601 dates and date-times with
each other as instants (a date is midnight UTC).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from typing import Any

from sendout.errors import InvalidInput

__all__ = [
    "MAX_CLAUSES",
    "OPERATORS",
    "PATH_ROOTS",
    "check_conditions",
    "facts_of",
    "unmet",
]

JSON = dict[str, Any]
MAX_CLAUSES = 50  # operators in one distribution's conditions, nested ones included
CUSTOMER_FIELDS = ("id", "source_id", "name", "email", "phone", "birthdate")
PATH_ROOTS = (
    "event.metadata.*",
    *(f"customer.{f}" for f in CUSTOMER_FIELDS),
    "customer.metadata.*",
    "customer.address.*",
)
_EQUALITY = ("$is", "$is_not", "$in", "$not_in")
_TEXT = ("$contains", "$starts_with", "$ends_with")
_ORDER = ("$more_than", "$less_than", "$more_than_equal", "$less_than_equal")
_PRESENCE = ("$has_value", "$is_unknown")
OPERATORS = (*_EQUALITY, *_TEXT, *_ORDER, *_PRESENCE)
_GROUPS = ("$or", "$and")
_MISSING = object()


def _refuse(path: str, why: str) -> InvalidInput:
    return InvalidInput(
        f"conditions.{path}: {why}" if path else f"conditions: {why}",
        key="invalid_conditions",
        message="Invalid conditions",
    )


# --- checked at save ----------------------------------------------------------------------------


def check_conditions(raw: Any) -> JSON | None:
    """The conditions to store (``None`` when there are none); ``invalid_conditions`` (400)
    naming the path when ``raw`` is not a conditions object sendout can evaluate."""
    if raw is None or raw == {}:
        return None
    counted = [0]
    checked = _check_object(raw, "", nested=False, counted=counted)
    if counted[0] > MAX_CLAUSES:
        raise _refuse("", f"at most {MAX_CLAUSES} operators, got {counted[0]}")
    return checked if len(checked) > 1 else None


def _check_object(raw: Any, where: str, *, nested: bool, counted: list[int]) -> JSON:
    if not isinstance(raw, dict):
        raise _refuse(where, "must be an object of paths")
    junction = raw.get("junction", "AND")
    if junction not in ("AND", "OR"):
        raise _refuse(_at(where, "junction"), f"must be AND or OR, got {junction!r}")
    checked: JSON = {"junction": junction}
    for key, value in raw.items():
        if key == "junction":
            continue
        if key in _GROUPS:
            if nested:
                raise _refuse(_at(where, key), "conditions nest one level deep at most")
            checked[key] = _check_group(value, _at(where, key), counted)
        else:
            _check_path(key)
            checked[key] = {"conditions": _check_operators(value, key, counted)}
    if len(checked) == 1:
        raise _refuse(where, "names no path")
    return checked


def _at(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _check_group(value: Any, where: str, counted: list[int]) -> list[JSON]:
    if not isinstance(value, list) or not value:
        raise _refuse(where, "must be a non-empty list of conditions objects")
    return [
        _check_object(item, f"{where}[{i}]", nested=True, counted=counted)
        for i, item in enumerate(value)
    ]


def _check_path(path: str) -> None:
    parts = path.split(".")
    known = (
        (len(parts) >= 3 and parts[0] == "event" and parts[1] == "metadata")
        or (len(parts) == 2 and parts[0] == "customer" and parts[1] in CUSTOMER_FIELDS)
        or (len(parts) >= 3 and parts[0] == "customer" and parts[1] in ("metadata", "address"))
    )
    if not known or not all(parts):
        raise _refuse(path, f"unknown path; paths start with {', '.join(PATH_ROOTS)}")


def _check_operators(value: Any, path: str, counted: list[int]) -> JSON:
    operators = value.get("conditions") if isinstance(value, dict) else None
    if not isinstance(operators, dict) or not operators or set(value) != {"conditions"}:
        raise _refuse(path, 'must be {"conditions": {"$operator": [value, …]}}')
    checked: JSON = {}
    for op, operand in operators.items():
        if op not in OPERATORS:
            raise _refuse(path, f"unknown operator {op!r}; operators: {', '.join(OPERATORS)}")
        checked[op] = _check_operand(op, operand, path)
        counted[0] += 1
    return checked


def _check_operand(op: str, operand: Any, path: str) -> Any:
    if op in _PRESENCE:
        if operand is True or operand == [] or (operand == [True] and operand[0] is True):
            return True
        raise _refuse(path, f"{op} takes true")
    values = operand if isinstance(operand, list) else [operand]
    if not values:
        raise _refuse(path, f"{op} needs at least one value")
    if op in _EQUALITY:
        if not all(isinstance(v, str | int | float | bool) for v in values):
            raise _refuse(path, f"{op} compares with strings, numbers or booleans")
        return values
    if op in _TEXT:
        if not all(isinstance(v, str) for v in values):
            raise _refuse(path, f"{op} takes strings")
        return values
    if len(values) != 1 or _orderable(values[0]) is None:
        raise _refuse(path, f"{op} takes one number or one ISO 8601 date or date-time")
    return values


# --- evaluated per event ------------------------------------------------------------------------


def facts_of(event_metadata: Mapping[str, Any], customer: Any) -> JSON:
    """What paths look into: the event's metadata and the customer's fields."""
    return {
        "event": {"metadata": event_metadata},
        "customer": {
            **{f: getattr(customer, f) for f in CUSTOMER_FIELDS},
            "metadata": customer.metadata or {},
            "address": customer.address or {},
        },
    }


def unmet(conditions: JSON | None, facts: JSON) -> str | None:
    """``None`` when the conditions hold; otherwise the path (or paths) that failed."""
    if not conditions:
        return None
    return _object_unmet(conditions, facts)


def _object_unmet(conditions: JSON, facts: JSON) -> str | None:
    failed: list[str] = []
    for key, value in conditions.items():
        if key == "junction":
            continue
        if key in _GROUPS:
            miss = _group_unmet(key, value, facts)
        else:
            miss = _path_unmet(key, value["conditions"], facts)
        if miss is None and conditions.get("junction") == "OR":
            return None
        if miss is not None:
            if conditions.get("junction") != "OR":
                return miss
            failed.append(miss)
    return " or ".join(failed) if failed else None


def _group_unmet(kind: str, items: list[JSON], facts: JSON) -> str | None:
    misses = [_object_unmet(item, facts) for item in items]
    if kind == "$or":
        return None if any(m is None for m in misses) else "(" + " or ".join(map(str, misses)) + ")"
    return next((m for m in misses if m is not None), None)


def _path_unmet(path: str, operators: JSON, facts: JSON) -> str | None:
    actual = _lookup(facts, path)
    for op, operand in operators.items():
        if not _TESTS[op](actual, operand):
            return f"{path} ({op})"
    return None


def _lookup(facts: JSON, path: str) -> Any:
    value: Any = facts
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return _MISSING
        value = value[part]
    return _MISSING if value is None else value


def _same(a: Any, b: Any) -> bool:
    """Equal as JSON values: numbers by value, never a bool for a number or a string."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    return type(a) is type(b) and bool(a == b)


def _equals_any(actual: Any, values: list[Any]) -> bool:
    return actual is not _MISSING and any(_same(actual, v) for v in values)


def _text(test: Callable[[str, str], bool]) -> Callable[[Any, list[Any]], bool]:
    def run(actual: Any, values: list[Any]) -> bool:
        return isinstance(actual, str) and any(test(actual, v) for v in values)

    return run


def _orderable(value: Any) -> tuple[str, float] | None:
    """A number, or an ISO 8601 date or date-time as a UTC timestamp; ``None`` otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return "number", float(value)
    if not isinstance(value, str):
        return None
    try:
        if len(value) == 10:
            moment = datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC)
        else:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
    except ValueError:
        return None
    return "time", moment.timestamp()


def _order(test: Callable[[float, float], bool]) -> Callable[[Any, list[Any]], bool]:
    def run(actual: Any, values: list[Any]) -> bool:
        left, right = _orderable(actual), _orderable(values[0])
        return (
            left is not None
            and right is not None
            and left[0] == right[0]
            and test(left[1], right[1])
        )

    return run


_TESTS: dict[str, Callable[[Any, Any], bool]] = {
    "$is": _equals_any,
    "$in": _equals_any,
    "$is_not": lambda actual, values: not _equals_any(actual, values),
    "$not_in": lambda actual, values: not _equals_any(actual, values),
    "$contains": _text(lambda a, v: v in a),
    "$starts_with": _text(str.startswith),
    "$ends_with": _text(str.endswith),
    "$more_than": _order(lambda a, v: a > v),
    "$less_than": _order(lambda a, v: a < v),
    "$more_than_equal": _order(lambda a, v: a >= v),
    "$less_than_equal": _order(lambda a, v: a <= v),
    "$has_value": lambda actual, _: actual is not _MISSING,
    "$is_unknown": lambda actual, _: actual is _MISSING,
}
