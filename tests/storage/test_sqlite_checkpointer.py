"""The WAL is copied back into the database by a thread of its own, not by the commit that
crosses a threshold: the rows reach the database file while commits stay short."""

from __future__ import annotations

import shutil
import sqlite3
import time
from pathlib import Path

from sendout.storage.sqlite.checkpointer import BACKSTOP_PAGES, Checkpointer
from sendout.storage.sqlite.connection import SqliteConnection, _connect
from sendout.storage.sqlite.writer import GroupCommitWriter


def rows_in_database_file(path: Path, tmp_path: Path) -> list[int] | None:
    """What the database file holds on its own, without its WAL (``None`` while the table has
    not reached it, or the copy was taken in the middle of a checkpoint)."""
    copy = tmp_path / "copy.db"
    shutil.copyfile(path, copy)
    try:
        with sqlite3.connect(copy) as db:
            return sorted(r[0] for r in db.execute("SELECT n FROM t"))
    except sqlite3.DatabaseError:
        return None
    finally:
        copy.unlink()


def wait_for(condition: object, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "the checkpointer did not run"
        time.sleep(0.01)


async def started(path: Path) -> tuple[GroupCommitWriter, Checkpointer]:
    """A writer telling a running checkpointer of its commits, with table ``t`` created."""
    checkpointer = Checkpointer(lambda: _connect(str(path)))
    writer = GroupCommitWriter(lambda: _connect(str(path)), committed=checkpointer.committed)
    await writer.call(lambda c: c.execute("CREATE TABLE t (n INTEGER PRIMARY KEY)"))
    checkpointer.start()
    return writer, checkpointer


async def test_commits_reach_the_database_file_through_the_checkpointer(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    writer, checkpointer = await started(path)
    try:
        for n in range(50):
            await writer.call(lambda c, n=n: c.execute("INSERT INTO t (n) VALUES (?)", (n,)))
        # Far below the writer's own threshold: only the checkpointer copies these pages.
        wait_for(lambda: rows_in_database_file(path, tmp_path) == list(range(50)))
        assert checkpointer.checkpoints >= 1
    finally:
        await writer.stop()
        checkpointer.stop()


async def test_stop_copies_what_was_committed_last(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    writer, checkpointer = await started(path)
    wait_for(lambda: checkpointer.checkpoints >= 1)  # now waiting out its interval
    await writer.call(lambda c: c.execute("INSERT INTO t (n) VALUES (7)"))
    checkpointer.stop()  # ends the interval early, with a last checkpoint
    assert rows_in_database_file(path, tmp_path) == [7]
    await writer.stop()
    checkpointer.stop()  # a second stop does nothing


def test_the_writers_own_threshold_is_only_a_backstop(tmp_path: Path) -> None:
    conn = _connect(str(tmp_path / "c.db"))
    assert conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == BACKSTOP_PAGES
    conn.close()


def test_a_connection_that_cannot_open_leaves_the_backstop() -> None:
    def refuse() -> sqlite3.Connection:
        raise sqlite3.OperationalError("unable to open database file")

    checkpointer = Checkpointer(refuse)
    checkpointer.start()
    checkpointer.committed()
    checkpointer.stop()  # the thread has ended: nothing to wait for
    assert checkpointer.checkpoints == 0


async def test_the_store_runs_one_checkpointer_per_file(tmp_path: Path) -> None:
    store = SqliteConnection(str(tmp_path / "s.db"))
    await store.open()
    try:
        assert store._checkpointer is not None
        assert store._checkpointer._thread.is_alive()
    finally:
        await store.close()
    assert not store._checkpointer._thread.is_alive()
    memory = SqliteConnection(":memory:")  # no WAL to copy back
    assert memory._checkpointer is None
