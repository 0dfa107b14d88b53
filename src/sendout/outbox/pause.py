"""When a channel stops being tried until someone sets it live again. Pure."""

from __future__ import annotations

from collections.abc import Sequence

from sendout.records import Outcome

__all__ = ["ChannelKey", "health_changes", "pause_reason"]

ChannelKey = tuple[str, int]  # (distribution id, channel index)


def pause_reason(consecutive_failures: int, status_code: int | None, threshold: int) -> str | None:
    """Why the channel must pause now, or ``None`` to keep trying."""
    if status_code == 410:
        return "the receiver answered 410 Gone"
    if consecutive_failures >= threshold:
        return f"{consecutive_failures} consecutive failed attempts"
    return None


def health_changes(outcomes: Sequence[Outcome]) -> tuple[list[ChannelKey], list[Outcome]]:
    """What a batch of attempts does to its channels' failure counts: the channels to reset
    (one delivered attempt or more; sorted, the order rows are locked in) and the failures to
    count afterwards (those after each channel's last delivery, in the order attempted)."""
    by_channel: dict[ChannelKey, list[Outcome]] = {}
    for o in sorted(outcomes, key=lambda o: o.attempted_at_ms):
        by_channel.setdefault((o.distribution_id, o.channel_index), []).append(o)
    reset: list[ChannelKey] = []
    failures: list[Outcome] = []
    for key in sorted(by_channel):
        attempts = by_channel[key]
        last_delivered = max((i for i, o in enumerate(attempts) if o.delivered), default=-1)
        if last_delivered >= 0:
            reset.append(key)
        failures.extend(attempts[last_delivered + 1 :])
    return reset, failures
