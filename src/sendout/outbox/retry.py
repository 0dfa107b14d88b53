"""When to try a failed delivery again. Pure: no clock, no randomness of its own, no I/O."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime

__all__ = ["VOUCHERIFY_SCHEDULE", "RetryPolicy", "parse_retry_after", "parse_schedule"]

_MINUTE = 60.0
# Voucherify's documented schedule: 1, 2, 4 … 1024 minutes, then 24 hours (12 retries).
VOUCHERIFY_SCHEDULE: tuple[float, ...] = (
    *(float(_MINUTE * 2**i) for i in range(11)),
    24 * 60 * _MINUTE,
)
MAX_DELAY = 7 * 24 * 3600.0
MAX_RETRIES = 50


def parse_schedule(text: str) -> tuple[float, ...]:
    """``"1,2,4"`` → ``(1.0, 2.0, 4.0)`` seconds; raises ``ValueError`` with the reason."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not parts:
        raise ValueError("the retry schedule is empty")
    try:
        delays = tuple(float(p) for p in parts)
    except ValueError:
        raise ValueError(f"retry delays must be numbers of seconds, got {text!r}") from None
    return check_schedule(delays)


def check_schedule(delays: Sequence[float]) -> tuple[float, ...]:
    """A usable schedule: 1 to 50 waits, each from 0 to 7 days."""
    if not 1 <= len(delays) <= MAX_RETRIES:
        raise ValueError(f"a retry schedule has 1 to {MAX_RETRIES} delays, got {len(delays)}")
    for delay in delays:
        if isinstance(delay, bool) or not 0 <= delay <= MAX_DELAY:
            raise ValueError(
                f"each retry delay must be 0 to {MAX_DELAY:.0f} seconds, got {delay!r}"
            )
    return tuple(float(d) for d in delays)


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds asked for by a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - now).total_seconds())


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """``delays[n]`` is the wait after the (n+1)-th failed attempt; past the end, give up.

    ``jitter`` spreads each wait by ±that fraction so that failures that happened together do not
    retry together; ``throttle_floor`` is the least wait after a timeout or a 429; a receiver's
    ``Retry-After`` lengthens a wait up to ``retry_after_cap``, never shortens it.
    """

    delays: Sequence[float] = VOUCHERIFY_SCHEDULE
    jitter: float = 0.2
    throttle_floor: float = 60.0
    retry_after_cap: float = 24 * 3600.0

    @property
    def max_attempts(self) -> int:
        return len(self.delays) + 1

    def next_delay(self, failed_attempts: int) -> float | None:
        """Scheduled seconds to wait after ``failed_attempts`` failures, ``None`` when exhausted."""
        if failed_attempts < 1:
            raise ValueError("failed_attempts counts from 1")
        if failed_attempts > len(self.delays):
            return None
        return self.delays[failed_attempts - 1]

    def wait_after(
        self,
        failed_attempts: int,
        *,
        unit: float,
        throttled: bool = False,
        retry_after: float | None = None,
    ) -> float | None:
        """The wait actually used; ``unit`` is a random number in [0, 1) chosen by the caller."""
        base = self.next_delay(failed_attempts)
        if base is None:
            return None
        wait = base * (1 - self.jitter + 2 * self.jitter * unit)
        if throttled:
            wait = max(wait, self.throttle_floor)
        if retry_after is not None:
            wait = max(wait, min(retry_after, self.retry_after_cap))
        return wait

    def with_delays(self, delays: Sequence[float] | None) -> RetryPolicy:
        if delays is None:
            return self
        return RetryPolicy(delays, self.jitter, self.throttle_floor, self.retry_after_cap)
