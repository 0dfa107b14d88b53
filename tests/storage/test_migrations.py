"""Migrations: an empty database gets ``schema.sql``; one at any earlier step gets the rest.

Both paths must end at the same schema. With one migration the prefixes are "none" and "all";
every migration added makes another prefix, so the test grows with the history.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import asyncpg

from sendout.bootstrap import ensure_credentials, make_storage
from sendout.clock import SystemClock
from sendout.settings import Settings
from sendout.storage.base import Storage
from sendout.storage.migrations import migration_scripts
from sendout.storage.sqlite.connection import add_functions
from sendout.token_digest import token_digest
from support.postgres import create_database, drop_database

Dump = list[tuple[Any, ...]]

PG_DUMP = {
    "columns": "SELECT table_name, column_name, data_type, is_nullable, column_default,"
    " collation_name FROM information_schema.columns WHERE table_schema = 'public'",
    "indexes": "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'",
    "constraints": "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid)"
    " FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace"
    " WHERE n.nspname = 'public'",
}


def _sqlite_path(url: str) -> str:
    return url.removeprefix("sqlite:///")


def sqlite_dump(url: str) -> Dump:
    """Tables' columns, indexes (with their ``WHERE``), foreign keys and triggers, independent of
    layout."""
    conn = sqlite3.connect(_sqlite_path(url))
    try:
        out: Dump = []
        objects = conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master").fetchall()
        for kind, name, table, sql in objects:
            if kind == "table":
                out += [
                    ("column", table, *c[1:]) for c in conn.execute(f"PRAGMA table_xinfo({name})")
                ]
                out += [
                    ("fk", table, *f[2:]) for f in conn.execute(f"PRAGMA foreign_key_list({name})")
                ]
            elif kind == "trigger":
                out.append(("trigger", table, name, " ".join(sql.split())))
            elif kind == "index":
                where = None if sql is None else " ".join(sql.split()).partition(" WHERE ")[2]
                cols = [c[2] for c in conn.execute(f"PRAGMA index_info({name})")]
                out.append(("index", table, name, tuple(cols), where))
        return sorted(out, key=repr)
    finally:
        conn.close()


async def postgres_dump(url: str) -> Dump:
    conn = await asyncpg.connect(url)
    try:
        out: Dump = []
        for kind, sql in PG_DUMP.items():
            out += [(kind, *r.values()) for r in await conn.fetch(sql)]
        return sorted(out, key=repr)
    finally:
        await conn.close()


async def dump(backend: str, url: str) -> Dump:
    return sqlite_dump(url) if backend == "sqlite" else await postgres_dump(url)


RECORD = {  # the bookkeeping table exactly as every sendout version creates it
    "sqlite": "CREATE TABLE schema_migrations"
    " (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)",
    "postgres": 'CREATE TABLE schema_migrations (name text COLLATE "C" PRIMARY KEY,'
    " applied_at timestamptz NOT NULL DEFAULT now())",
}


async def apply_by_hand(backend: str, url: str, steps: list[tuple[str, str]]) -> None:
    """What an older sendout left behind: its migrations, each recorded as applied."""
    if not steps:
        return
    if backend == "sqlite":
        conn = sqlite3.connect(_sqlite_path(url))
        add_functions(conn)  # as on every connection sendout opens
        conn.executescript(RECORD[backend])
        for name, sql in steps:
            conn.executescript(sql)
            conn.execute("INSERT INTO schema_migrations (name) VALUES (?)", (name,))
        conn.commit()
        conn.close()
        return
    pg = await asyncpg.connect(url)
    try:
        await pg.execute(RECORD[backend])
        for name, sql in steps:
            await pg.execute(sql)
            await pg.execute("INSERT INTO schema_migrations (name) VALUES ($1)", name)
    finally:
        await pg.close()


async def test_every_earlier_step_migrates_to_the_fresh_schema(
    backend: str, database_url: str, tmp_path: Path
) -> None:
    steps = migration_scripts(backend)
    names = [name for name, _ in steps]
    fresh = await _open(database_url)
    assert await fresh.migrate() == names
    await fresh.close()
    want = await dump(backend, database_url)
    assert len(want) > 50, "the dump sees the tables"
    for done in range(len(steps) + 1):
        url = await _another_database(backend, tmp_path / f"step{done}.db")
        try:
            await apply_by_hand(backend, url, steps[:done])
            store = await _open(url)
            assert await store.migrate() == names[done:]
            await store.close()
            assert await dump(backend, url) == want, f"after {names[:done]} by hand"
        finally:
            await _drop(backend, url)


async def test_two_processes_migrating_at_once_apply_everything_once(
    backend: str, database_url: str
) -> None:
    first, second = await _open(database_url), await _open(database_url)
    try:
        a, b = await asyncio.gather(first.migrate(), second.migrate())
    finally:
        await first.close()
        await second.close()
    assert sorted([a, b]) == [[], [name for name, _ in migration_scripts(backend)]]


async def _open(url: str) -> Storage:
    storage = make_storage(Settings.from_env({}, database_url=url, db_pool_size=2))
    await storage.open()
    return storage


async def _another_database(backend: str, sqlite_file: Path) -> str:
    return f"sqlite:///{sqlite_file}" if backend == "sqlite" else await create_database()


async def _drop(backend: str, url: str) -> None:
    if backend == "postgres":
        await drop_database(url)


async def test_a_second_default_project_from_an_older_race_is_demoted(
    backend: str, database_url: str
) -> None:
    """Before 0004 two processes starting together could each create a default project."""
    steps = migration_scripts(backend)
    before = [s for s in steps if s[0] < "0004"]
    await apply_by_hand(backend, database_url, before)
    insert = (
        "INSERT INTO projects (id, name, app_id, app_token, webhook_secret, is_default,"
        " created_at) VALUES ('{0}', 'P', 'app_{0}', 't', 's', {1}, '{2}')"
    )
    true = "1" if backend == "sqlite" else "true"
    rows_sql = [
        insert.format("proj_later", true, "2026-01-02"),
        insert.format("proj_first", true, "2026-01-01"),
    ]
    await _run_sql(backend, database_url, rows_sql)
    store = await _open(database_url)
    try:
        assert await store.migrate() == [n for n, _ in steps if n >= "0004"]
        default = await store.default_project()
        assert default is not None and default.id == "proj_first"
        assert len(await store.list_projects()) == 2
    finally:
        await store.close()


LEGACY_SECRET = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0NTY3ODk="


async def _run_sql(backend: str, url: str, statements: list[str]) -> None:
    if backend == "sqlite":
        conn = sqlite3.connect(_sqlite_path(url))
        for sql in statements:
            conn.execute(sql)
        conn.commit()
        conn.close()
        return
    pg = await asyncpg.connect(url)
    try:
        for sql in statements:
            await pg.execute(sql)
    finally:
        await pg.close()


async def test_referee_rewards_saved_by_name_are_named_by_id_and_name(
    backend: str, database_url: str
) -> None:
    """Before 0009 a referee reward kept what the request named and a DISCOUNT_VOUCHER type."""
    steps = migration_scripts(backend)
    await apply_by_hand(backend, database_url, [s for s in steps if s[0] < "0009"])
    project = (
        "INSERT INTO projects (id, name, app_id, app_token, webhook_secret, is_default,"
        " created_at) VALUES ('proj_1', 'P', 'app', 't', 's', {0}, '2026-01-01')"
    )
    campaign = (
        "INSERT INTO campaigns (id, project_id, name, campaign_type, type, referral_program,"
        " created_at) VALUES ('{0}', 'proj_1', '{1}', '{2}', 'STATIC', {3}, '2026-01-01')"
    )
    old = '{"conversion_event_type": "custom_event", "referee_reward": {"related_object_parent":'
    old += ' {"id": "%s", "name": null, "object": "CAMPAIGN"}, "type": "DISCOUNT_VOUCHER"}}'
    await _run_sql(
        backend,
        database_url,
        [
            project.format("1" if backend == "sqlite" else "true"),
            campaign.format("camp_reward", "Reward", "DISCOUNT_COUPONS", "NULL"),
            campaign.format("camp_by_name", "ByName", "REFERRAL_PROGRAM", f"'{old % 'Reward'}'"),
            campaign.format("camp_by_id", "ById", "REFERRAL_PROGRAM", f"'{old % 'camp_reward'}'"),
            campaign.format("camp_plain", "Plain", "REFERRAL_PROGRAM", "'{}'"),
        ],
    )
    store = await _open(database_url)
    try:
        assert await store.migrate() == [n for n, _ in steps if n >= "0009"]
        named = {"id": "camp_reward", "name": "Reward", "object": "CAMPAIGN"}
        for ref in ("ByName", "ById"):
            program = (await store.get_campaign("proj_1", ref)).referral_program
            assert program == {
                "conversion_event_type": "custom_event",
                "referee_reward": {"related_object_parent": named},
            }
        assert (await store.get_campaign("proj_1", "Plain")).referral_program == {}
    finally:
        await store.close()


async def test_tokens_stored_in_the_clear_are_hashed_and_keep_working(
    backend: str, database_url: str
) -> None:
    """A deployment from before 0010: its tokens become digests, its webhook secret keeps
    keying x-voucherify-signature, and a start with the same settings generates nothing."""
    steps = migration_scripts(backend)
    await apply_by_hand(backend, database_url, [s for s in steps if s[0] < "0010"])
    true = "1" if backend == "sqlite" else "true"
    await _run_sql(
        backend,
        database_url,
        [
            "INSERT INTO projects (id, name, app_id, app_token, webhook_secret, is_default,"
            f" created_at) VALUES ('proj_old', 'P', 'app_old', 'tok-old', '{LEGACY_SECRET}',"
            f" {true}, '2026-01-01')",
            "INSERT INTO instance_settings (key, value) VALUES ('management_id', 'mgmt_old'),"
            " ('management_token', 'mgmt-token-old')",
        ],
    )
    store = await _open(database_url)
    try:
        assert await store.migrate() == [n for n, _ in steps if n >= "0010"]
        project = await store.get_project("proj_old")
        assert project.app_token_sha256 == token_digest("tok-old") != "tok-old"
        assert project.voucherify_secret == LEGACY_SECRET
        assert await store.get_setting("management_token") is None
        assert await store.get_setting("management_token_sha256") == token_digest("mgmt-token-old")
        creds = await ensure_credentials(store, Settings.from_env({}), SystemClock())
        assert creds.generated == []
        assert creds.project.app_token_sha256 == token_digest("tok-old")
        assert creds.management_token_sha256 == token_digest("mgmt-token-old")
        assert (creds.app_token, creds.management_token) == (None, None)
    finally:
        await store.close()
