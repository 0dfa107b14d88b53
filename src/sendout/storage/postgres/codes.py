"""Codes (vouchers) on PostgreSQL: generating (``COPY`` for large batches), adding, importing, listing."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import asyncpg

from sendout.errors import Conflict, InvalidInput, NotFound
from sendout.promotions import ids as pids
from sendout.promotions.campaigns import (
    generation_config,
    initial_points,
    with_codes,
)
from sendout.promotions.codes import CodeConfig, code_config, generate_codes
from sendout.promotions.records import Campaign, Voucher
from sendout.records import Page
from sendout.storage import promotion_rows as prow
from sendout.storage import rows
from sendout.storage.postgres.campaigns import campaigns_by_id, require_campaign
from sendout.storage.postgres.queries import Where, inserted_count, paged

if TYPE_CHECKING:
    from sendout.storage.postgres.queries import Conn


__all__ = [
    "add_code",
    "add_code_to",
    "code_campaign",
    "find_voucher",
    "generate_into",
    "generate_vouchers",
    "import_codes",
    "insert_codes",
    "list_vouchers",
    "require_voucher",
]

_BATCH = 50_000


_ENUMERATE_UP_TO = 2_000_000


async def find_voucher(conn: Conn, project_id: str, code: str) -> Voucher | None:
    row = await conn.fetchrow(
        "SELECT * FROM vouchers WHERE project_id = $1 AND code = $2", project_id, code
    )
    return None if row is None else prow.voucher(row)


async def require_voucher(conn: Conn, project_id: str, code: str) -> tuple[Voucher, Campaign]:
    voucher = await find_voucher(conn, project_id, code)
    if voucher is None:
        raise NotFound("voucher", code)
    return voucher, await require_campaign(conn, project_id, voucher.campaign_id)


async def _taken_codes(conn: Conn, project_id: str, config: CodeConfig) -> set[str]:
    """Codes that could collide, loaded only when the code space is small enough to matter."""
    if config.capacity > _ENUMERATE_UP_TO:
        return set()
    size = len(config.prefix) + len(config.postfix) + len(config.pattern or "#" * config.length)
    found = await conn.fetch(
        "SELECT code FROM vouchers WHERE project_id = $1 AND length(code) = $2", project_id, size
    )
    return {r["code"] for r in found}


_INSERT_CODES = """
INSERT INTO vouchers (id, project_id, campaign_id, code, points, balance, created_at)
SELECT v.id, $3, $4, v.code, $5, $5, $6 FROM unnest($1::text[], $2::text[]) AS v (id, code)
ON CONFLICT DO NOTHING
"""


_COPY_FROM = 10_000  # from this many codes on, try COPY first


_CODE_COLUMNS = ("id", "project_id", "campaign_id", "code", "points", "balance", "created_at")


async def _copy_codes(
    conn: Conn, campaign: Campaign, voucher_ids: list[str], codes: list[str], now: str
) -> bool:
    """All the codes in one ``COPY`` (a savepoint); False, and nothing written, if one exists."""
    points = initial_points(campaign)
    records = [
        (voucher_id, campaign.project_id, campaign.id, code, points, points, now)
        for voucher_id, code in zip(voucher_ids, codes, strict=True)
    ]
    try:
        async with conn.transaction():
            await conn.copy_records_to_table("vouchers", records=records, columns=_CODE_COLUMNS)
    except asyncpg.UniqueViolationError:
        return False
    return True


async def _insert_new_codes(
    conn: Conn, campaign: Campaign, voucher_ids: list[str], codes: list[str], now: str
) -> int:
    """Insert in batches, skipping codes the project has; returns how many were added."""
    added = 0
    for start in range(0, len(codes), _BATCH):
        end = start + _BATCH
        status = await conn.execute(
            _INSERT_CODES,
            voucher_ids[start:end],
            codes[start:end],
            campaign.project_id,
            campaign.id,
            initial_points(campaign),
            now,
        )
        added += inserted_count(status)
    return added


async def insert_codes(conn: Conn, campaign: Campaign, codes: Sequence[str], now: str) -> int:
    """Insert codes; those already in the project are skipped. Returns how many were added.

    Sorted codes with sorted ids, so both unique indexes fill in order, and concurrent
    inserters of one code take their locks in the same order (no deadlock). Many codes go in
    by ``COPY`` (about twice as fast); should one of them exist, by ``INSERT … ON CONFLICT``.
    """
    ordered = sorted(codes)
    voucher_ids = sorted(pids.voucher_ids(len(ordered)))
    copied = len(ordered) >= _COPY_FROM and await _copy_codes(
        conn, campaign, voucher_ids, ordered, now
    )
    if copied:
        added = len(ordered)
    else:
        added = await _insert_new_codes(conn, campaign, voucher_ids, ordered, now)
    await conn.execute(
        "UPDATE campaigns SET vouchers_count = vouchers_count + $1 WHERE id = $2",
        added,
        campaign.id,
    )
    return added


def _invalid_code_config(details: str) -> InvalidInput:
    return InvalidInput(details, key="invalid_code_config", message="Invalid code config")


async def generate_vouchers(
    conn: Conn, campaign: Campaign, count: int, now: str, config: CodeConfig | None = None
) -> int:
    """Add ``count`` new unique codes to the campaign (one transaction)."""
    config = generation_config(campaign, count, config)
    tried = await _taken_codes(conn, campaign.project_id, config)
    added = 0
    for _ in range(16):
        if added == count:
            return added
        codes = generate_codes(config, count - added, taken=tried)
        tried.update(codes)
        added += await insert_codes(conn, campaign, codes, now)
    if added < count:
        raise _invalid_code_config(
            f"Could only find {added} of {count} codes not yet used in this project"
        )
    return added


async def add_code(
    conn: Conn, campaign: Campaign, code: str, metadata: dict[str, Any], now: str
) -> Voucher:
    row = await conn.fetchrow(
        "INSERT INTO vouchers (id, project_id, campaign_id, code, points, balance, metadata,"
        " created_at) VALUES ($1, $2, $3, $4, $5, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING *",
        pids.voucher_id(),
        campaign.project_id,
        campaign.id,
        code,
        initial_points(campaign),
        rows.to_json(metadata),
        now,
    )
    if row is None:
        raise Conflict(
            f"A voucher with code {code} already exists in this project",
            resource_id=code,
            resource_type="voucher",
        )
    await conn.execute(
        "UPDATE campaigns SET vouchers_count = vouchers_count + 1 WHERE id = $1", campaign.id
    )
    return prow.voucher(row)


async def code_campaign(conn: Conn, project_id: str, ref: str, lock: bool = False) -> Campaign:
    """The campaign codes go into; ``lock``: held until commit, so it cannot be deleted meanwhile."""
    return with_codes(await require_campaign(conn, project_id, ref, lock))


async def generate_into(
    conn: Conn,
    project_id: str,
    ref: str,
    count: int,
    raw_config: dict[str, Any] | None,
    now: str,
) -> tuple[Campaign, int]:
    campaign = await code_campaign(conn, project_id, ref, lock=True)
    config = None if raw_config is None else code_config(raw_config)
    added = await generate_vouchers(conn, campaign, count, now, config)
    return await require_campaign(conn, project_id, campaign.id), added


async def add_code_to(
    conn: Conn, project_id: str, ref: str, code: str, metadata: dict[str, Any], now: str
) -> tuple[Voucher, Campaign]:
    campaign = await code_campaign(conn, project_id, ref, lock=True)
    voucher = await add_code(conn, campaign, code, metadata, now)
    return voucher, await require_campaign(conn, project_id, campaign.id)


async def import_codes(
    conn: Conn, project_id: str, ref: str, codes: Sequence[str], now: str
) -> int:
    campaign = await code_campaign(conn, project_id, ref, lock=True)
    return await insert_codes(conn, campaign, list(dict.fromkeys(codes)), now)


async def list_vouchers(
    conn: Conn, project_id: str, page: Page, campaign: str | None, holder_id: str | None
) -> tuple[list[tuple[Voucher, Campaign]], int]:
    where = Where().add("project_id = ?", project_id)
    if campaign is not None:
        where.add("campaign_id = ?", (await require_campaign(conn, project_id, campaign)).id)
    if holder_id is not None:
        where.add("holder_id = ?", holder_id)
    found, total = await paged(conn, "vouchers", where, "seq", page)
    vouchers = [prow.voucher(r) for r in found]
    campaigns = await campaigns_by_id(conn, {v.campaign_id for v in vouchers})
    return [(v, campaigns[v.campaign_id]) for v in vouchers], total
