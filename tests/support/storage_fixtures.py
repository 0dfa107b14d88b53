"""Fixtures of the storage suite (a pytest plugin named in tests/conftest.py).

``open_store`` and ``store`` work on ``database_url``: a fresh database of each backend per test.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from sendout.bootstrap import make_storage
from sendout.records import Project, PropertyDef
from sendout.settings import Settings
from sendout.storage.base import Storage
from support.storage import NOW, SECRET, distribution

OpenStore = Callable[[], Awaitable[Storage]]


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
    assert (await s.migrate())[0] == "0001_initial"
    assert await s.migrate() == []
    await s.create_project(Project("proj_1", "P", "app", "tok", SECRET, NOW), is_default=True)
    await s.create_event_schema("proj_1", "ms_1", "sign_up", {"plan": PropertyDef("string")}, NOW)
    await s.create_distribution(distribution())
    return s
