"""``limit`` and ``page`` query parameters, checked the way Voucherify checks them."""

from __future__ import annotations

from sendout.errors import InvalidInput
from sendout.records import Page

__all__ = ["page_of"]


def page_of(limit: int, page: int, *, max_page: int = 1000) -> Page:
    if not 1 <= limit <= 100:
        raise InvalidInput(
            f"limit must be between 1 and 100, got {limit}", key="invalid_query_params"
        )
    if page < 1:
        raise InvalidInput(f"page must be at least 1, got {page}", key="invalid_query_params")
    if page > max_page:
        raise InvalidInput(
            f"page must be at most {max_page}, got {page}",
            key="page_over_limit",
            message="Page over limit",
        )
    return Page(limit=limit, page=page)
