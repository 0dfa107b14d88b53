"""One storage suite, every backend: a fresh database per test (SQLite file or PostgreSQL DB)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from sendout.bootstrap import make_storage
from sendout.records import Project, PropertyDef
from sendout.settings import Settings
from sendout.storage.base import Storage
from support.ci import need
from support.postgres import create_database, drop_database, unreachable_reason
from support.storage import NOW, SECRET, distribution

OpenStore = Callable[[], Awaitable[Storage]]


@pytest.fixture(scope="session")
def postgres_reason() -> str | None:
    return unreachable_reason()


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, postgres_reason: str | None) -> str:
    if request.param == "postgres":
        need(postgres_reason is None, str(postgres_reason))
    return str(request.param)


@pytest.fixture
async def database_url(backend: str, tmp_path: Path) -> AsyncIterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 's.db'}"
        return
    url = await create_database()
    try:
        yield url
    finally:
        await drop_database(url)


@pytest.fixture
async def open_store(database_url: str) -> AsyncIterator[OpenStore]:
    """Open another store on the test's database (its own connections, as another process has)."""
    opened: list[Storage] = []

    async def open_one() -> Storage:
        storage = make_storage(Settings.from_env({}, database_url=database_url, db_pool_size=4))
        await storage.open()
        opened.append(storage)
        return storage

    yield open_one
    for storage in reversed(opened):
        await storage.close()


@pytest.fixture
async def store(open_store: OpenStore) -> Storage:
    """A migrated store with project ``proj_1``, schema ``sign_up`` and one active distribution."""
    s = await open_store()
    assert await s.migrate() == ["0001_initial"]
    assert await s.migrate() == []
    await s.create_project(Project("proj_1", "P", "app", "tok", SECRET, NOW), is_default=True)
    await s.create_event_schema("proj_1", "ms_1", "sign_up", {"plan": PropertyDef("string")}, NOW)
    await s.create_distribution(distribution())
    return s
