"""Times typed into the dashboard's forms: a ``datetime-local`` value read in the browser's
offset (the ``tz`` field time.js fills, in minutes as ``Date.getTimezoneOffset`` gives them)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sendout.clock import isoformat
from sendout.dashboard.pages import PageError

__all__ = ["form_time", "iso_or_none"]


def _offset(tz: str | None) -> timedelta:
    try:
        minutes = int(tz or "0")
    except ValueError:
        minutes = 0
    return timedelta(minutes=minutes if abs(minutes) <= 14 * 60 else 0)


def form_time(value: str | None, tz: str | None, label: str) -> datetime | None:
    """The UTC moment of a typed local time (or of an ISO 8601 text with its offset);
    ``None`` for an empty field; a 400 page naming ``label`` for anything else."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise PageError(
            400, "Invalid time", f"{label}: '{value}' is not a date and time."
        ) from None
    if moment.tzinfo is None:
        moment = (moment + _offset(tz)).replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def iso_or_none(moment: datetime | None) -> str | None:
    return None if moment is None else isoformat(moment)
