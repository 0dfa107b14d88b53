"""Codes (vouchers) on SQLite: generating, adding, importing, listing."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

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
from sendout.storage.sqlite.campaigns import require_campaign
from sendout.storage.sqlite.queries import Conn, paged

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


def find_voucher(conn: Conn, project_id: str, code: str) -> Voucher | None:
    row = conn.execute(
        "SELECT * FROM vouchers WHERE project_id = ? AND code = ?", (project_id, code)
    ).fetchone()
    return None if row is None else prow.voucher(row)


def require_voucher(conn: Conn, project_id: str, code: str) -> tuple[Voucher, Campaign]:
    voucher = find_voucher(conn, project_id, code)
    if voucher is None:
        raise NotFound("voucher", code)
    return voucher, require_campaign(conn, project_id, voucher.campaign_id)


def _taken_codes(conn: Conn, project_id: str, config: CodeConfig) -> set[str]:
    """Codes that could collide, loaded only when the code space is small enough to matter."""
    if config.capacity > _ENUMERATE_UP_TO:
        return set()
    size = len(config.prefix) + len(config.postfix) + len(config.pattern or "#" * config.length)
    return {
        r[0]
        for r in conn.execute(
            "SELECT code FROM vouchers WHERE project_id = ? AND length(code) = ?",
            (project_id, size),
        )
    }


def insert_codes(conn: Conn, campaign: Campaign, codes: Sequence[str], now: str) -> int:
    """Insert codes; those already in the project are skipped. Returns how many were added."""
    before = conn.total_changes
    # Sorted codes paired with sorted (still random) ids: both unique indexes then grow in
    # order instead of at random pages, which makes bulk inserts several times faster.
    codes = sorted(codes)
    voucher_ids = sorted(pids.voucher_ids(len(codes)))
    points = initial_points(campaign)
    for start in range(0, len(codes), _BATCH):
        conn.executemany(
            "INSERT INTO vouchers (id, project_id, campaign_id, code, points, balance,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            [
                (voucher_ids[i], campaign.project_id, campaign.id, codes[i], points, points, now)
                for i in range(start, min(start + _BATCH, len(codes)))
            ],
        )
    added = conn.total_changes - before
    conn.execute(
        "UPDATE campaigns SET vouchers_count = vouchers_count + ? WHERE id = ?",
        (added, campaign.id),
    )
    return added


def generate_vouchers(
    conn: Conn, campaign: Campaign, count: int, now: str, config: CodeConfig | None = None
) -> int:
    """Add ``count`` new unique codes to the campaign (one transaction)."""
    config = generation_config(campaign, count, config)
    tried = _taken_codes(conn, campaign.project_id, config)
    added = 0
    for _ in range(16):
        if added == count:
            return added
        codes = generate_codes(config, count - added, taken=tried)
        tried.update(codes)
        added += insert_codes(conn, campaign, codes, now)
    if added < count:
        raise InvalidInput(
            f"Could only find {added} of {count} codes not yet used in this project",
            key="invalid_code_config",
            message="Invalid code config",
        )
    return added


def add_code(
    conn: Conn, campaign: Campaign, code: str, metadata: dict[str, Any], now: str
) -> Voucher:
    try:
        row = conn.execute(
            "INSERT INTO vouchers (id, project_id, campaign_id, code, points, balance, metadata,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING *",
            (
                pids.voucher_id(),
                campaign.project_id,
                campaign.id,
                code,
                initial_points(campaign),
                initial_points(campaign),
                rows.to_json(metadata),
                now,
            ),
        ).fetchone()
    except sqlite3.IntegrityError:
        raise Conflict(
            f"A voucher with code {code} already exists in this project",
            resource_id=code,
            resource_type="voucher",
        ) from None
    conn.execute(
        "UPDATE campaigns SET vouchers_count = vouchers_count + 1 WHERE id = ?", (campaign.id,)
    )
    return prow.voucher(row)


def generate_into(
    conn: Conn,
    project_id: str,
    ref: str,
    count: int,
    raw_config: dict[str, Any] | None,
    now: str,
) -> tuple[Campaign, int]:
    campaign = code_campaign(conn, project_id, ref)
    config = None if raw_config is None else code_config(raw_config)
    added = generate_vouchers(conn, campaign, count, now, config)
    return require_campaign(conn, project_id, campaign.id), added


def add_code_to(
    conn: Conn, project_id: str, ref: str, code: str, metadata: dict[str, Any], now: str
) -> tuple[Voucher, Campaign]:
    campaign = code_campaign(conn, project_id, ref)
    voucher = add_code(conn, campaign, code, metadata, now)
    return voucher, require_campaign(conn, project_id, campaign.id)


def import_codes(conn: Conn, project_id: str, ref: str, codes: Sequence[str], now: str) -> int:
    campaign = code_campaign(conn, project_id, ref)
    return insert_codes(conn, campaign, list(dict.fromkeys(codes)), now)


def code_campaign(conn: Conn, project_id: str, ref: str) -> Campaign:
    return with_codes(require_campaign(conn, project_id, ref))


def list_vouchers(
    conn: Conn, project_id: str, page: Page, campaign: str | None, holder_id: str | None
) -> tuple[list[tuple[Voucher, Campaign]], int]:
    campaign_id = None if campaign is None else require_campaign(conn, project_id, campaign).id
    filters = {"project_id": project_id, "campaign_id": campaign_id, "holder_id": holder_id}
    found, total = paged(conn, "vouchers", filters, "rowid", page)
    campaigns: dict[str, Campaign] = {}
    out = []
    for r in found:
        voucher = prow.voucher(r)
        if voucher.campaign_id not in campaigns:
            campaigns[voucher.campaign_id] = require_campaign(conn, project_id, voucher.campaign_id)
        out.append((voucher, campaigns[voucher.campaign_id]))
    return out, total
