"""The destination of a URL: what per-destination concurrency limits count. Pure."""

from __future__ import annotations

from urllib.parse import urlsplit

__all__ = ["destination_of"]


def destination_of(url: str) -> str:
    """``scheme://host:port``, lowercased, with the default port filled in."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{parts.scheme}://{host}:{port}"
