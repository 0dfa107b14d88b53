"""JSON responses rendered with orjson, and Voucherify's list envelope."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from sendout.jsonutil import dumps

__all__ = ["JsonResponse", "list_body"]


class JsonResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return dumps(content)


def list_body(
    key: str, items: list[Any], total: int, *, offset: int | None = None
) -> dict[str, Any]:
    """``{"object": "list", "data_ref": key, key: [...], "total": N}`` (+ ``has_more`` when paged)."""
    body: dict[str, Any] = {"object": "list", "data_ref": key, key: items, "total": total}
    if offset is not None:
        body["has_more"] = offset + len(items) < total
    return body
