"""Prefixed identifiers in Voucherify's shapes (``cust_`` + 24 alphanumerics, ``whs_`` + 18 hex…).

Every id is random, drawn from the OS CSPRNG, except that the ids sendout writes most often
begin with the time they were made, so that the ids of one moment sort together: a group commit
then writes into a few pages at one place of each index on them instead of one random page per
row, and those pages stay in SQLite's cache (docs/profile.md). A customer's id begins with 7
characters of the time in milliseconds and has 17 random (101 bits; docs/api.md says what the
prefix is). An event's and a delivery's 18 hexadecimal digits have no room for the whole time:
their first 4 are the Unix time in seconds modulo 65,536, which comes round every 18 hours, and
the other 14 are random. Ids of one second then sort together, and uniqueness is what 72
random bits give: across a store's whole life the prefixes are used equally, and within one
second 56 random bits separate the ids drawn.
"""

from __future__ import annotations

import os
import secrets
import string
import threading
import time

__all__ = [
    "activity_id",
    "campaign_id",
    "customer_id",
    "delivery_id",
    "distribution_id",
    "event_id",
    "event_schema_id",
    "project_id",
    "request_id",
    "secret_token",
]

_ALNUM = string.ascii_letters + string.digits
# Bytes below this map onto the 62 characters without bias (248 = 4 * 62).
_UNBIASED = 248


class _RandomBytes:
    """``os.urandom`` read 64 KiB at a time: one system call per thousands of ids, not per id.

    Every id still comes from the operating system's CSPRNG; only the reads are batched. Used by
    one thread only: see :class:`_PerThread`.
    """

    __slots__ = ("_at", "_buffer", "_size")

    def __init__(self, size: int = 65536) -> None:
        self._size = size
        self._buffer = b""
        self._at = 0

    def take(self, n: int) -> bytes:
        if self._at + n > len(self._buffer):
            self._buffer, self._at = os.urandom(self._size), 0
        chunk = self._buffer[self._at : self._at + n]
        self._at += n
        return chunk


class _PerThread(threading.local):
    """A :class:`_RandomBytes` for each thread (the event loop and the SQLite writer both make
    ids): one buffer shared under a lock cost 2.3 µs an id with two threads drawing from it,
    against 0.9 µs for one."""

    def __init__(self) -> None:
        self.source = _RandomBytes()


_threads = _PerThread()


def _take(n: int) -> bytes:
    return _threads.source.take(n)


def _after_fork() -> None:
    """A forked child must not hand out the bytes its parent still holds."""
    global _threads
    _threads = _PerThread()


os.register_at_fork(after_in_child=_after_fork)


# Byte b < 248 becomes _ALNUM[b % 62]; the others are dropped (bytes.translate, all in C).
_TO_ALNUM = bytes(ord(_ALNUM[b % 62]) if b < _UNBIASED else 0 for b in range(256))
_BIASED = bytes(range(_UNBIASED, 256))


def _alnum(n: int) -> str:
    out = b""
    while len(out) < n:
        out += _take(n * 2).translate(_TO_ALNUM, _BIASED)
    return out[:n].decode("ascii")


def _hex(n: int) -> str:
    return _take((n + 1) // 2).hex()[:n]


# Base 62 in ASCII order, so that the time prefixes of ids sort as the times do.
_ORDERED = string.digits + string.ascii_uppercase + string.ascii_lowercase
_TIME_DIGITS = 7  # 62**7 ms is about 111 years from 1970


def _time_prefix(ms: int) -> str:
    digits = []
    for _ in range(_TIME_DIGITS):
        ms, digit = divmod(ms, 62)
        digits.append(_ORDERED[digit])
    return "".join(reversed(digits))


_WINDOW_DIGITS = 4  # hexadecimal digits of the time in seconds, modulo 16**4 (18.2 hours)


def _windowed_hex(n: int, now_ns: int | None = None) -> str:
    """``n`` hexadecimal digits: the time in seconds modulo 65,536, then random digits."""
    seconds = (time.time_ns() if now_ns is None else now_ns) // 1_000_000_000
    window = seconds % 16**_WINDOW_DIGITS
    return f"{window:0{_WINDOW_DIGITS}x}" + _hex(n - _WINDOW_DIGITS)


def customer_id() -> str:
    """7 characters of the Unix time in milliseconds (base 62, in ASCII order), 17 random."""
    return "cust_" + _time_prefix(time.time_ns() // 1_000_000) + _alnum(24 - _TIME_DIGITS)


def event_id() -> str:
    """Id of a stored custom event (``data.event.id``): 4 hex digits of time, 14 random."""
    return "event_" + _windowed_hex(18)


def activity_id() -> str:
    """Id of the customer-activity event that caused a send-out (envelope ``event.id``)."""
    return "evcus_" + _hex(18)


def event_schema_id() -> str:
    return "ms_" + _alnum(24)


def distribution_id() -> str:
    return "distr_" + _alnum(26)


def delivery_id() -> str:
    """Id of one webhook send-out, stable across its retries: 4 hex digits of time, 14 random."""
    return "whs_" + _windowed_hex(18)


def project_id() -> str:
    return "proj_" + _alnum(12)


def campaign_id() -> str:
    return "camp_" + _alnum(24)


def async_action_id() -> str:
    return "aa_" + _alnum(24)


def request_id() -> str:
    """Id of one API request (error ``request_id``, envelope ``event.group_id``)."""
    return "v-" + _hex(18)


def secret_token(nbytes: int = 24) -> str:
    return secrets.token_urlsafe(nbytes)
