from __future__ import annotations

import pytest

from sendout.events.metadata import metadata_problems
from sendout.records import PropertyDef

PROPS = {
    "name": PropertyDef("string"),
    "count": PropertyDef("number", optional=True),
    "day": PropertyDef("date", optional=True),
    "at": PropertyDef("datetime", optional=True),
    "flag": PropertyDef("boolean", optional=True),
    "gone": PropertyDef("number", deleted=True),
}


def test_valid_metadata_has_no_problems() -> None:
    ok = {
        "name": "a",
        "count": 1.5,
        "day": "2024-03-14",
        "at": "2024-03-14T11:47:24.598Z",
        "flag": False,
        "extra": [1],
    }
    assert metadata_problems(PROPS, ok) == []


@pytest.mark.parametrize(
    ("metadata", "fragment"),
    [
        ({}, "'name' is required"),
        ({"name": 1}, "'name' must be a string"),
        ({"name": "a", "count": True}, "'count' must be a number"),
        ({"name": "a", "count": "3"}, "'count' must be a number"),
        ({"name": "a", "day": "2024-02-30"}, "'day' must be a date"),
        ({"name": "a", "day": "2024-03-14T00:00:00Z"}, "'day' must be a date"),
        ({"name": "a", "at": "2024-03-14"}, "'at' must be an ISO 8601 date-time"),
        ({"name": "a", "flag": 1}, "'flag' must be true or false"),
    ],
)
def test_each_problem_is_named(metadata: dict[str, object], fragment: str) -> None:
    problems = metadata_problems(PROPS, metadata)
    assert len(problems) == 1 and fragment in problems[0]


def test_deleted_properties_are_not_checked() -> None:
    assert metadata_problems(PROPS, {"name": "a", "gone": "anything"}) == []
