"""Copying SQLite's write-ahead log back into the database on a thread of its own.

By default the commit that takes the WAL past its threshold copies it back (a checkpoint, with
its fsyncs) before it returns, on the writer thread, while the next group commit waits: 10 to
24 ms for about one commit in two hundred under load, a large part of the slowest webhooks'
latency. Here the writer only says that it committed (:meth:`Checkpointer.committed`, one
``Event.set``), and this thread runs a ``PASSIVE`` checkpoint on its own connection, at most
every :data:`INTERVAL` seconds while commits come in. A passive checkpoint blocks neither
writers nor readers, and SQLite releases the GIL while it copies.

Each process that writes runs one (``serve``, its worker child, ``sendout worker``); when two
try at once, SQLite lets one through and tells the other it is busy, and that one tries again
after its next commit. The writer's own threshold stays as a backstop (:data:`BACKSTOP_PAGES`):
should this thread fall far behind, a commit checkpoints as before.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable

import structlog

__all__ = ["BACKSTOP_PAGES", "INTERVAL", "Checkpointer"]

log = structlog.get_logger("sendout.storage")

INTERVAL = 0.25  # seconds between checkpoints at most, while commits come in
BACKSTOP_PAGES = 16_000  # the writer's wal_autocheckpoint: 64 MB of WAL at 4 KB pages


class Checkpointer:
    def __init__(self, connect: Callable[[], sqlite3.Connection]) -> None:
        self._connect = connect
        self._committed = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sqlite-checkpointer", daemon=True)
        self.checkpoints = 0  # checkpoints that ran (not those another process's kept busy)

    def start(self) -> None:
        self._thread.start()

    def committed(self) -> None:
        """A write was committed (called on the writer thread: never blocks)."""
        self._committed.set()

    def stop(self) -> None:
        """Run a last checkpoint for what is committed, then end the thread."""
        if not self._thread.is_alive():
            return
        self._stopping.set()
        self._committed.set()
        self._thread.join()

    def _run(self) -> None:
        try:
            conn = self._connect()
        except sqlite3.Error:  # the writer's backstop checkpoints instead
            log.warning("sqlite.checkpointer_not_started", exc_info=True)
            return
        try:
            while True:
                self._committed.wait()
                self._committed.clear()
                self._checkpoint(conn)
                # Let frames gather (a page written many times between two checkpoints is
                # copied once); stop() ends the wait early.
                if self._stopping.is_set() or self._stopping.wait(INTERVAL):
                    self._checkpoint(conn)  # what was committed meanwhile
                    return
        finally:
            conn.close()

    def _checkpoint(self, conn: sqlite3.Connection) -> None:
        try:
            busy, frames, copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        except sqlite3.Error:  # the next commit asks again; the backstop covers the gap
            log.warning("sqlite.checkpoint_failed", exc_info=True)
            return
        if busy:  # another connection's checkpoint was running: it copies for both
            return
        self.checkpoints += 1
        if frames - copied > BACKSTOP_PAGES // 2:  # readers hold the rest in the WAL
            log.warning("sqlite.checkpoint_behind", wal_frames=frames, copied=copied)
