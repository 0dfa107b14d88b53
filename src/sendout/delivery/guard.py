"""The SSRF guard: webhooks go only to public addresses, unless an operator opens a range.

Checked when a distribution is saved (its host is resolved then) and again when each connection
is made, by the resolver the sender uses, so a name that later resolves somewhere private (DNS
rebinding) is refused too. Redirects are never followed (see the sender).
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Awaitable, Callable

from sendout.delivery.addresses import AddressPolicy, ip_literal

__all__ = ["BlockedDestination", "GuardedResolver", "Lookup", "unsafe_destination"]


_RESOLVE_SECONDS = 3.0
_CACHE_SECONDS = 60.0  # how long a name's allowed addresses are reused

Lookup = Callable[[str, int], Awaitable[list[str]]]


class BlockedDestination(OSError):
    """The destination resolves only to addresses webhooks may not be sent to."""


async def unsafe_destination(host: str, port: int, policy: AddressPolicy) -> str | None:
    """Why ``host`` may not receive webhooks, or ``None``.

    A name that does not resolve now is accepted (it is checked again at every connection),
    and so is one that cannot be resolved at all (an IDNA label empty or over 63 characters
    raises ``UnicodeError``; the URL check refuses such hosts before this is asked).
    """
    literal = ip_literal(host)
    if literal is not None:
        return policy.refusal(host, [literal])
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(_RESOLVE_SECONDS):
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, TimeoutError, UnicodeError):
        return None
    return policy.refusal(host, [str(info[4][0]) for info in infos])


async def system_lookup(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to (the system resolver, off the event loop)."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except UnicodeError as exc:
        raise OSError(f"{host!r} is not a valid host name: {exc}") from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class GuardedResolver:
    """The addresses a connection may be opened to: resolved, then every one the policy refuses
    dropped. An IP literal is judged as it is. A name's allowed addresses are kept for a minute."""

    def __init__(self, policy: AddressPolicy, lookup: Lookup = system_lookup) -> None:
        self._policy = policy
        self._lookup = lookup
        self._cache: dict[tuple[str, int], tuple[float, list[str]]] = {}

    async def resolve(self, host: str, port: int) -> list[str]:
        literal = ip_literal(host)
        if literal is not None:
            if not self._policy.allows(literal):
                raise BlockedDestination(self._policy.refusal(host, [literal]) or host)
            return [literal]
        now = time.monotonic()
        cached = self._cache.get((host, port))
        if cached is not None and cached[0] > now:
            return cached[1]
        found = await self._lookup(host, port)
        allowed = [a for a in found if self._policy.allows(a)]
        if not allowed:
            reason = self._policy.refusal(host, found)
            raise BlockedDestination(reason or f"{host} has no allowed address")
        if len(self._cache) > 4096:
            self._cache.clear()
        self._cache[(host, port)] = (now + _CACHE_SECONDS, allowed)
        return allowed
