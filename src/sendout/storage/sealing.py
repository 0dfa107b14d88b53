"""Secrets at rest: AES-256-GCM under ``SENDOUT_SECRET_KEY`` when one is set, else as given.

A sealed value is ``SEALED_PREFIX`` + base64(12-byte nonce + ciphertext + 16-byte tag), with the
project id as associated data, so a sealed secret copied to another project's row does not open.
The prefix holds a space, which no webhook or Voucherify secret can contain: a stored value is
sealed exactly when it starts with it. Values written without a key stay readable with one.
"""

from __future__ import annotations

import base64
import binascii
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = ["SEALED_PREFIX", "SealError", "Sealer", "parse_key"]

SEALED_PREFIX = "sealed:aes256gcm:v1 "
_NONCE = 12


class SealError(ValueError):
    """A stored secret cannot be opened: it is sealed and the key is missing or another one."""


def parse_key(text: str) -> bytes:
    """The 32 key bytes of ``SENDOUT_SECRET_KEY`` (base64, standard or URL-safe alphabet)."""
    padded = text.replace("-", "+").replace("_", "/") + "=" * (-len(text) % 4)
    try:
        key = base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != 32:
        raise ValueError("must be base64 of exactly 32 random bytes")
    return key


@dataclass(frozen=True, slots=True)
class Sealer:
    """Turns secrets into their stored form and back; without a key both ways are identity."""

    key: bytes | None = None

    @property
    def sealing(self) -> bool:
        return self.key is not None

    def seal(self, plain: str, project_id: str) -> str:
        if self.key is None:
            return plain
        nonce = os.urandom(_NONCE)
        sealed = AESGCM(self.key).encrypt(nonce, plain.encode("utf-8"), project_id.encode())
        return SEALED_PREFIX + base64.b64encode(nonce + sealed).decode("ascii")

    def open(self, stored: str, project_id: str) -> str:
        if not stored.startswith(SEALED_PREFIX):
            return stored
        if self.key is None:
            raise SealError("the stored secrets are encrypted: set SENDOUT_SECRET_KEY to open them")
        raw = base64.b64decode(stored.removeprefix(SEALED_PREFIX))
        try:
            plain = AESGCM(self.key).decrypt(raw[:_NONCE], raw[_NONCE:], project_id.encode())
        except InvalidTag:
            raise SealError("SENDOUT_SECRET_KEY does not open the stored secrets") from None
        return plain.decode("utf-8")

    def seal_optional(self, plain: str | None, project_id: str) -> str | None:
        return None if plain is None else self.seal(plain, project_id)

    def open_optional(self, stored: str | None, project_id: str) -> str | None:
        return None if stored is None else self.open(stored, project_id)

    def needs_sealing(self, stored: str | None) -> bool:
        """Whether a stored value is plain although a key is set (kept from before the key)."""
        return self.key is not None and stored is not None and not stored.startswith(SEALED_PREFIX)
