"""Code generation from a ``code_config``. Pure: randomness comes in as a function.

A code is ``prefix`` + random part + ``postfix``; the random part is ``pattern`` with every
``#`` replaced by one ``charset`` character, or ``length`` characters when there is no pattern.
Generation maps random bytes onto the charset with :meth:`bytes.translate` (rejecting the bytes
that would bias it), so a million codes take well under a second.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sendout.errors import InvalidInput

__all__ = [
    "DEFAULT_CHARSET",
    "CodeConfig",
    "code_config",
    "generate_codes",
    "random_strings",
]

DEFAULT_CHARSET = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
DEFAULT_LENGTH = 8
MAX_LENGTH = 100
RandBytes = Callable[[int], bytes]
_ENUMERATE_UP_TO = 2_000_000


@dataclass(frozen=True, slots=True)
class CodeConfig:
    charset: str
    length: int
    prefix: str = ""
    postfix: str = ""
    pattern: str | None = None

    @property
    def capacity(self) -> int:
        """How many distinct codes this config can yield."""
        return int(len(self.charset) ** self.length)

    def as_json(self) -> dict[str, Any]:
        """Voucherify's ``CodeConfigRequiredLengthCharsetPattern`` (``pattern`` always set)."""
        return {
            "pattern": self.pattern if self.pattern is not None else "#" * self.length,
            "length": self.length,
            "charset": self.charset,
            "prefix": self.prefix,
            "postfix": self.postfix,
        }


def _bad(details: str) -> InvalidInput:
    return InvalidInput(details, key="invalid_code_config", message="Invalid code config")


def code_config(raw: Mapping[str, Any] | None) -> CodeConfig:
    """Check a request's ``code_config`` (``None``: 8 alphanumerics)."""
    raw = raw or {}
    charset = raw.get("charset") or DEFAULT_CHARSET
    if not isinstance(charset, str) or not charset.isascii() or not charset.isprintable():
        raise _bad("code_config.charset must be printable ASCII characters")
    charset = "".join(dict.fromkeys(charset))  # duplicates would bias the draw
    if len(charset) > 256:
        raise _bad("code_config.charset may hold at most 256 distinct characters")
    prefix, postfix = raw.get("prefix") or "", raw.get("postfix") or ""
    if not isinstance(prefix, str) or not isinstance(postfix, str):
        raise _bad("code_config.prefix and postfix must be strings")
    pattern = raw.get("pattern")
    if pattern is not None:
        if not isinstance(pattern, str) or "#" not in pattern:
            raise _bad("code_config.pattern must be a string with at least one '#'")
        length = pattern.count("#")
    else:
        length = raw.get("length", DEFAULT_LENGTH)
        if not isinstance(length, int) or isinstance(length, bool) or length < 1:
            raise _bad("code_config.length must be a positive integer")
    if length > MAX_LENGTH or len(prefix) + len(postfix) + len(pattern or "") > 3 * MAX_LENGTH:
        raise _bad(f"codes may have at most {MAX_LENGTH} random characters")
    return CodeConfig(charset, length, prefix, postfix, pattern)


def random_strings(
    charset: str, length: int, count: int, randbytes: RandBytes = secrets.token_bytes
) -> list[str]:
    """``count`` uniform random strings of ``length`` characters from ``charset``."""
    if count <= 0:
        return []
    n = len(charset)
    usable = 256 - 256 % n  # bytes >= usable would make the low characters likelier
    table = bytes(ord(charset[b % n]) if b < usable else 0 for b in range(256))
    reject = bytes(range(usable, 256))
    needed = count * length
    chars = b""
    while len(chars) < needed:
        draw = randbytes(int((needed - len(chars)) * 256 / usable) + 64)
        chars += draw.translate(table, reject)
    text = chars[:needed].decode("ascii")
    return [text[i : i + length] for i in range(0, needed, length)]


def _render(config: CodeConfig, random_part: str) -> str:
    if config.pattern is None:
        return config.prefix + random_part + config.postfix
    out = []
    parts = iter(random_part)
    for ch in config.pattern:
        out.append(next(parts) if ch == "#" else ch)
    return config.prefix + "".join(out) + config.postfix


def generate_codes(
    config: CodeConfig,
    count: int,
    *,
    taken: Iterable[str] = (),
    randbytes: RandBytes = secrets.token_bytes,
    max_rounds: int = 64,
) -> list[str]:
    """``count`` distinct codes, none of them in ``taken``.

    Raises ``invalid_code_config`` when the config cannot yield that many (``charset`` to the
    power ``length`` is too small) or when repeated draws keep colliding (the space is nearly
    used up).
    """
    if count > config.capacity:
        raise _bad(
            f"code_config yields at most {config.capacity} distinct codes"
            f" ({len(config.charset)} characters ^ {config.length}); {count} were requested."
            " Use a longer pattern or length, or a bigger charset"
        )
    seen = set(taken)
    if config.capacity <= min(4 * (count + len(seen)), _ENUMERATE_UP_TO):
        return _from_the_whole_space(config, count, seen, randbytes)
    before = len(seen)
    codes: list[str] = []
    for _ in range(max_rounds):
        missing = count - len(codes)
        if missing == 0:
            return codes
        draw = random_strings(config.charset, config.length, missing + missing // 8 + 8, randbytes)
        for part in draw:
            code = _render(config, part)
            if code not in seen:
                seen.add(code)
                codes.append(code)
                if len(codes) == count:
                    return codes
    raise _bad(
        f"code_config could not yield {count} new codes: only {len(seen) - before} distinct"
        f" codes were found in {max_rounds} rounds among its {config.capacity} possible codes"
        " (most are taken). Use a longer pattern or length"
    )


def _from_the_whole_space(
    config: CodeConfig, count: int, taken: set[str], randbytes: RandBytes
) -> list[str]:
    """Small spaces: shuffle every possible code rather than hope random draws find the rest."""
    rng = random.Random(int.from_bytes(randbytes(32), "big"))
    n, width = len(config.charset), config.length
    codes: list[str] = []
    for index in rng.sample(range(config.capacity), config.capacity):
        digits = []
        for _ in range(width):
            index, d = divmod(index, n)
            digits.append(config.charset[d])
        code = _render(config, "".join(digits))
        if code not in taken:
            codes.append(code)
            if len(codes) == count:
                return codes
    raise _bad(
        f"code_config yields {config.capacity} distinct codes and only {len(codes)} of them are"
        f" still free; {count} were requested. Use a longer pattern or length"
    )
