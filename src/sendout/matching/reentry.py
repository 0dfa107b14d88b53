"""Re-entry limits: how often one distribution may send to one customer. Pure.

``{"mode": "every_time"}`` (the default: no limit), ``{"mode": "once_per_customer"}``, or
``{"mode": "limited", "limit": N, "period": "P1D"}``: at most ``N`` sends of the distribution to
one customer in any window of that length ending now. The period is an ISO 8601 duration of
weeks, days, hours, minutes and seconds (``P1W``, ``P1D``, ``PT12H``, ``P1DT6H``, ``PT90S``);
months and years have no fixed length and are refused.
"""

from __future__ import annotations

import re
from typing import Any

from sendout.errors import InvalidInput

__all__ = ["MAX_LIMIT", "MODES", "check_reentry", "period_ms", "window"]

JSON = dict[str, Any]
MODES = ("every_time", "once_per_customer", "limited")
MAX_LIMIT = 1_000_000
_MAX_PERIOD_MS = 10 * 366 * 86_400_000  # ten years
_DURATION = re.compile(
    r"P(?:(?P<w>\d+)W)?(?:(?P<d>\d+)D)?(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+)S)?)?"
)
_UNIT_MS = {"w": 604_800_000, "d": 86_400_000, "h": 3_600_000, "m": 60_000, "s": 1_000}


def _refuse(why: str) -> InvalidInput:
    return InvalidInput(f"reentry: {why}", key="invalid_reentry", message="Invalid reentry")


def period_ms(text: str) -> int | None:
    """The length of an ISO 8601 duration of weeks to seconds, in ms; ``None`` if it is not one."""
    match = _DURATION.fullmatch(text)
    if match is None or text in ("P", "PT") or text.endswith("T"):
        return None
    return sum(int(v) * _UNIT_MS[k] for k, v in match.groupdict().items() if v is not None)


def check_reentry(raw: Any) -> JSON | None:
    """The rule to store (``None`` for ``every_time``); ``invalid_reentry`` (400) otherwise."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise _refuse('must be an object such as {"mode": "once_per_customer"}')
    mode = raw.get("mode")
    if mode not in MODES:
        raise _refuse(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    allowed = {"mode", "limit", "period"} if mode == "limited" else {"mode"}
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise _refuse(f"a {mode} rule takes no {unknown[0]!r}")
    if mode == "every_time":
        return None
    if mode == "once_per_customer":
        return {"mode": mode}
    limit, period = raw.get("limit"), raw.get("period")
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise _refuse(f"limit must be a whole number from 1 to {MAX_LIMIT}, got {limit!r}")
    length = period_ms(period) if isinstance(period, str) else None
    if not length or length > _MAX_PERIOD_MS:
        raise _refuse(
            "period must be an ISO 8601 duration of weeks, days, hours, minutes or seconds"
            f" (P1D, PT12H), longer than 0 and at most ten years, got {period!r}"
        )
    return {"mode": mode, "limit": limit, "period": period}


def window(rule: JSON | None, now_ms: int) -> tuple[int | None, int] | None:
    """``(since_ms, limit)``: sends counted from ``since_ms`` (``None``: ever) may not reach
    ``limit``; ``None`` when the distribution may send every time."""
    if rule is None:
        return None
    if rule["mode"] == "once_per_customer":
        return None, 1
    length = period_ms(rule["period"])
    assert length is not None, "checked when the distribution was saved"
    return now_ms - length, int(rule["limit"])
