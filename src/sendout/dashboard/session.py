"""Dashboard sessions and CSRF tokens as signed values (pure: no request, no storage).

A session is a signed cookie, not a server-side row: nothing to store, purge or share between
API processes, which already share the signing key through the instance settings. It names the
project and carries a fingerprint of the app keys it signed in with, so changing the project's
keys ends its sessions; it expires after :data:`SESSION_SECONDS`. The price: signing out clears
the cookie in this browser, but a copy taken before stays valid until it expires.

A CSRF token is the HMAC of a random nonce kept in its own HttpOnly cookie; a form post must
carry the token of the nonce its browser sends.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass

__all__ = [
    "SESSION_SECONDS",
    "Session",
    "csrf_token",
    "fingerprint",
    "new_nonce",
    "open_session",
    "seal_session",
    "valid_csrf",
]

SESSION_SECONDS = 12 * 3600


@dataclass(frozen=True, slots=True)
class Session:
    project_id: str
    keys: str  # fingerprint() of the app keys signed in with
    expires: int  # Unix seconds


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: str, purpose: str, value: str) -> str:
    return _b64(hmac.new(key.encode(), f"{purpose}|{value}".encode(), hashlib.sha256).digest())


def fingerprint(app_id: str, app_token: str) -> str:
    """A digest of a project's app keys: it changes when they do, and reveals neither."""
    return _b64(hashlib.sha256(f"{app_id}\x00{app_token}".encode()).digest()[:16])


def seal_session(key: str, session: Session) -> str:
    """The cookie value: the session as JSON, then its signature."""
    payload = _b64(
        json.dumps({"p": session.project_id, "k": session.keys, "e": session.expires}).encode()
    )
    return f"{payload}.{_mac(key, 'session', payload)}"


def open_session(key: str, value: str, now: int) -> Session | None:
    """The session a cookie value holds, or ``None`` if it is forged, malformed or expired."""
    payload, _, signature = value.partition(".")
    if not hmac.compare_digest(signature.encode(), _mac(key, "session", payload).encode()):
        return None
    try:
        raw = json.loads(_unb64(payload))
        session = Session(str(raw["p"]), str(raw["k"]), int(raw["e"]))
    except (ValueError, KeyError, TypeError):
        return None
    return session if session.expires > now else None


def new_nonce() -> str:
    return secrets.token_urlsafe(24)


def csrf_token(key: str, nonce: str) -> str:
    """The token the forms of a browser holding ``nonce`` carry."""
    return _mac(key, "csrf", nonce)


def valid_csrf(key: str, nonce: str | None, token: str | None) -> bool:
    """Does ``token`` belong to ``nonce``? False when either is missing."""
    if not nonce or not token:
        return False
    return hmac.compare_digest(token.encode(), csrf_token(key, nonce).encode())
