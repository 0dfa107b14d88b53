"""Prefixed identifiers in Voucherify's shapes (``cust_`` + 24 alphanumerics, ``whs_`` + 18 hex…).

Every id is random, drawn from the OS CSPRNG, except that a customer's begins with the time it
was made: new customers' ids then sort together at the end of the index on ``customers.id``,
so a group commit of many new customers writes a few index pages instead of one random page
per customer (at a million customers SQLite inserted them three times as fast, docs/profile.md;
docs/api.md says what the prefix is). The 24 characters
leave room for both: 7 for the milliseconds, 17 random (101 bits). The hexadecimal ids (18
digits, 72 bits) have no such room, and stay random throughout.
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


def customer_id() -> str:
    """7 characters of the Unix time in milliseconds (base 62, in ASCII order), 17 random."""
    return "cust_" + _time_prefix(time.time_ns() // 1_000_000) + _alnum(24 - _TIME_DIGITS)


def event_id() -> str:
    """Id of a stored custom event (``data.event.id``)."""
    return "event_" + _hex(18)


def activity_id() -> str:
    """Id of the customer-activity event that caused a send-out (envelope ``event.id``)."""
    return "evcus_" + _hex(18)


def event_schema_id() -> str:
    return "ms_" + _alnum(24)


def distribution_id() -> str:
    return "distr_" + _alnum(26)


def delivery_id() -> str:
    """Id of one webhook send-out, stable across its retries."""
    return "whs_" + _hex(18)


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
