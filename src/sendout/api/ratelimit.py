"""Per-project request rate limit: a token bucket per project, in this process. Pure."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

__all__ = ["TokenBuckets"]


@dataclass
class TokenBuckets:
    rate: float  # tokens per second
    burst: float  # bucket size
    _state: dict[str, tuple[float, float]] = field(default_factory=dict)  # key -> (tokens, at)

    def take(self, key: str, now: float) -> float | None:
        """Spend one token; ``None`` if allowed, else the seconds until one is available."""
        tokens, at = self._state.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - at) * self.rate)
        if tokens >= 1:
            self._state[key] = (tokens - 1, now)
            return None
        self._state[key] = (tokens, now)
        return (1 - tokens) / self.rate

    @staticmethod
    def retry_after_header(wait: float) -> str:
        return str(max(1, math.ceil(wait)))
