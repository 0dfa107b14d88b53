"""When a channel stops being tried until someone sets it live again. Pure."""

from __future__ import annotations

__all__ = ["pause_reason"]


def pause_reason(consecutive_failures: int, status_code: int | None, threshold: int) -> str | None:
    """Why the channel must pause now, or ``None`` to keep trying."""
    if status_code == 410:
        return "the receiver answered 410 Gone"
    if consecutive_failures >= threshold:
        return f"{consecutive_failures} consecutive failed attempts"
    return None
