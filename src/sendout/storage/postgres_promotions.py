"""PostgreSQL transaction bodies for campaigns, codes, publications, tiers, loyalty and referral.

The same verbs, errors and orderings as :mod:`sendout.storage.sqlite_promotions`; every function
takes the connection of a transaction :class:`~sendout.storage.postgres.PostgresStorage` opened.
:class:`PgPromotionTx` is that connection seen through the
:class:`~sendout.promotions.tx.PromotionTx` protocol by the pure stages.

SQLite has one writer; here transactions really overlap, so:

- unpublished codes are claimed with ``FOR UPDATE SKIP LOCKED`` (contenders take other codes),
  and the claim is retried while a pass lost some rows to a concurrent commit;
- look-ups whose absence leads to an insert under a unique constraint (a publication's
  ``source_id``, a ``join_once`` publication, a referee's conversion, an idempotency key) first
  take a transaction-level advisory lock on that key, so the second of two racing transactions
  waits for the first and then finds its row, as it would on SQLite;
- inserts that may collide (generated codes, campaign names, added codes) use ``ON CONFLICT``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import asyncpg

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
from sendout.records import Customer, EventSchema, Page
from sendout.storage import postgres_keys as keys
from sendout.storage import promotion_rows as prow
from sendout.storage import refusals, rows
from sendout.storage.base import PublicationFilter

__all__ = ["PgPromotionTx"]

Record = asyncpg.Record
if TYPE_CHECKING:
    from asyncpg.pool import PoolConnectionProxy

    Conn = PoolConnectionProxy[Record]

_BATCH = 50_000
_ENUMERATE_UP_TO = 2_000_000
# PostgreSQL sorts NULL last ascending; SQLite first. source_id is the only nullable sort key.
_PUBLICATION_ORDERS = {
    "id": "p.id ASC",
    "-id": "p.id DESC",
    "created_at": "p.created_at ASC, p.id ASC",
    "-created_at": "p.created_at DESC, p.id DESC",
    "customer_id": "p.customer_id ASC",
    "-customer_id": "p.customer_id DESC",
    "channel": "p.channel ASC",
    "-channel": "p.channel DESC",
    "tracking_id": "cu.source_id ASC NULLS FIRST",
    "-tracking_id": "cu.source_id DESC NULLS LAST",
}


class _Where:
    """``AND``-ed conditions whose ``?`` placeholders become ``$n`` in the order added."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.params: list[Any] = []

    def add(self, condition: str, *values: Any) -> _Where:
        for value in values:
            self.params.append(value)
            condition = condition.replace("?", f"${len(self.params)}", 1)
        self.parts.append(condition)
        return self

    @property
    def sql(self) -> str:
        return " AND ".join(self.parts)

    def next(self, k: int = 1) -> str:
        """The placeholder of the ``k``-th parameter after these (for LIMIT / OFFSET)."""
        return f"${len(self.params) + k}"


async def _paged(
    conn: Conn, table: str, where: _Where, order_by: str, page: Page
) -> tuple[list[Record], int]:
    """One page of ``table``'s rows matching ``where``, and how many match in all."""
    total = await conn.fetchval(f"SELECT COUNT(*) FROM {table} WHERE {where.sql}", *where.params)
    found = await conn.fetch(
        f"SELECT * FROM {table} WHERE {where.sql} ORDER BY {order_by}"
        f" LIMIT {where.next(1)} OFFSET {where.next(2)}",
        *where.params,
        page.limit,
        page.offset,
    )
    return found, int(total)


def _added(status: str) -> int:
    """The row count of an ``INSERT 0 n`` / ``UPDATE n`` status."""
    return int(status.rsplit(" ", 1)[-1])


# --- lookups -----------------------------------------------------------------------------------


async def find_campaign(
    conn: Conn, project_id: str, ref: str, lock: bool = False
) -> Campaign | None:
    row = await conn.fetchrow(
        "SELECT * FROM campaigns WHERE project_id = $1 AND (id = $2 OR name = $2)"
        " ORDER BY (id = $2) DESC LIMIT 1" + (" FOR UPDATE" if lock else ""),
        project_id,
        ref,
    )
    return None if row is None else prow.campaign(row)


