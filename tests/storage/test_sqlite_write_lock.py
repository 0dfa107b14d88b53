"""Taking SQLite's write lock while another connection holds it: short sleeps between tries,
SQLite's error past the timeout, and the connection's own busy timeout given back."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from sendout.storage.sqlite import write_lock
from sendout.storage.sqlite.connection import _connect
from sendout.storage.sqlite.write_lock import BUSY_TIMEOUT_MS, MAX_SLEEP, begin_immediate
from sendout.storage.sqlite.writer import GroupCommitWriter


@pytest.fixture
def path(tmp_path: Path) -> Path:
    db = tmp_path / "lock.db"
    conn = _connect(str(db))
    conn.execute("CREATE TABLE t (n INTEGER PRIMARY KEY)")
    conn.close()
    return db


class Sleeps(list[float]):
    """Every sleep begin_immediate takes between tries (it still sleeps), and what to do at the
    first one (the lock is then known to have been found held)."""

    at_first: Callable[[], None] | None = None


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> Sleeps:
    taken = Sleeps()

    def record(seconds: float) -> None:
        taken.append(seconds)
        if len(taken) == 1 and taken.at_first is not None:
            taken.at_first()
        time.sleep(seconds)

    monkeypatch.setattr(write_lock, "_sleep", record)
    return taken


def holder(path: Path) -> sqlite3.Connection:
    """Another connection, holding the write lock with one row written."""
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO t (n) VALUES (1)")
    return other


@contextmanager
def held_until_first_sleep(path: Path, sleeps: Sleeps) -> Iterator[None]:
    """Another connection holds the write lock (row 1 written) and commits a few tries after
    begin_immediate first finds it held, from another thread."""
    other = holder(path)
    release = threading.Timer(0.005, lambda: other.execute("COMMIT"))
    sleeps.at_first = release.start
    try:
        yield
    finally:
        if release.ident is not None:  # started at the first sleep
            release.join()
        other.close()


def busy_timeout(conn: sqlite3.Connection) -> int:
    value: int = conn.execute("PRAGMA busy_timeout").fetchone()[0]
    return value


def test_waits_in_short_sleeps_and_takes_the_lock_once_released(path: Path, sleeps: Sleeps) -> None:
    conn = _connect(str(path))
    with held_until_first_sleep(path, sleeps):
        begin_immediate(conn)
    assert conn.in_transaction
    # The holder's row is there: the lock was taken after its commit, not beside it.
    assert [r[0] for r in conn.execute("SELECT n FROM t")] == [1]
    conn.execute("INSERT INTO t (n) VALUES (2)")
    conn.execute("COMMIT")
    assert sleeps, "the lock was held: begin_immediate should have slept between tries"
    assert sleeps[0] == write_lock.FIRST_SLEEP
    assert max(sleeps) <= MAX_SLEEP  # SQLite's own handler sleeps 1, 2, 5, 10 … ms
    assert sleeps == sorted(sleeps)  # doubling, then level
    assert busy_timeout(conn) == BUSY_TIMEOUT_MS
    conn.close()


def test_past_the_timeout_raises_sqlites_locked_error(path: Path, sleeps: Sleeps) -> None:
    other = holder(path)
    conn = _connect(str(path))
    try:
        with pytest.raises(sqlite3.OperationalError, match="database is locked"):
            begin_immediate(conn, timeout_ms=20)
        assert not conn.in_transaction
        assert sleeps
        assert busy_timeout(conn) == BUSY_TIMEOUT_MS  # given back on failure too
    finally:
        other.execute("ROLLBACK")
        other.close()
        conn.close()


def test_an_error_other_than_busy_is_raised_at_once(path: Path, sleeps: Sleeps) -> None:
    conn = _connect(str(path))
    conn.execute("BEGIN")
    with pytest.raises(sqlite3.OperationalError, match="within a transaction"):
        begin_immediate(conn)
    assert sleeps == []
    assert busy_timeout(conn) == BUSY_TIMEOUT_MS
    conn.execute("ROLLBACK")
    conn.close()


async def test_the_group_commit_waits_for_another_process_lock(path: Path, sleeps: Sleeps) -> None:
    """serve's writer and its worker child's share one database: a commit of one waits for the
    other's, in short sleeps, instead of failing or sleeping in SQLite's handler."""
    writer = GroupCommitWriter(lambda: _connect(str(path)))
    await writer.call(lambda c: None, transaction=False)  # opened
    try:
        with held_until_first_sleep(path, sleeps):
            inserted = await writer.call(
                lambda c: c.execute("INSERT INTO t (n) VALUES (2)").rowcount
            )
    finally:
        await writer.stop()
    assert inserted == 1
    assert sleeps
    with sqlite3.connect(path) as db:
        assert sorted(r[0] for r in db.execute("SELECT n FROM t")) == [1, 2]
