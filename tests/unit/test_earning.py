"""Earning rules keyed on a custom event: shape checks and the points they give. Pure."""

from __future__ import annotations

import pytest

from sendout.errors import InvalidInput
from sendout.promotions.earning import check_loyalty, points_for
from sendout.records import PropertyDef

PROPS = {"amount": PropertyDef("number"), "plan": PropertyDef("string")}


def proportional(every: int, points: int, prop: str = "amount") -> dict[str, object]:
    return {
        "type": "PROPORTIONAL",
        "calculation_type": "CUSTOM_EVENT_METADATA",
        "custom_event": {"metadata": {"every": every, "points": points, "property": prop}},
    }


def test_fixed_points() -> None:
    rule = check_loyalty({"type": "FIXED", "points": 7}, PROPS)
    assert points_for(rule, {}) == 7


@pytest.mark.parametrize(
    ("value", "points"),
    [(0, 0), (4.99, 0), (5, 2), (12, 4), (-10, 0), ("12", 0), (True, 0), (None, 0)],
)
def test_proportional_points_per_started_every(value: object, points: int) -> None:
    rule = check_loyalty(proportional(5, 2), PROPS)
    assert points_for(rule, {"amount": value}) == points


@pytest.mark.parametrize(
    "raw",
    [
        None,
        {"type": "FIXED"},
        {"type": "FIXED", "points": 0},
        {"type": "FIXED", "points": True},
        {"type": "BONUS", "points": 3},
        {**proportional(5, 2), "calculation_type": "ORDER_AMOUNT"},
        proportional(0, 2),
        proportional(5, 2, "plan"),
        proportional(5, 2, "missing"),
    ],
)
def test_bad_rules_are_refused(raw: object) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_loyalty(raw, PROPS)
    assert refused.value.key == "invalid_earning_rule"
