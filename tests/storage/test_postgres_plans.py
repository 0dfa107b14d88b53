"""PostgreSQL's plans for batched tracking stay index lookups as the customers table grows.

A connection keeps a statement's generic plan for its life (asyncpg prepares every statement,
and PostgreSQL keeps the plan until the table's statistics change). A plan made while the table
was empty and never analysed (a new install, or a server with autovacuum off) must not read the
whole table for every batch once it holds many customers. A server with autovacuum off is named
in the log once per start.
"""

from __future__ import annotations

import re

import asyncpg
import pytest
import structlog.testing

from sendout.bootstrap import open_storage
from sendout.settings import Settings
from sendout.storage.base import Storage
from sendout.storage.postgres.batches import _INSERT, _LOOKUP

pytestmark = pytest.mark.parametrize("backend", ["postgres"], indirect=True)


def _parameters(sql: str) -> int:
    """How many parameters ``sql`` takes (its highest ``$n``)."""
    return max(int(n) for n in re.findall(r"\$(\d+)", sql))


async def _plan_after_growth(database_url: str, sql: str) -> str:
    """The plan ``sql`` keeps when it was planned on no customers and then runs on 5,000."""
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute("SET plan_cache_mode = force_generic_plan")
        await conn.execute(f"PREPARE planned AS {sql}")
        empty = ", ".join(["'{}'"] * _parameters(sql))
        await conn.execute(f"EXECUTE planned ({empty})")  # the generic plan, made on no rows
        await conn.execute(
            "INSERT INTO customers (id, project_id, source_id, metadata, created_at)"
            " SELECT 'cust_' || n, 'proj_1', 'src_' || n, '{}', '2026-01-01T00:00:00.000Z'"
            " FROM generate_series(1, 5000) AS n"
        )
        rows = await conn.fetch(f"EXPLAIN EXECUTE planned ({empty})")
        return "\n".join(r[0] for r in rows)
    finally:
        await conn.close()


@pytest.mark.parametrize("sql", [_LOOKUP, _INSERT], ids=["lookup", "insert"])
async def test_a_plan_made_on_an_empty_table_never_scans_customers(
    store: Storage, database_url: str, sql: str
) -> None:
    plan = await _plan_after_growth(database_url, sql)
    assert "Seq Scan on customers" not in plan, plan
    assert "Index Scan using customers_pkey" in plan, plan  # by id
    if sql is _LOOKUP:  # by source_id: the unique index, not every customer of the project
        assert "Index Scan using customers_source_id" in plan, plan
        assert "customers_created" not in plan, plan


async def test_a_server_without_autovacuum_is_named_once_per_start(database_url: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        autovacuum = await conn.fetchval("SELECT current_setting('autovacuum')")
    finally:
        await conn.close()
    settings = Settings.from_env({}, database_url=database_url)
    with structlog.testing.capture_logs() as logs:
        for announce in (True, False):  # serve's first open announces, later ones do not
            await (await open_storage(settings, announce=announce)).close()
    warned = [e for e in logs if e["event"] == "sendout.statistics_not_kept"]
    assert len(warned) == (1 if autovacuum == "off" else 0), logs
