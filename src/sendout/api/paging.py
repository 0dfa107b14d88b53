"""Query parameters: ``limit`` and ``page`` checked the way Voucherify checks them, and every
query parameter's bounds and choices as the document declares them (the routes check them
themselves, for Voucherify's messages, so the declarations only document)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import Query

from sendout.errors import InvalidInput
from sendout.records import Page

__all__ = ["MAX_LIMIT", "MAX_PAGE", "between", "limit_query", "one_of", "page_of", "page_query"]

MAX_LIMIT = 100
MAX_PAGE = 1000


def page_of(limit: int, page: int, *, max_page: int = MAX_PAGE) -> Page:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(
            f"limit must be between 1 and {MAX_LIMIT}, got {limit}", key="invalid_query_params"
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


def between(default: int, low: int, high: int, description: str | None = None) -> Any:
    """An integer query parameter the route refuses outside [low, high]."""
    bounds = {"minimum": low, "maximum": high}
    return Query(default, description=description, json_schema_extra=bounds)


def limit_query(default: int = 10) -> Any:
    """``limit``, as ``page_of`` takes it."""
    return between(default, 1, MAX_LIMIT, "How many items a page holds")


def page_query(max_page: int = MAX_PAGE) -> Any:
    """``page``, as ``page_of`` with this ``max_page`` takes it."""
    return between(1, 1, max_page, "Which page, from 1")


def one_of(choices: Sequence[str], default: str | None = None) -> Any:
    """A text query parameter the route refuses unless it is one of ``choices``."""
    return Query(default, description=", ".join(choices), json_schema_extra={"enum": list(choices)})
