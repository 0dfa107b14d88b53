"""Group commit: concurrent transactions share one commit but not each other's failures; and that
a commit leaves the WAL it grows to the checkpointer (tests/storage/test_sqlite_checkpointer.py)."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from sendout.storage.sqlite.connection import _connect
from sendout.storage.sqlite.writer import GroupCommitWriter


def connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=True)
    conn.execute("PRAGMA journal_mode=WAL")
    return conn


async def test_a_failing_job_rolls_back_alone(tmp_path: Path) -> None:
    path = tmp_path / "w.db"
    writer = GroupCommitWriter(lambda: connect(path))
    await writer.call(
        lambda c: c.execute("CREATE TABLE t (n INTEGER PRIMARY KEY)"), transaction=False
    )

    def insert(n: int) -> int:
        def job(conn: sqlite3.Connection) -> int:
            conn.execute("INSERT INTO t (n) VALUES (?)", (n,))
            if n % 3 == 0:
                raise ValueError(f"job {n} fails after writing")
            return n

        return job  # type: ignore[return-value]

    results = await asyncio.gather(
        *(writer.call(insert(n)) for n in range(60)),
        return_exceptions=True,  # type: ignore[arg-type]
    )
    await writer.stop()
    failed = [r for r in results if isinstance(r, ValueError)]
    assert len(failed) == 20
    assert sorted(r for r in results if isinstance(r, int)) == [n for n in range(60) if n % 3]
    with sqlite3.connect(path) as db:
        stored = sorted(r[0] for r in db.execute("SELECT n FROM t"))
    assert stored == [n for n in range(60) if n % 3]


async def test_a_constraint_error_rolls_back_alone(tmp_path: Path) -> None:
    path = tmp_path / "w.db"
    writer = GroupCommitWriter(lambda: connect(path))
    await writer.call(
        lambda c: c.execute("CREATE TABLE t (n INTEGER PRIMARY KEY)"), transaction=False
    )

    def insert(n: int):  # type: ignore[no-untyped-def]
        return lambda conn: conn.execute("INSERT INTO t (n) VALUES (?)", (n,)).rowcount

    results = await asyncio.gather(
        *(writer.call(insert(n % 5)) for n in range(10)), return_exceptions=True
    )
    await writer.stop()
    assert sum(isinstance(r, sqlite3.IntegrityError) for r in results) == 5
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT COUNT(*) FROM t").fetchone()[0] == 5


async def test_an_unopenable_database_fails_the_call(tmp_path: Path) -> None:
    writer = GroupCommitWriter(lambda: sqlite3.connect(tmp_path / "missing" / "x.db"))
    with pytest.raises(sqlite3.OperationalError):
        await writer.call(lambda c: None, transaction=False)


def test_a_commit_checkpoints_only_past_the_backstop(tmp_path: Path) -> None:
    # SQLite's default (1,000 pages, 4 MB) checkpoints in the commit every few group commits
    # under load; sendout's checkpointer thread does it instead, and a commit only past 64 MB
    # of WAL, so 40 MB of commits stay in it here (at 4,000 pages the file stayed at 16 MB).
    path = tmp_path / "wal.db"
    conn = _connect(str(path))
    conn.execute("CREATE TABLE blobs (b BLOB)")
    for _ in range(100):
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany("INSERT INTO blobs VALUES (?)", [(b"x" * 4000,)] * 100)
        conn.execute("COMMIT")
    wal = Path(f"{path}-wal").stat().st_size
    conn.close()
    assert wal > 30_000_000, f"the WAL was checkpointed at {wal:,} bytes"
