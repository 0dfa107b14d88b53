"""The SSRF guard: webhooks go only to public addresses, unless an operator opens a range.

Checked when a distribution is saved (its host is resolved then) and again when each connection
is made, by the resolver the sender uses, so a name that later resolves somewhere private (DNS
rebinding) is refused too. Redirects are never followed (see the sender).
"""

from __future__ import annotations

import asyncio
import socket

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver

from sendout.delivery.addresses import AddressPolicy, ip_literal

__all__ = ["BlockedDestination", "GuardedResolver", "unsafe_destination"]


_RESOLVE_SECONDS = 3.0


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


class GuardedResolver(AbstractResolver):
    """Resolves like aiohttp's default, then drops every address the policy refuses."""

    def __init__(self, policy: AddressPolicy) -> None:
        self._policy = policy
        self._inner = ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        try:
            results = await self._inner.resolve(host, port, family)
        except UnicodeError as exc:
            # aiohttp reports an OSError from the resolver as a failed connection.
            raise OSError(f"{host!r} is not a valid host name: {exc}") from None
        allowed = [r for r in results if self._policy.allows(r["host"])]
        if not allowed:
            reason = self._policy.refusal(host, [r["host"] for r in results])
            raise BlockedDestination(reason or f"{host} has no allowed address")
        return allowed

    async def close(self) -> None:
        await self._inner.close()

    def check_literal(self, host: str) -> None:
        """aiohttp skips the resolver for IP literals; the sender asks here instead."""
        literal = ip_literal(host)
        if literal is not None and not self._policy.allows(literal):
            raise BlockedDestination(self._policy.refusal(host, [literal]) or host)
