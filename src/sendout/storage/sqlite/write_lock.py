"""Taking SQLite's write lock (``BEGIN IMMEDIATE``) while another process may hold it.

``serve`` and its worker child (or ``sendout worker`` beside ``serve --no-worker``) write to
one database, and SQLite lets one connection write at a time. SQLite's own busy handler
(``PRAGMA busy_timeout``) waits for the lock by sleeping 1, 2, 5, 10, 15, 20, 25 … ms between
tries, so a lock the other process releases 0.1 ms later costs a whole millisecond, and one
held for 3 ms costs 8. Under load the two processes take turns at the lock hundreds of times a
second: ``begin_immediate`` tries again after 0.25 ms, doubling up to :data:`MAX_SLEEP` (1 ms),
so a wait overshoots the release by at most that much (at 1,000 events/s end to end, p90 8 ms
instead of 9 to 10, the slowest webhook 29 to 41 ms instead of 33 to 53: docs/profile.md). The
connection's busy timeout is zero for the tries alone and given back afterwards, so every
other statement keeps SQLite's handler (rare waits, such as a WAL recovery at start, need no
finer grain).
"""

from __future__ import annotations

import sqlite3
import time

__all__ = ["BUSY_TIMEOUT_MS", "MAX_SLEEP", "begin_immediate"]

BUSY_TIMEOUT_MS = 10_000  # how long a write may wait for the lock before it fails
FIRST_SLEEP = 250e-6
MAX_SLEEP = 1e-3
_SQLITE_BUSY = 5
_sleep = time.sleep  # a name of this module's, so a test can watch the sleeps of this one


def begin_immediate(conn: sqlite3.Connection, *, timeout_ms: int = BUSY_TIMEOUT_MS) -> None:
    """Start a write transaction on ``conn``, waiting at most ``timeout_ms`` for the lock;
    past that the last ``database is locked`` error is raised, as SQLite's handler would."""
    conn.execute("PRAGMA busy_timeout=0")
    try:
        deadline = time.monotonic() + timeout_ms / 1000
        sleep = FIRST_SLEEP
        while True:
            try:
                conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if not _busy(exc) or time.monotonic() + sleep > deadline:
                    raise
            _sleep(sleep)
            sleep = min(2 * sleep, MAX_SLEEP)
    finally:
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")


def _busy(exc: sqlite3.OperationalError) -> bool:
    """SQLITE_BUSY or one of its extended codes (``SQLITE_BUSY_RECOVERY`` …)."""
    code = getattr(exc, "sqlite_errorcode", None)
    return code is not None and code & 0xFF == _SQLITE_BUSY
