"""Time as a value: an injectable clock and the one timestamp format the API speaks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

__all__ = ["Clock", "Stamp", "SystemClock", "from_ms", "isoformat", "parse_iso", "stamp", "to_ms"]


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


def isoformat(moment: datetime) -> str:
    """``2024-03-14T11:47:24.598Z``: UTC, milliseconds, ``Z``; sorts as text."""
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    return moment.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


@dataclass(frozen=True, slots=True)
class Stamp:
    """One moment in the two forms it is stored in: written once for every event it dates
    (a bulk request's items all share their request's moment)."""

    iso: str
    ms: int


def stamp(moment: datetime) -> Stamp:
    return Stamp(isoformat(moment), to_ms(moment))


def parse_iso(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def to_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)
