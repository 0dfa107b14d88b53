"""Small reads several pages share: distribution names for pickers and links, and headers with
credentials masked."""

from __future__ import annotations

from sendout.api.context import AppContext
from sendout.records import Distribution, Page

__all__ = ["distributions_of", "masked_headers"]

_SENSITIVE = ("authorization", "token", "secret", "password", "cookie", "api-key", "apikey")


async def distributions_of(ctx: AppContext, project_id: str) -> list[Distribution]:
    """The project's first 100 distributions, oldest first (the pickers' choices)."""
    found, _ = await ctx.storage.list_distributions(project_id, Page(100, 1))
    return found


def masked_headers(headers: dict[str, str]) -> dict[str, str]:
    """The headers as stored, with the values of credential-like ones hidden."""
    return {
        name: "•••••• (hidden)" if any(s in name.lower() for s in _SENSITIVE) else value
        for name, value in headers.items()
    }
