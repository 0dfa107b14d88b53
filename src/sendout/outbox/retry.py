"""When to try a failed delivery again. Pure: no clock, no I/O."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["VOUCHERIFY_SCHEDULE", "RetryPolicy", "parse_schedule"]

_MINUTE = 60.0
# Voucherify's documented schedule: 1, 2, 4 … 1024 minutes, then 24 hours (12 retries).
VOUCHERIFY_SCHEDULE: tuple[float, ...] = (
    *(float(_MINUTE * 2**i) for i in range(11)),
    24 * 60 * _MINUTE,
)


def parse_schedule(text: str) -> tuple[float, ...]:
    """``"1,2,4"`` → ``(1.0, 2.0, 4.0)`` seconds; raises ``ValueError`` with the reason."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not parts:
        raise ValueError("the retry schedule is empty")
    delays = tuple(float(p) for p in parts)
    if any(d < 0 for d in delays):
        raise ValueError("retry delays must not be negative")
    return delays


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """``delays[n]`` is the wait after the (n+1)-th failed attempt; past the end, give up."""

    delays: Sequence[float] = VOUCHERIFY_SCHEDULE

    @property
    def max_attempts(self) -> int:
        return len(self.delays) + 1

    def next_delay(self, failed_attempts: int) -> float | None:
        """Seconds to wait after ``failed_attempts`` failures, or ``None`` when exhausted."""
        if failed_attempts < 1:
            raise ValueError("failed_attempts counts from 1")
        if failed_attempts > len(self.delays):
            return None
        return self.delays[failed_attempts - 1]
