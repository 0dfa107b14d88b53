"""The field types of request bodies take JSON values for what they are, and an optional body is
read through the same checks as any other (issue 13, items 6 and 10)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from pydantic import BaseModel
from starlette.requests import Request

from sendout.api.body import Int, IsoDate, IsoDateTime, Number, parse_model, read_optional_model
from sendout.errors import InvalidInput, SendoutError


class Body(BaseModel):
    count: Int | None = None
    seconds: Number | None = None
    day: IsoDate | None = None
    at: IsoDateTime | None = None


@pytest.mark.parametrize(
    ("given", "taken"),
    [
        ({"count": 3}, {"count": 3}),
        ({"seconds": 0}, {"seconds": 0.0}),
        ({"seconds": 1.5}, {"seconds": 1.5}),
        ({"day": "1990-05-17"}, {"day": dt.date(1990, 5, 17)}),
        ({"at": "2024-01-31T10:00:00Z"}, {"at": dt.datetime(2024, 1, 31, 10, tzinfo=dt.UTC)}),
    ],
)
def test_json_values_of_the_right_type_are_taken(
    given: dict[str, Any], taken: dict[str, Any]
) -> None:
    assert parse_model(Body, given).model_dump(exclude_none=True) == taken


@pytest.mark.parametrize(
    "given",
    [
        {"count": True},
        {"count": "3"},
        {"count": 3.0},
        {"seconds": True},
        {"seconds": "1"},
        {"day": 0},
        {"day": "0"},
        {"day": False},
        {"day": "1990-02-30"},
        {"at": 0},
        {"at": 1700000000.5},
        {"at": "1700000000"},
    ],
)
def test_other_json_types_are_refused_naming_the_field(given: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_model(Body, given)
    assert refused.value.key == "invalid_payload"
    [field] = given
    assert str(refused.value.args[0]).startswith(f"{field}: ")


def request(chunks: list[bytes], headers: dict[str, str]) -> Request:
    """A request whose body arrives as these ASGI messages (chunked when no content-length)."""
    messages = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
        for i, c in enumerate(chunks or [b""])
    ]

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    raw = [(k.encode(), v.encode()) for k, v in headers.items()]
    return Request({"type": "http", "method": "POST", "headers": raw}, receive)


JSON = {"content-type": "application/json"}


@pytest.mark.parametrize(
    ("chunks", "headers", "count"),
    [
        ([], {}, None),
        ([b""], {"content-length": "0"}, None),
        ([b"", b""], {"content-type": "text/plain"}, None),
        ([b'{"co', b'unt": 2}'], JSON, 2),
        ([b'{"count": 2}'], {**JSON, "content-length": "12"}, 2),
    ],
)
async def test_an_optional_body(chunks: list[bytes], headers: dict[str, str], count: Any) -> None:
    assert (await read_optional_model(request(chunks, headers), Body, 100)).count == count


@pytest.mark.parametrize(
    ("chunks", "headers", "status"),
    [
        ([b'{"count": 2}'], {"content-type": "text/plain"}, 415),
        ([b"{", b'"count": 2}'], {}, 415),
        ([b'{"count": ', b"2" * 200, b"}"], JSON, 413),
        ([b'{"count": true}'], JSON, 400),
        ([b"[]"], JSON, 400),
    ],
)
async def test_an_optional_body_that_is_given_is_checked(
    chunks: list[bytes], headers: dict[str, str], status: int
) -> None:
    with pytest.raises(SendoutError) as refused:
        await read_optional_model(request(chunks, headers), Body, 100)
    assert refused.value.status == status
