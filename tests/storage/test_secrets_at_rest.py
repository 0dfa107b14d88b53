"""Secrets at rest on both backends: sealed with a key, opened only with it, sealed at start
when stored before the key; the Voucherify secret signs what the worker claims."""

from __future__ import annotations

import sqlite3
from typing import Any

import asyncpg
import pytest

from sendout.bootstrap import ensure_credentials, open_storage
from sendout.clock import SystemClock
from sendout.records import Project
from sendout.settings import Settings, SettingsError
from sendout.storage.base import Storage
from sendout.storage.sealing import SEALED_PREFIX
from support.storage import NOW, NOW_MS, SECRET, command, enqueue

KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
OTHER_KEY = "HwAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="


async def _raw(database_url: str, column: str) -> Any:
    sql = f"SELECT {column} FROM projects WHERE id = 'proj_1'"
    if database_url.startswith("sqlite:///"):
        conn = sqlite3.connect(database_url.removeprefix("sqlite:///"))
        try:
            return conn.execute(sql).fetchone()[0]
        finally:
            conn.close()
    pg = await asyncpg.connect(database_url)
    try:
        return await pg.fetchval(sql)
    finally:
        await pg.close()


async def _open(database_url: str, key: str | None) -> Storage:
    env = {} if key is None else {"SENDOUT_SECRET_KEY": key}
    return await open_storage(Settings.from_env(env, database_url=database_url, db_pool_size=2))


async def test_secrets_are_sealed_with_a_key_and_open_only_with_it(database_url: str) -> None:
    store = await _open(database_url, KEY)
    try:
        await store.create_project(Project("proj_1", "P", "app", "d", SECRET, NOW), is_default=True)
        await store.put_voucherify_secrets("proj_1", "myVoucherifySecretKey123", "stagedKey456")
        project = await store.get_project("proj_1")
    finally:
        await store.close()
    assert (project.webhook_secret, project.voucherify_secret) == (
        SECRET,
        "myVoucherifySecretKey123",
    )
    assert project.staged_voucherify_secret == "stagedKey456"
    for column in ("webhook_secret", "voucherify_secret", "staged_voucherify_secret"):
        stored = await _raw(database_url, column)
        assert stored.startswith(SEALED_PREFIX), column
        assert "myVoucherifySecretKey123" not in stored and SECRET not in stored
    for key, reason in ((None, "set SENDOUT_SECRET_KEY"), (OTHER_KEY, "does not open")):
        with pytest.raises(SettingsError, match=reason):
            await _open(database_url, key)


async def test_secrets_stored_before_a_key_are_sealed_at_start(database_url: str) -> None:
    plain = await _open(database_url, None)
    try:
        await plain.create_project(Project("proj_1", "P", "app", "d", SECRET, NOW), is_default=True)
        await plain.rotate_webhook_secret("proj_1", "whsec_bmV3bmV3bmV3bmV3bmV3bmV3", NOW_MS)
    finally:
        await plain.close()
    assert await _raw(database_url, "webhook_secret") == "whsec_bmV3bmV3bmV3bmV3bmV3bmV3"
    sealed = await _open(database_url, KEY)
    try:
        project = await sealed.get_project("proj_1")
        assert await sealed.seal_stored_secrets() == 0, "sealed once, at the first start"
    finally:
        await sealed.close()
    assert project.webhook_secret == "whsec_bmV3bmV3bmV3bmV3bmV3bmV3"
    assert project.previous_webhook_secret == SECRET
    for column in ("webhook_secret", "previous_webhook_secret"):
        assert (await _raw(database_url, column)).startswith(SEALED_PREFIX), column


async def test_a_sealed_secret_copied_to_another_project_does_not_open(
    database_url: str,
) -> None:
    store = await _open(database_url, KEY)
    try:
        for pid, app in (("proj_1", "a1"), ("proj_2", "a2")):
            await store.create_project(Project(pid, "P", app, "d", SECRET, NOW), is_default=False)
    finally:
        await store.close()
    stolen = await _raw(database_url, "webhook_secret")
    if database_url.startswith("sqlite:///"):
        conn = sqlite3.connect(database_url.removeprefix("sqlite:///"))
        conn.execute("UPDATE projects SET webhook_secret = ? WHERE id = 'proj_2'", (stolen,))
        conn.commit()
        conn.close()
    else:
        pg = await asyncpg.connect(database_url)
        await pg.execute("UPDATE projects SET webhook_secret = $1 WHERE id = 'proj_2'", stolen)
        await pg.close()
    with pytest.raises(SettingsError, match="does not open"):
        await _open(database_url, KEY)


async def test_claims_sign_x_voucherify_signature_with_the_voucherify_secret(
    store: Storage,
) -> None:
    await store.put_voucherify_secrets("proj_1", "myVoucherifySecretKey123", "nextKey456")
    await enqueue(store, command("event_1"))
    [claimed] = await store.claim_due(NOW_MS, 10, 30_000, retries=False)
    assert claimed.keys.voucherify == "myVoucherifySecretKey123", "the staged one waits"
    assert claimed.keys.standard == (SECRET,)


async def test_the_voucherify_secret_given_at_start_replaces_and_switches(
    database_url: str,
) -> None:
    env = {"SENDOUT_VOUCHERIFY_SECRET": "stagedKey456"}
    store = await _open(database_url, None)
    try:
        first = await ensure_credentials(store, Settings.from_env({}), SystemClock())
        assert first.project.voucherify_secret == first.project.webhook_secret
        await store.put_voucherify_secrets(first.project.id, "currentKey123", "stagedKey456")
        again = await ensure_credentials(store, Settings.from_env(env), SystemClock())
        assert (again.project.voucherify_secret, again.project.staged_voucherify_secret) == (
            "stagedKey456",
            None,
        )
        stored = await store.get_project(first.project.id)
        assert stored.voucherify_secret == "stagedKey456"
        assert stored.webhook_secret == first.project.webhook_secret
    finally:
        await store.close()
