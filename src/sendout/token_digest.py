"""Stored tokens: app and management tokens are kept as SHA-256 digests and compared in
constant time. Pure.

A plain (unkeyed, unsalted) SHA-256 is enough here because the tokens sendout generates are 24
random bytes: nobody can search that space, so a slow password hash would buy nothing and cost
every request. The same digest is computed by migration ``0010_hash_tokens`` in SQL.
"""

from __future__ import annotations

import hashlib
import hmac

__all__ = ["token_digest", "token_matches"]


def token_digest(token: str) -> str:
    """Lowercase hex SHA-256 of the token's UTF-8 bytes."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def token_matches(given: str, digest: str) -> bool:
    """Whether ``given`` is the token whose digest is stored, in constant time."""
    return hmac.compare_digest(token_digest(given).encode("ascii"), digest.encode("utf-8"))