async def require_campaign(conn: Conn, project_id: str, ref: str, lock: bool = False) -> Campaign:
    found = await find_campaign(conn, project_id, ref, lock)
    if found is None:
        raise NotFound("campaign", ref)
    return found


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


async def find_tier(conn: Conn, project_id: str, tier_id: str) -> PromotionTier | None:
    row = await conn.fetchrow(
        "SELECT * FROM promotion_tiers WHERE project_id = $1 AND id = $2", project_id, tier_id
    )
    return None if row is None else prow.promotion_tier(row)


async def require_tier(conn: Conn, project_id: str, tier_id: str) -> PromotionTier:
    found = await find_tier(conn, project_id, tier_id)
    if found is None:
        raise NotFound("promotion_tier", tier_id)
    return found


async def _publications(conn: Conn, found: Sequence[Record]) -> list[Publication]:
    """Publications with their codes (in the order they were handed out), in one query."""
    codes: dict[str, list[Voucher]] = {r["id"]: [] for r in found}
    if codes:
        for v in await conn.fetch(
            "SELECT pv.publication_id AS publication_id_, v.* FROM publication_vouchers pv"
            " JOIN vouchers v ON v.id = pv.voucher_id WHERE pv.publication_id = ANY($1::text[])"
            " ORDER BY pv.publication_id, pv.position",
            list(codes),
        ):
            codes[v["publication_id_"]].append(prow.voucher(v))
    return [
        Publication(
            id=r["id"],
            project_id=r["project_id"],
            campaign_id=r["campaign_id"],
            customer_id=r["customer_id"],
            vouchers=tuple(codes[r["id"]]),
            source_id=r["source_id"],
            channel=r["channel"],
            metadata=rows.from_json(r["metadata"]) or {},
            created_at=r["created_at"],
        )
        for r in found
    ]


async def _publication(conn: Conn, row: Record | None) -> Publication | None:
    return None if row is None else (await _publications(conn, [row]))[0]


async def _in_use(conn: Conn, project_id: str, key: str, value: str) -> str | None:
    used = await conn.fetchval(
        "SELECT id FROM distributions WHERE project_id = $1 AND (action::json ->> $2) = $3 LIMIT 1",
        project_id,
        key,
        value,
    )
    return None if used is None else str(used)


async def _campaigns(conn: Conn, ids: set[str]) -> dict[str, Campaign]:
    found = await conn.fetch("SELECT * FROM campaigns WHERE id = ANY($1::text[])", list(ids))
    return {r["id"]: prow.campaign(r) for r in found}


# --- codes -------------------------------------------------------------------------------------


async def _taken_codes(conn: Conn, project_id: str, config: CodeConfig) -> set[str]:
    """Codes that could collide, loaded only when the code space is small enough to matter."""
    if config.capacity > _ENUMERATE_UP_TO:
        return set()
    size = len(config.prefix) + len(config.postfix) + len(config.pattern or "#" * config.length)
    found = await conn.fetch(
        "SELECT code FROM vouchers WHERE project_id = $1 AND length(code) = $2", project_id, size
    )
    return {r["code"] for r in found}


def _initial_points(campaign: Campaign) -> int:
    return int(((campaign.voucher or {}).get("loyalty_card") or {}).get("points", 0))


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
    points = _initial_points(campaign)
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
            _initial_points(campaign),
            now,
        )
        added += _added(status)
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
    config = config or code_config((campaign.voucher or {}).get("code_config"))
    if campaign.vouchers_count + count > config.capacity:
        raise _invalid_code_config(
            f"code_config yields at most {config.capacity} distinct codes"
            f" ({len(config.charset)} characters ^ {config.length}); the campaign has"
            f" {campaign.vouchers_count} and {count} more were requested"
        )
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
        _initial_points(campaign),
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
    campaign = await require_campaign(conn, project_id, ref, lock)
    if not campaign.has_codes:
        raise InvalidInput(
            f"Campaign '{campaign.name}' is a {campaign.campaign_type} campaign: it has no codes",
            key="invalid_campaign_type",
            message="Invalid campaign type",
            resource_id=campaign.id,
            resource_type="campaign",
        )
    return campaign


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


# --- the in-transaction verbs ------------------------------------------------------------------

