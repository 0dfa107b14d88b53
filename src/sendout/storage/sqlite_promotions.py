"""SQLite transaction bodies for campaigns, codes, publications, tiers, loyalty and referral.

Every function takes the open connection of a transaction that :class:`SqliteStorage` began
on its writer (or reader) thread; :class:`SqlitePromotionTx` is the same connection seen
through the :class:`~sendout.promotions.tx.PromotionTx` protocol by the pure stages.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from sendout.errors import Conflict, InvalidInput, NotFound
from sendout.promotions import ids as pids
from sendout.promotions.codes import CodeConfig, code_config, generate_codes
from sendout.promotions.earning import new_earning_rule
from sendout.promotions.publishing import new_publication
from sendout.promotions.records import (
    Campaign,
    EarningRule,
    LoyaltyTransaction,
    PromotionOutcome,
    PromotionTier,
    Publication,
    ReferralConversion,
    Voucher,
)
from sendout.promotions.rewards import new_conversion
from sendout.records import Customer, Page
from sendout.storage import promotion_rows as prow
from sendout.storage import refusals, rows
from sendout.storage.base import PublicationFilter

__all__ = ["PUBLICATION_ORDERS", "SqlitePromotionTx"]

Conn = sqlite3.Connection
_BATCH = 50_000
_ENUMERATE_UP_TO = 2_000_000
_PUBLICATION_ORDERS = {
    "id": "p.id ASC",
    "-id": "p.id DESC",
    "created_at": "p.created_at ASC, p.id ASC",
    "-created_at": "p.created_at DESC, p.id DESC",
    "customer_id": "p.customer_id ASC",
    "-customer_id": "p.customer_id DESC",
    "channel": "p.channel ASC",
    "-channel": "p.channel DESC",
    "tracking_id": "cu.source_id ASC",
    "-tracking_id": "cu.source_id DESC",
}
PUBLICATION_ORDERS = tuple(_PUBLICATION_ORDERS)


# --- lookups -----------------------------------------------------------------------------------


def find_campaign(conn: Conn, project_id: str, ref: str) -> Campaign | None:
    row = conn.execute(
        "SELECT * FROM campaigns WHERE project_id = ? AND (id = ? OR name = ?)"
        " ORDER BY id = ? DESC LIMIT 1",
        (project_id, ref, ref, ref),
    ).fetchone()
    return None if row is None else prow.campaign(row)


def require_campaign(conn: Conn, project_id: str, ref: str) -> Campaign:
    found = find_campaign(conn, project_id, ref)
    if found is None:
        raise NotFound("campaign", ref)
    return found


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


def find_tier(conn: Conn, project_id: str, tier_id: str) -> PromotionTier | None:
    row = conn.execute(
        "SELECT * FROM promotion_tiers WHERE project_id = ? AND id = ?", (project_id, tier_id)
    ).fetchone()
    return None if row is None else prow.promotion_tier(row)


def require_tier(conn: Conn, project_id: str, tier_id: str) -> PromotionTier:
    found = find_tier(conn, project_id, tier_id)
    if found is None:
        raise NotFound("promotion_tier", tier_id)
    return found


def _publication(conn: Conn, row: sqlite3.Row) -> Publication:
    vouchers = tuple(
        prow.voucher(v)
        for v in conn.execute(
            "SELECT v.* FROM publication_vouchers pv JOIN vouchers v ON v.id = pv.voucher_id"
            " WHERE pv.publication_id = ? ORDER BY pv.position",
            (row["id"],),
        )
    )
    return Publication(
        id=row["id"],
        project_id=row["project_id"],
        campaign_id=row["campaign_id"],
        customer_id=row["customer_id"],
        vouchers=vouchers,
        source_id=row["source_id"],
        channel=row["channel"],
        metadata=rows.from_json(row["metadata"]) or {},
        created_at=row["created_at"],
    )


def _in_use(conn: Conn, project_id: str, path: str, value: str) -> str | None:
    row = conn.execute(
        f"SELECT id FROM distributions WHERE project_id = ? AND json_extract(action, '$.{path}') = ?"
        " LIMIT 1",
        (project_id, value),
    ).fetchone()
    return None if row is None else str(row[0])


# --- codes -------------------------------------------------------------------------------------


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


def _initial_points(campaign: Campaign) -> int:
    return int(((campaign.voucher or {}).get("loyalty_card") or {}).get("points", 0))


def insert_codes(conn: Conn, campaign: Campaign, codes: Sequence[str], now: str) -> int:
    """Insert codes; those already in the project are skipped. Returns how many were added."""
    before = conn.total_changes
    # Sorted codes paired with sorted (still random) ids: both unique indexes then grow in
    # order instead of at random pages, which makes bulk inserts several times faster.
    codes = sorted(codes)
    voucher_ids = sorted(pids.voucher_ids(len(codes)))
    points = _initial_points(campaign)
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
    config = config or code_config((campaign.voucher or {}).get("code_config"))
    if campaign.vouchers_count + count > config.capacity:
        raise InvalidInput(
            f"code_config yields at most {config.capacity} distinct codes"
            f" ({len(config.charset)} characters ^ {config.length}); the campaign has"
            f" {campaign.vouchers_count} and {count} more were requested",
            key="invalid_code_config",
            message="Invalid code config",
        )
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
                _initial_points(campaign),
                _initial_points(campaign),
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
    campaign = require_campaign(conn, project_id, ref)
    if not campaign.has_codes:
        raise InvalidInput(
            f"Campaign '{campaign.name}' is a {campaign.campaign_type} campaign: it has no codes",
            key="invalid_campaign_type",
            message="Invalid campaign type",
            resource_id=campaign.id,
            resource_type="campaign",
        )
    return campaign


# --- the in-transaction verbs ------------------------------------------------------------------


class SqlitePromotionTx:
    """:class:`~sendout.promotions.tx.PromotionTx` over one open SQLite transaction."""

    def __init__(self, conn: Conn, project_id: str, now: str) -> None:
        self._conn = conn
        self._project_id = project_id
        self._now = now

    @property
    def now(self) -> str:
        return self._now

    async def campaign(self, id_or_name: str) -> Campaign | None:
        return find_campaign(self._conn, self._project_id, id_or_name)

    async def voucher(self, code: str) -> Voucher | None:
        return find_voucher(self._conn, self._project_id, code)

    async def customer(self, customer_id: str) -> Customer | None:
        row = self._conn.execute(
            "SELECT * FROM customers WHERE project_id = ? AND id = ?",
            (self._project_id, customer_id),
        ).fetchone()
        return None if row is None else rows.customer(row)

    async def promotion_tier(self, tier_id: str) -> PromotionTier | None:
        return find_tier(self._conn, self._project_id, tier_id)

    async def publication_of(self, campaign_id: str, customer_id: str) -> Publication | None:
        row = self._conn.execute(
            "SELECT * FROM publications WHERE project_id = ? AND customer_id = ?"
            " AND campaign_id = ? ORDER BY created_at, id LIMIT 1",
            (self._project_id, customer_id, campaign_id),
        ).fetchone()
        return None if row is None else _publication(self._conn, row)

    async def publication_by_source_id(self, source_id: str) -> Publication | None:
        row = self._conn.execute(
            "SELECT * FROM publications WHERE project_id = ? AND source_id = ?",
            (self._project_id, source_id),
        ).fetchone()
        return None if row is None else _publication(self._conn, row)

    async def claim_unpublished(
        self, campaign: Campaign, holder_id: str, count: int
    ) -> list[Voucher]:
        claimed = self._conn.execute(
            "UPDATE vouchers SET holder_id = ?, updated_at = ? WHERE id IN ("
            " SELECT id FROM vouchers WHERE campaign_id = ? AND holder_id IS NULL AND active = 1"
            " LIMIT ?) AND holder_id IS NULL RETURNING *",
            (holder_id, self._now, campaign.id, count),
        ).fetchall()
        return [prow.voucher(r) for r in claimed]

    async def claim_voucher(self, voucher_id: str, holder_id: str) -> Voucher | None:
        row = self._conn.execute(
            "UPDATE vouchers SET holder_id = ?, updated_at = ? WHERE id = ?"
            " AND holder_id IS NULL RETURNING *",
            (holder_id, self._now, voucher_id),
        ).fetchone()
        return None if row is None else prow.voucher(row)

    async def generate(self, campaign: Campaign, count: int) -> int:
        current = require_campaign(self._conn, self._project_id, campaign.id)
        return generate_vouchers(self._conn, current, count, self._now)

    async def create_publication(
        self,
        campaign: Campaign,
        customer_id: str,
        vouchers: list[Voucher],
        *,
        source_id: str | None,
        channel: str,
        metadata: dict[str, Any],
        distribution_id: str | None = None,
        event_id: str | None = None,
    ) -> Publication:
        publication = new_publication(
            self._project_id,
            campaign.id,
            customer_id,
            vouchers,
            source_id=source_id,
            channel=channel,
            metadata=metadata,
            now=self._now,
        )
        self._conn.execute(
            "INSERT INTO publications (id, project_id, campaign_id, customer_id, source_id,"
            " channel, metadata, distribution_id, event_id, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            prow.publication_values(publication, distribution_id, event_id),
        )
        self._conn.executemany(
            "INSERT INTO publication_vouchers (publication_id, voucher_id, position)"
            " VALUES (?, ?, ?)",
            [(publication.id, v.id, i) for i, v in enumerate(vouchers)],
        )
        return publication

    async def earning_rules(self, campaign_id: str, event_name: str) -> list[EarningRule]:
        return [
            prow.earning_rule(r)
            for r in self._conn.execute(
                "SELECT * FROM earning_rules WHERE campaign_id = ? AND event = ? AND active = 1"
                " ORDER BY created_at, id",
                (campaign_id, event_name),
            )
        ]

    async def credit_points(
        self, voucher: Voucher, rule: EarningRule, points: int, event_id: str
    ) -> Voucher:
        row = self._conn.execute(
            "UPDATE vouchers SET points = points + ?, balance = balance + ?, updated_at = ?"
            " WHERE id = ? RETURNING *",
            (points, points, self._now, voucher.id),
        ).fetchone()
        card = prow.voucher(row)
        self._conn.execute(
            "INSERT INTO loyalty_transactions (id, project_id, voucher_id, campaign_id,"
            " earning_rule_id, event_id, points, balance, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                pids.transaction_id(),
                self._project_id,
                card.id,
                card.campaign_id,
                rule.id,
                event_id,
                points,
                card.balance,
                self._now,
            ),
        )
        return card

    async def referral_conversion(
        self, campaign_id: str, referee_id: str
    ) -> ReferralConversion | None:
        row = self._conn.execute(
            "SELECT * FROM referral_conversions WHERE campaign_id = ? AND referee_id = ?",
            (campaign_id, referee_id),
        ).fetchone()
        return None if row is None else prow.conversion(row)

    async def record_conversion(
        self, campaign: Campaign, voucher: Voucher, referee_id: str, event_id: str
    ) -> ReferralConversion:
        conversion = new_conversion(campaign.id, voucher, referee_id, event_id, self._now)
        self._conn.execute(
            "INSERT INTO referral_conversions (id, project_id, campaign_id, voucher_id, code,"
            " referrer_id, referee_id, event_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            prow.conversion_values(conversion, self._project_id),
        )
        return conversion

    async def record_outcome(
        self,
        *,
        distribution_id: str | None,
        event_id: str,
        customer_id: str,
        campaign_id: str | None,
        result: str,
        details: str,
    ) -> None:
        self._conn.execute(
            "INSERT INTO distribution_outcomes (id, project_id, distribution_id, event_id,"
            " customer_id, campaign_id, result, details, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                pids.outcome_id(),
                self._project_id,
                distribution_id,
                event_id,
                customer_id,
                campaign_id,
                result,
                details,
                self._now,
            ),
        )


# --- campaigns -----------------------------------------------------------------------------------


def _check_reward(conn: Conn, campaign: Campaign) -> None:
    parent = (
        ((campaign.referral_program or {}).get("referee_reward") or {}).get("related_object_parent")
        or {}
    ).get("id")
    if parent is None:
        return
    reward = find_campaign(conn, campaign.project_id, parent)
    if reward is None or reward.campaign_type != "DISCOUNT_COUPONS":
        raise InvalidInput(
            "referral_program.referee_reward.related_object_parent.id must name a"
            f" DISCOUNT_COUPONS campaign of this project, got {parent!r}",
            key="invalid_referee_reward",
            message="Invalid referee reward",
        )


def create_campaign(
    conn: Conn, campaign: Campaign, tiers: Sequence[PromotionTier], count: int
) -> Campaign:
    _check_reward(conn, campaign)
    try:
        conn.execute(
            "INSERT INTO campaigns (id, project_id, name, campaign_type, type, description,"
            " join_once, auto_join, active, voucher, referral_program, metadata, start_date,"
            " expiration_date, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                campaign.id,
                campaign.project_id,
                campaign.name,
                campaign.campaign_type,
                campaign.type,
                campaign.description,
                int(campaign.join_once),
                int(campaign.auto_join),
                int(campaign.active),
                rows.json_or_null(campaign.voucher),
                rows.json_or_null(campaign.referral_program),
                rows.to_json(campaign.metadata),
                campaign.start_date,
                campaign.expiration_date,
                campaign.created_at,
            ),
        )
    except sqlite3.IntegrityError:
        raise Conflict(
            f"A campaign named '{campaign.name}' already exists",
            resource_id=campaign.name,
            resource_type="campaign",
        ) from None
    for tier in tiers:
        insert_tier(conn, tier)
    if count:
        generate_vouchers(conn, campaign, count, campaign.created_at)
    return require_campaign(conn, campaign.project_id, campaign.id)


def replace_campaign(conn: Conn, campaign: Campaign) -> Campaign:
    _check_reward(conn, campaign)
    conn.execute(
        "UPDATE campaigns SET type = ?, description = ?, join_once = ?, auto_join = ?,"
        " active = ?, voucher = ?, referral_program = ?, metadata = ?, start_date = ?,"
        " expiration_date = ?, updated_at = ? WHERE id = ?",
        (
            campaign.type,
            campaign.description,
            int(campaign.join_once),
            int(campaign.auto_join),
            int(campaign.active),
            rows.json_or_null(campaign.voucher),
            rows.json_or_null(campaign.referral_program),
            rows.to_json(campaign.metadata),
            campaign.start_date,
            campaign.expiration_date,
            campaign.updated_at,
            campaign.id,
        ),
    )
    return require_campaign(conn, campaign.project_id, campaign.id)


def delete_campaign(conn: Conn, project_id: str, ref: str) -> None:
    campaign = require_campaign(conn, project_id, ref)
    used = _in_use(conn, project_id, "campaign_id", campaign.id)
    if used is not None:
        raise refusals.in_use(f"Campaign '{campaign.name}'", "campaign", campaign.id, used)
    conn.execute("DELETE FROM campaigns WHERE id = ?", (campaign.id,))


def _paged(
    conn: Conn, table: str, filters: dict[str, Any], order_by: str, page: Page
) -> tuple[list[sqlite3.Row], int]:
    """One page of ``table``'s rows whose columns equal ``filters`` (a ``None`` value is no
    filter), and how many match in all."""
    present = {k: v for k, v in filters.items() if v is not None}
    where = " AND ".join(f"{column} = ?" for column in present)
    params = tuple(present.values())
    total = conn.execute(f"SELECT COUNT(*) FROM {table} WHERE {where}", params).fetchone()[0]
    found = conn.execute(
        f"SELECT * FROM {table} WHERE {where} ORDER BY {order_by} LIMIT ? OFFSET ?",
        (*params, page.limit, page.offset),
    ).fetchall()
    return found, int(total)


def list_campaigns(
    conn: Conn, project_id: str, page: Page, campaign_type: str | None
) -> tuple[list[Campaign], int]:
    filters = {"project_id": project_id, "campaign_type": campaign_type}
    found, total = _paged(conn, "campaigns", filters, "created_at DESC, id DESC", page)
    return [prow.campaign(r) for r in found], total


# --- vouchers ----------------------------------------------------------------------------------


def list_vouchers(
    conn: Conn, project_id: str, page: Page, campaign: str | None, holder_id: str | None
) -> tuple[list[tuple[Voucher, Campaign]], int]:
    campaign_id = None if campaign is None else require_campaign(conn, project_id, campaign).id
    filters = {"project_id": project_id, "campaign_id": campaign_id, "holder_id": holder_id}
    found, total = _paged(conn, "vouchers", filters, "rowid", page)
    campaigns: dict[str, Campaign] = {}
    out = []
    for r in found:
        voucher = prow.voucher(r)
        if voucher.campaign_id not in campaigns:
            campaigns[voucher.campaign_id] = require_campaign(conn, project_id, voucher.campaign_id)
        out.append((voucher, campaigns[voucher.campaign_id]))
    return out, total


# --- publications ------------------------------------------------------------------------------


def list_publications(
    conn: Conn, project_id: str, page: Page, f: PublicationFilter
) -> tuple[list[tuple[Publication, Customer, Campaign]], int]:
    where, params = ["p.project_id = ?"], [project_id]
    if f.campaign is not None:
        campaign = find_campaign(conn, project_id, f.campaign)
        where.append("p.campaign_id = ?")
        params.append("" if campaign is None else campaign.id)
    if f.customer is not None:
        where.append("(cu.id = ? OR cu.source_id = ?)")
        params += [f.customer, f.customer]
    if f.voucher is not None:
        where.append(
            "p.id IN (SELECT pv.publication_id FROM publication_vouchers pv JOIN vouchers v"
            " ON v.id = pv.voucher_id WHERE v.project_id = ? AND v.code = ?)"
        )
        params += [project_id, f.voucher]
    if f.result == "FAILURE":
        where.append("0")
    if f.voucher_type is not None:
        where.append(
            "c.campaign_type = ?" if f.voucher_type == "loyalty" else "c.campaign_type != ?"
        )
        params.append("LOYALTY_PROGRAM")
    if f.is_referral_code is not None:
        where.append("c.campaign_type = ?" if f.is_referral_code else "c.campaign_type != ?")
        params.append("REFERRAL_PROGRAM")
    if f.source_id is not None:
        where.append("p.source_id = ?")
        params.append(f.source_id)
    clause = " AND ".join(where)
    base = (
        "FROM publications p JOIN campaigns c ON c.id = p.campaign_id"
        f" JOIN customers cu ON cu.id = p.customer_id WHERE {clause}"
    )
    total = conn.execute(f"SELECT COUNT(*) {base}", params).fetchone()[0]
    found = conn.execute(
        f"SELECT p.* {base} ORDER BY {_PUBLICATION_ORDERS[f.order]} LIMIT ? OFFSET ?",
        (*params, page.limit, page.offset),
    ).fetchall()
    out = []
    for r in found:
        publication = _publication(conn, r)
        customer = rows.customer(
            conn.execute("SELECT * FROM customers WHERE id = ?", (r["customer_id"],)).fetchone()
        )
        out.append((publication, customer, require_campaign(conn, project_id, r["campaign_id"])))
    return out, int(total)


# --- promotion tiers ---------------------------------------------------------------------------


def insert_tier(conn: Conn, tier: PromotionTier) -> PromotionTier:
    hierarchy = tier.hierarchy
    if hierarchy <= 0:
        top = conn.execute(
            "SELECT MAX(hierarchy) FROM promotion_tiers WHERE campaign_id = ?", (tier.campaign_id,)
        ).fetchone()[0]
        hierarchy = int(top or 0) + 1
    conn.execute(
        "INSERT INTO promotion_tiers (id, project_id, campaign_id, name, banner, action, metadata,"
        " hierarchy, active, start_date, expiration_date, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            tier.id,
            tier.project_id,
            tier.campaign_id,
            tier.name,
            tier.banner,
            rows.json_or_null(tier.action),
            rows.to_json(tier.metadata),
            hierarchy,
            int(tier.active),
            tier.start_date,
            tier.expiration_date,
            tier.created_at,
        ),
    )
    return require_tier(conn, tier.project_id, tier.id)


def promotion_campaign(conn: Conn, project_id: str, ref: str) -> Campaign:
    campaign = require_campaign(conn, project_id, ref)
    if campaign.campaign_type != "PROMOTION":
        raise InvalidInput(
            f"Campaign '{campaign.name}' is a {campaign.campaign_type} campaign; promotion tiers"
            " belong to PROMOTION campaigns",
            key="invalid_campaign_type",
            message="Invalid campaign type",
            resource_id=campaign.id,
            resource_type="campaign",
        )
    return campaign


def list_tiers(
    conn: Conn, project_id: str, campaign: str | None, page: Page
) -> tuple[list[PromotionTier], int]:
    campaign_id = None if campaign is None else promotion_campaign(conn, project_id, campaign).id
    filters = {"project_id": project_id, "campaign_id": campaign_id}
    found, total = _paged(conn, "promotion_tiers", filters, "campaign_id, hierarchy, id", page)
    return [prow.promotion_tier(r) for r in found], total


def replace_tier(conn: Conn, tier: PromotionTier) -> PromotionTier:
    require_tier(conn, tier.project_id, tier.id)
    conn.execute(
        "UPDATE promotion_tiers SET name = ?, banner = ?, action = ?, metadata = ?, hierarchy = ?,"
        " active = ?, start_date = ?, expiration_date = ?, updated_at = ? WHERE id = ?",
        (
            tier.name,
            tier.banner,
            rows.json_or_null(tier.action),
            rows.to_json(tier.metadata),
            tier.hierarchy,
            int(tier.active),
            tier.start_date,
            tier.expiration_date,
            tier.updated_at,
            tier.id,
        ),
    )
    return require_tier(conn, tier.project_id, tier.id)


def delete_tier(conn: Conn, project_id: str, tier_id: str) -> None:
    tier = require_tier(conn, project_id, tier_id)
    used = _in_use(conn, project_id, "promotion_tier_id", tier.id)
    if used is not None:
        raise refusals.in_use(f"Promotion tier {tier.id}", "promotion_tier", tier.id, used)
    conn.execute("DELETE FROM promotion_tiers WHERE id = ?", (tier.id,))


# --- loyalty -----------------------------------------------------------------------------------


def loyalty_campaign(conn: Conn, project_id: str, ref: str) -> Campaign:
    campaign = require_campaign(conn, project_id, ref)
    if campaign.campaign_type != "LOYALTY_PROGRAM":
        raise InvalidInput(
            f"Campaign '{campaign.name}' is a {campaign.campaign_type} campaign, not a"
            " LOYALTY_PROGRAM",
            key="invalid_campaign_type",
            message="Invalid campaign type",
            resource_id=campaign.id,
            resource_type="campaign",
        )
    return campaign


def _rule_event(conn: Conn, project_id: str, raw: dict[str, Any], index: int) -> Any:
    schema_id = (raw.get("custom_event") or {}).get("schema_id")
    event = raw.get("event")
    if schema_id is not None:
        row = conn.execute(
            "SELECT * FROM event_schemas WHERE project_id = ? AND id = ?", (project_id, schema_id)
        ).fetchone()
    else:
        row = conn.execute(
            "SELECT * FROM event_schemas WHERE project_id = ? AND name = ?", (project_id, event)
        ).fetchone()
    if row is None or (event is not None and schema_id is not None and row["name"] != event):
        raise InvalidInput(
            f"[{index}]: event must name a custom event schema of this project (and"
            f" custom_event.schema_id, when given, must be its id); got event={event!r},"
            f" schema_id={schema_id!r}",
            key="invalid_earning_rule",
            message="Invalid earning rule",
        )
    return row


def create_earning_rules(
    conn: Conn, project_id: str, ref: str, raws: Sequence[dict[str, Any]], now: str
) -> list[EarningRule]:
    campaign = loyalty_campaign(conn, project_id, ref)
    created = []
    for index, raw in enumerate(raws):
        schema = rows.event_schema(_rule_event(conn, project_id, raw, index))
        rule = new_earning_rule(project_id, campaign.id, schema, raw, now)
        conn.execute(
            "INSERT INTO earning_rules (id, project_id, campaign_id, event, schema_id, loyalty,"
            " active, metadata, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            prow.earning_rule_values(rule),
        )
        created.append(rule)
    return created


def list_earning_rules(
    conn: Conn, project_id: str, ref: str, page: Page
) -> tuple[list[EarningRule], int]:
    campaign = loyalty_campaign(conn, project_id, ref)
    filters = {"campaign_id": campaign.id}
    found, total = _paged(conn, "earning_rules", filters, "created_at, id", page)
    return [prow.earning_rule(r) for r in found], total


def require_earning_rule(conn: Conn, project_id: str, ref: str, rule_id: str) -> EarningRule:
    campaign = loyalty_campaign(conn, project_id, ref)
    row = conn.execute(
        "SELECT * FROM earning_rules WHERE campaign_id = ? AND id = ?", (campaign.id, rule_id)
    ).fetchone()
    if row is None:
        raise NotFound("earning_rule", rule_id)
    return prow.earning_rule(row)


def delete_earning_rule(conn: Conn, project_id: str, ref: str, rule_id: str) -> None:
    rule = require_earning_rule(conn, project_id, ref, rule_id)
    conn.execute("DELETE FROM earning_rules WHERE id = ?", (rule.id,))


def list_transactions(
    conn: Conn, project_id: str, code: str, page: Page
) -> tuple[list[LoyaltyTransaction], int]:
    voucher, _ = require_voucher(conn, project_id, code)
    filters = {"voucher_id": voucher.id}
    found, total = _paged(
        conn, "loyalty_transactions", filters, "created_at DESC, rowid DESC", page
    )
    return [prow.transaction(r) for r in found], total


# --- referral conversions and distribution outcomes --------------------------------------------


def list_conversions(
    conn: Conn, project_id: str, page: Page, campaign: str | None, referrer_id: str | None
) -> tuple[list[ReferralConversion], int]:
    campaign_id = None if campaign is None else require_campaign(conn, project_id, campaign).id
    filters = {"project_id": project_id, "campaign_id": campaign_id, "referrer_id": referrer_id}
    found, total = _paged(conn, "referral_conversions", filters, "created_at DESC, id DESC", page)
    return [prow.conversion(r) for r in found], total


def list_outcomes(
    conn: Conn, project_id: str, page: Page, distribution_id: str | None, result: str | None
) -> tuple[list[PromotionOutcome], int]:
    filters = {"project_id": project_id, "distribution_id": distribution_id, "result": result}
    found, total = _paged(conn, "distribution_outcomes", filters, "created_at DESC, id DESC", page)
    return [prow.outcome(r) for r in found], total
