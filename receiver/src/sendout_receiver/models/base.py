"""The base every payload model shares: unknown keys kept, timestamps written back as sent."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, PlainSerializer

__all__ = ["JSONObject", "Model", "Timestamp"]

JSONObject = dict[str, Any]


def _iso(moment: datetime) -> str:
    """Voucherify's form: UTC, milliseconds, ``Z`` (``2024-03-14T11:47:24.598Z``)."""
    if moment.tzinfo is None:
        return moment.isoformat(timespec="milliseconds")
    utc = moment.astimezone(UTC).replace(tzinfo=None)
    return utc.isoformat(timespec="milliseconds") + "Z"


Timestamp = Annotated[datetime, PlainSerializer(_iso, return_type=str, when_used="json")]


class Model(BaseModel):
    """Unknown keys are kept (``model_extra``) and dumped again, never dropped: Voucherify adds
    fields without a version bump, and a designer may add its own."""

    model_config = ConfigDict(extra="allow")