# Not "WHERE id IN (SELECT … LIMIT n FOR UPDATE SKIP LOCKED)": the planner may run that subquery
# again for every outer row (a semi join), each run locking and returning other rows, so one
# UPDATE could claim more than n codes. A MATERIALIZED CTE runs exactly once.
_CLAIM_UNPUBLISHED = """
WITH free AS MATERIALIZED (
    SELECT id FROM vouchers WHERE campaign_id = $3 AND holder_id IS NULL AND active
    ORDER BY seq LIMIT $4 FOR UPDATE SKIP LOCKED
)
UPDATE vouchers v SET holder_id = $1, updated_at = $2 FROM free
WHERE v.id = free.id AND v.holder_id IS NULL
RETURNING v.*
"""


class PgPromotionTx:
    """:class:`~sendout.promotions.tx.PromotionTx` over one open PostgreSQL transaction."""

    def __init__(self, conn: Conn, project_id: str, now: str) -> None:
        self._conn = conn
        self._project_id = project_id
        self._now = now

    @property
    def now(self) -> str:
        return self._now

    async def campaign(self, id_or_name: str) -> Campaign | None:
        return await find_campaign(self._conn, self._project_id, id_or_name)

    async def voucher(self, code: str) -> Voucher | None:
        return await find_voucher(self._conn, self._project_id, code)

    async def customer(self, customer_id: str) -> Customer | None:
        row = await self._conn.fetchrow(
            "SELECT * FROM customers WHERE project_id = $1 AND id = $2",
            self._project_id,
            customer_id,
        )
        return None if row is None else rows.customer(row)

    async def promotion_tier(self, tier_id: str) -> PromotionTier | None:
        return await find_tier(self._conn, self._project_id, tier_id)

    async def publication_of(self, campaign_id: str, customer_id: str) -> Publication | None:
        # join_once: a racing publish for the same customer and campaign waits, then finds ours.
        await keys.serialize(self._conn, "join_once", campaign_id, customer_id)
        row = await self._conn.fetchrow(
            "SELECT * FROM publications WHERE project_id = $1 AND customer_id = $2"
            " AND campaign_id = $3 ORDER BY created_at, id LIMIT 1",
            self._project_id,
            customer_id,
            campaign_id,
        )
        return await _publication(self._conn, row)

    async def publication_by_source_id(self, source_id: str) -> Publication | None:
        await keys.serialize(self._conn, "publication", self._project_id, source_id)
        row = await self._conn.fetchrow(
            "SELECT * FROM publications WHERE project_id = $1 AND source_id = $2",
            self._project_id,
            source_id,
        )
        return await _publication(self._conn, row)

    async def claim_unpublished(
        self, campaign: Campaign, holder_id: str, count: int
    ) -> list[Voucher]:
        claimed: list[Voucher] = []
        while len(claimed) < count:
            # A row another transaction claimed after our snapshot is dropped on re-check, so a
            # pass may come back short while free codes remain: ask again for the rest.
            found = await self._conn.fetch(
                _CLAIM_UNPUBLISHED, holder_id, self._now, campaign.id, count - len(claimed)
            )
            if not found:
                break
            claimed += [prow.voucher(r) for r in sorted(found, key=lambda r: r["seq"])]
        return claimed

    async def claim_voucher(self, voucher_id: str, holder_id: str) -> Voucher | None:
        row = await self._conn.fetchrow(
            "UPDATE vouchers SET holder_id = $1, updated_at = $2 WHERE id = $3"
            " AND holder_id IS NULL RETURNING *",
            holder_id,
            self._now,
            voucher_id,
        )
        return None if row is None else prow.voucher(row)

    async def generate(self, campaign: Campaign, count: int) -> int:
        # Locked: generators of one campaign take turns, each seeing the count before it.
        current = await require_campaign(self._conn, self._project_id, campaign.id, lock=True)
        return await generate_vouchers(self._conn, current, count, self._now)

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
        await self._conn.execute(
            "WITH p AS (INSERT INTO publications (id, project_id, campaign_id, customer_id,"
            " source_id, channel, metadata, distribution_id, event_id, created_at)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10))"
            " INSERT INTO publication_vouchers (publication_id, voucher_id, position)"
            " SELECT $1, v.id, v.position - 1"
            " FROM unnest($11::text[]) WITH ORDINALITY AS v (id, position)",
            *prow.publication_values(publication, distribution_id, event_id),
            [v.id for v in vouchers],
        )
        return publication

    async def earning_rules(self, campaign_id: str, event_name: str) -> list[EarningRule]:
        found = await self._conn.fetch(
            "SELECT * FROM earning_rules WHERE campaign_id = $1 AND event = $2 AND active"
            " ORDER BY created_at, id",
            campaign_id,
            event_name,
        )
        return [prow.earning_rule(r) for r in found]

    async def credit_points(
        self, voucher: Voucher, rule: EarningRule, points: int, event_id: str
    ) -> Voucher:
        row = await self._conn.fetchrow(
            "UPDATE vouchers SET points = points + $1, balance = balance + $1, updated_at = $2"
            " WHERE id = $3 RETURNING *",
            points,
            self._now,
            voucher.id,
        )
        assert row is not None, "the card exists: the caller just read it"
        card = prow.voucher(row)
        await self._conn.execute(
            "INSERT INTO loyalty_transactions (id, project_id, voucher_id, campaign_id,"
            " earning_rule_id, event_id, points, balance, created_at)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            pids.transaction_id(),
            self._project_id,
            card.id,
            card.campaign_id,
            rule.id,
            event_id,
            points,
            card.balance,
            self._now,
        )
        return card

    async def referral_conversion(
        self, campaign_id: str, referee_id: str
    ) -> ReferralConversion | None:
        # A referee's racing events take turns: the second finds the first's conversion.
        await keys.serialize(self._conn, "referral", campaign_id, referee_id)
        row = await self._conn.fetchrow(
            "SELECT * FROM referral_conversions WHERE campaign_id = $1 AND referee_id = $2",
            campaign_id,
            referee_id,
        )
        return None if row is None else prow.conversion(row)

    async def record_conversion(
        self, campaign: Campaign, voucher: Voucher, referee_id: str, event_id: str
    ) -> ReferralConversion:
        conversion = new_conversion(campaign.id, voucher, referee_id, event_id, self._now)
        await self._conn.execute(
            "INSERT INTO referral_conversions (id, project_id, campaign_id, voucher_id, code,"
            " referrer_id, referee_id, event_id, created_at)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            *prow.conversion_values(conversion, self._project_id),
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
        await self._conn.execute(
            "INSERT INTO distribution_outcomes (id, project_id, distribution_id, event_id,"
            " customer_id, campaign_id, result, details, created_at)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            pids.outcome_id(),
            self._project_id,
            distribution_id,
            event_id,
            customer_id,
            campaign_id,
            result,
            details,
            self._now,
        )


# --- campaigns -----------------------------------------------------------------------------------


async def _check_reward(conn: Conn, campaign: Campaign) -> None:
    parent = (
        ((campaign.referral_program or {}).get("referee_reward") or {}).get("related_object_parent")
        or {}
    ).get("id")
    if parent is None:
        return
    reward = await find_campaign(conn, campaign.project_id, parent)
    if reward is None or reward.campaign_type != "DISCOUNT_COUPONS":
        raise InvalidInput(
            "referral_program.referee_reward.related_object_parent.id must name a"
            f" DISCOUNT_COUPONS campaign of this project, got {parent!r}",
            key="invalid_referee_reward",
            message="Invalid referee reward",
        )


async def create_campaign(
    conn: Conn, campaign: Campaign, tiers: Sequence[PromotionTier], count: int
) -> Campaign:
    await _check_reward(conn, campaign)
    c = campaign
    inserted = await conn.fetchval(
        "INSERT INTO campaigns (id, project_id, name, campaign_type, type, description,"
        " join_once, auto_join, active, voucher, referral_program, metadata, start_date,"
        " expiration_date, created_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
        " ON CONFLICT DO NOTHING RETURNING id",
        c.id,
        c.project_id,
        c.name,
        c.campaign_type,
        c.type,
        c.description,
        c.join_once,
        c.auto_join,
        c.active,
        rows.json_or_null(c.voucher),
        rows.json_or_null(c.referral_program),
        rows.to_json(c.metadata),
        c.start_date,
        c.expiration_date,
        c.created_at,
    )
    if inserted is None:
        raise Conflict(
            f"A campaign named '{c.name}' already exists",
            resource_id=c.name,
            resource_type="campaign",
        )
    for tier in tiers:
        await insert_tier(conn, tier)
    if count:
        await generate_vouchers(conn, c, count, c.created_at)
    return await require_campaign(conn, c.project_id, c.id)


async def replace_campaign(conn: Conn, campaign: Campaign) -> Campaign:
    await _check_reward(conn, campaign)
    c = campaign
    await conn.execute(
        "UPDATE campaigns SET type = $1, description = $2, join_once = $3, auto_join = $4,"
        " active = $5, voucher = $6, referral_program = $7, metadata = $8, start_date = $9,"
        " expiration_date = $10, updated_at = $11 WHERE id = $12",
        c.type,
        c.description,
        c.join_once,
        c.auto_join,
        c.active,
        rows.json_or_null(c.voucher),
        rows.json_or_null(c.referral_program),
        rows.to_json(c.metadata),
        c.start_date,
        c.expiration_date,
        c.updated_at,
        c.id,
    )
    return await require_campaign(conn, c.project_id, c.id)


async def delete_campaign(conn: Conn, project_id: str, ref: str) -> None:
    campaign = await require_campaign(conn, project_id, ref, lock=True)
    used = await _in_use(conn, project_id, "campaign_id", campaign.id)
    if used is not None:
        raise refusals.in_use(f"Campaign '{campaign.name}'", "campaign", campaign.id, used)
    await conn.execute("DELETE FROM campaigns WHERE id = $1", campaign.id)


async def list_campaigns(
    conn: Conn, project_id: str, page: Page, campaign_type: str | None
) -> tuple[list[Campaign], int]:
    where = _Where().add("project_id = ?", project_id)
    if campaign_type is not None:
        where.add("campaign_type = ?", campaign_type)
    found, total = await _paged(conn, "campaigns", where, "created_at DESC, id DESC", page)
    return [prow.campaign(r) for r in found], total


# --- vouchers ----------------------------------------------------------------------------------


async def list_vouchers(
    conn: Conn, project_id: str, page: Page, campaign: str | None, holder_id: str | None
) -> tuple[list[tuple[Voucher, Campaign]], int]:
    where = _Where().add("project_id = ?", project_id)
    if campaign is not None:
        where.add("campaign_id = ?", (await require_campaign(conn, project_id, campaign)).id)
    if holder_id is not None:
        where.add("holder_id = ?", holder_id)
    found, total = await _paged(conn, "vouchers", where, "seq", page)
    vouchers = [prow.voucher(r) for r in found]
    campaigns = await _campaigns(conn, {v.campaign_id for v in vouchers})
    return [(v, campaigns[v.campaign_id]) for v in vouchers], total


# --- publications ------------------------------------------------------------------------------


def _publication_filter(project_id: str, f: PublicationFilter, campaign_id: str | None) -> _Where:
    where = _Where().add("p.project_id = ?", project_id)
    if f.campaign is not None:
        where.add("p.campaign_id = ?", campaign_id or "")
    if f.customer is not None:
        where.add("(cu.id = ? OR cu.source_id = ?)", f.customer, f.customer)
    if f.voucher is not None:
        where.add(
            "p.id IN (SELECT pv.publication_id FROM publication_vouchers pv JOIN vouchers v"
            " ON v.id = pv.voucher_id WHERE v.project_id = ? AND v.code = ?)",
            project_id,
            f.voucher,
        )
    if f.result == "FAILURE":
        where.add("false")
    if f.voucher_type is not None:
        where.add(
            "c.campaign_type = ?" if f.voucher_type == "loyalty" else "c.campaign_type != ?",
            "LOYALTY_PROGRAM",
        )
    if f.is_referral_code is not None:
        where.add(
            "c.campaign_type = ?" if f.is_referral_code else "c.campaign_type != ?",
            "REFERRAL_PROGRAM",
        )
    if f.source_id is not None:
        where.add("p.source_id = ?", f.source_id)
    return where


async def list_publications(
    conn: Conn, project_id: str, page: Page, f: PublicationFilter
) -> tuple[list[tuple[Publication, Customer, Campaign]], int]:
    campaign = None if f.campaign is None else await find_campaign(conn, project_id, f.campaign)
    where = _publication_filter(project_id, f, None if campaign is None else campaign.id)
    base = (
        "FROM publications p JOIN campaigns c ON c.id = p.campaign_id"
        f" JOIN customers cu ON cu.id = p.customer_id WHERE {where.sql}"
    )
    total = await conn.fetchval(f"SELECT COUNT(*) {base}", *where.params)
    found = await conn.fetch(
        f"SELECT p.* {base} ORDER BY {_PUBLICATION_ORDERS[f.order]}"
        f" LIMIT {where.next(1)} OFFSET {where.next(2)}",
        *where.params,
        page.limit,
        page.offset,
    )
    publications = await _publications(conn, found)
    customers = {
        r["id"]: rows.customer(r)
        for r in await conn.fetch(
            "SELECT * FROM customers WHERE id = ANY($1::text[])",
            list({p.customer_id for p in publications}),
        )
    }
    campaigns = await _campaigns(conn, {p.campaign_id for p in publications})
    out = [(p, customers[p.customer_id], campaigns[p.campaign_id]) for p in publications]
    return out, int(total)


# --- promotion tiers ---------------------------------------------------------------------------


async def insert_tier(conn: Conn, tier: PromotionTier) -> PromotionTier:
    hierarchy = tier.hierarchy
    if hierarchy <= 0:
        top = await conn.fetchval(
            "SELECT MAX(hierarchy) FROM promotion_tiers WHERE campaign_id = $1", tier.campaign_id
        )
        hierarchy = int(top or 0) + 1
    row = await conn.fetchrow(
        "INSERT INTO promotion_tiers (id, project_id, campaign_id, name, banner, action, metadata,"
        " hierarchy, active, start_date, expiration_date, created_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING *",
        tier.id,
        tier.project_id,
        tier.campaign_id,
        tier.name,
        tier.banner,
        rows.json_or_null(tier.action),
        rows.to_json(tier.metadata),
        hierarchy,
        tier.active,
        tier.start_date,
        tier.expiration_date,
        tier.created_at,
    )
    assert row is not None
    return prow.promotion_tier(row)


async def promotion_campaign(conn: Conn, project_id: str, ref: str) -> Campaign:
    campaign = await require_campaign(conn, project_id, ref)
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


async def create_tier(conn: Conn, tier: PromotionTier) -> PromotionTier:
    # Locked: tiers added at once to one campaign get distinct hierarchies, as on SQLite.
    await require_campaign(conn, tier.project_id, tier.campaign_id, lock=True)
    await promotion_campaign(conn, tier.project_id, tier.campaign_id)
    return await insert_tier(conn, tier)


async def list_tiers(
    conn: Conn, project_id: str, campaign: str | None, page: Page
) -> tuple[list[PromotionTier], int]:
    where = _Where().add("project_id = ?", project_id)
    if campaign is not None:
        where.add("campaign_id = ?", (await promotion_campaign(conn, project_id, campaign)).id)
    found, total = await _paged(conn, "promotion_tiers", where, "campaign_id, hierarchy, id", page)
    return [prow.promotion_tier(r) for r in found], total


async def replace_tier(conn: Conn, tier: PromotionTier) -> PromotionTier:
    row = await conn.fetchrow(
        "UPDATE promotion_tiers SET name = $1, banner = $2, action = $3, metadata = $4,"
        " hierarchy = $5, active = $6, start_date = $7, expiration_date = $8, updated_at = $9"
        " WHERE project_id = $10 AND id = $11 RETURNING *",
        tier.name,
        tier.banner,
        rows.json_or_null(tier.action),
        rows.to_json(tier.metadata),
        tier.hierarchy,
        tier.active,
        tier.start_date,
        tier.expiration_date,
        tier.updated_at,
        tier.project_id,
        tier.id,
    )
    if row is None:
        raise NotFound("promotion_tier", tier.id)
    return prow.promotion_tier(row)


async def delete_tier(conn: Conn, project_id: str, tier_id: str) -> None:
    tier = await require_tier(conn, project_id, tier_id)
    used = await _in_use(conn, project_id, "promotion_tier_id", tier.id)
    if used is not None:
        raise refusals.in_use(f"Promotion tier {tier.id}", "promotion_tier", tier.id, used)
    await conn.execute("DELETE FROM promotion_tiers WHERE id = $1", tier.id)


# --- loyalty -----------------------------------------------------------------------------------


async def loyalty_campaign(conn: Conn, project_id: str, ref: str) -> Campaign:
    campaign = await require_campaign(conn, project_id, ref)
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


async def _rule_event(conn: Conn, project_id: str, raw: dict[str, Any], index: int) -> EventSchema:
    schema_id = (raw.get("custom_event") or {}).get("schema_id")
    event = raw.get("event")
    column, value = ("id", schema_id) if schema_id is not None else ("name", event)
    row = await conn.fetchrow(
        f"SELECT * FROM event_schemas WHERE project_id = $1 AND {column} = $2",
        project_id,
        value if isinstance(value, str) else None,
    )
    if row is None or (event is not None and schema_id is not None and row["name"] != event):
        raise InvalidInput(
            f"[{index}]: event must name a custom event schema of this project (and"
            f" custom_event.schema_id, when given, must be its id); got event={event!r},"
            f" schema_id={schema_id!r}",
            key="invalid_earning_rule",
            message="Invalid earning rule",
        )
    return rows.event_schema(row)


async def create_earning_rules(
    conn: Conn, project_id: str, ref: str, raws: Sequence[dict[str, Any]], now: str
) -> list[EarningRule]:
    campaign = await loyalty_campaign(conn, project_id, ref)
    created = []
    for index, raw in enumerate(raws):
        schema = await _rule_event(conn, project_id, raw, index)
        rule = new_earning_rule(project_id, campaign.id, schema, raw, now)
        await conn.execute(
            "INSERT INTO earning_rules (id, project_id, campaign_id, event, schema_id, loyalty,"
            " active, metadata, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            *prow.earning_rule_values(rule),
        )
        created.append(rule)
    return created


async def list_earning_rules(
    conn: Conn, project_id: str, ref: str, page: Page
) -> tuple[list[EarningRule], int]:
    campaign = await loyalty_campaign(conn, project_id, ref)
    where = _Where().add("campaign_id = ?", campaign.id)
    found, total = await _paged(conn, "earning_rules", where, "created_at, id", page)
    return [prow.earning_rule(r) for r in found], total


async def require_earning_rule(conn: Conn, project_id: str, ref: str, rule_id: str) -> EarningRule:
    campaign = await loyalty_campaign(conn, project_id, ref)
    row = await conn.fetchrow(
        "SELECT * FROM earning_rules WHERE campaign_id = $1 AND id = $2", campaign.id, rule_id
    )
    if row is None:
        raise NotFound("earning_rule", rule_id)
    return prow.earning_rule(row)


async def delete_earning_rule(conn: Conn, project_id: str, ref: str, rule_id: str) -> None:
    rule = await require_earning_rule(conn, project_id, ref, rule_id)
    await conn.execute("DELETE FROM earning_rules WHERE id = $1", rule.id)


async def list_transactions(
    conn: Conn, project_id: str, code: str, page: Page
) -> tuple[list[LoyaltyTransaction], int]:
    voucher, _ = await require_voucher(conn, project_id, code)
    where = _Where().add("voucher_id = ?", voucher.id)
    found, total = await _paged(
        conn, "loyalty_transactions", where, "created_at DESC, seq DESC", page
    )
    return [prow.transaction(r) for r in found], total


# --- referral conversions and distribution outcomes --------------------------------------------


async def list_conversions(
    conn: Conn, project_id: str, page: Page, campaign: str | None, referrer_id: str | None
) -> tuple[list[ReferralConversion], int]:
    where = _Where().add("project_id = ?", project_id)
    if campaign is not None:
        where.add("campaign_id = ?", (await require_campaign(conn, project_id, campaign)).id)
    if referrer_id is not None:
        where.add("referrer_id = ?", referrer_id)
    found, total = await _paged(
        conn, "referral_conversions", where, "created_at DESC, id DESC", page
    )
    return [prow.conversion(r) for r in found], total


async def list_outcomes(
    conn: Conn, project_id: str, page: Page, distribution_id: str | None, result: str | None
) -> tuple[list[PromotionOutcome], int]:
    where = _Where().add("project_id = ?", project_id)
    if distribution_id is not None:
        where.add("distribution_id = ?", distribution_id)
    if result is not None:
        where.add("result = ?", result)
    found, total = await _paged(
        conn, "distribution_outcomes", where, "created_at DESC, id DESC", page
    )
    return [prow.outcome(r) for r in found], total
