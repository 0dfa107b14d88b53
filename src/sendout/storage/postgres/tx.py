"""The pipeline's write transaction on PostgreSQL: :class:`~sendout.storage.tx.Tx` over one
connection in an open READ COMMITTED transaction.

The customer row is locked by :func:`~sendout.storage.postgres.upsert_customer` until
commit, so two events of one customer take turns; an ``Idempotency-Key`` takes an advisory lock,
so a request sent twice at once waits for the first and replays its answer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sendout.promotions import ids as pids
from sendout.promotions.publishing import new_publication
from sendout.promotions.records import (
    Campaign,
    EarningRule,
    PromotionTier,
    Publication,
    ReferralConversion,
    Voucher,
)
from sendout.promotions.rewards import new_conversion
from sendout.records import Customer, CustomerFields
from sendout.storage import promotion_rows as prow
from sendout.storage import rows
from sendout.storage.base import CustomerRef, IdempotencyKey
from sendout.storage.postgres.batches import insert_events
from sendout.storage.postgres.campaigns import find_campaign, require_campaign
from sendout.storage.postgres.codes import find_voucher, generate_vouchers
from sendout.storage.postgres.customers import upsert_customer
from sendout.storage.postgres.keys import idempotent_replay, remember, serialize
from sendout.storage.postgres.publications import publication_of_row
from sendout.storage.postgres.tiers import find_tier
from sendout.storage.tx import Insertion, Trigger

if TYPE_CHECKING:
    from sendout.storage.postgres.queries import Conn


__all__ = ["PgTx"]

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


# The schema an event names and the active distributions it triggers, in one round trip. The
# distributions come as JSON objects (not a row-type array, whose decoding asyncpg caches per
# connection and a later migration could change under a running process).
_TRIGGER = """
SELECT s.*, (
    SELECT COALESCE(json_agg(d ORDER BY d.created_at, d.id), '[]')::text FROM distributions d
    WHERE d.project_id = s.project_id AND d.trigger_event = s.name AND d.status = 'ACTIVE'
) AS candidates
FROM event_schemas s WHERE s.project_id = $1 AND s.name = $2
"""


class PgTx:
    """:class:`~sendout.storage.tx.Tx` over one open PostgreSQL transaction."""

    def __init__(self, conn: Conn, project_id: str, now: str) -> None:
        self._conn = conn
        self._project_id = project_id
        self._now = now
        self.enqueued = 0  # deliveries stored: the workers are woken after commit

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
        await serialize(self._conn, "join_once", campaign_id, customer_id)
        row = await self._conn.fetchrow(
            "SELECT * FROM publications WHERE project_id = $1 AND customer_id = $2"
            " AND campaign_id = $3 ORDER BY created_at, id LIMIT 1",
            self._project_id,
            customer_id,
            campaign_id,
        )
        return await publication_of_row(self._conn, row)

    async def publication_by_source_id(self, source_id: str) -> Publication | None:
        await serialize(self._conn, "publication", self._project_id, source_id)
        row = await self._conn.fetchrow(
            "SELECT * FROM publications WHERE project_id = $1 AND source_id = $2",
            self._project_id,
            source_id,
        )
        return await publication_of_row(self._conn, row)

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
        await serialize(self._conn, "referral", campaign_id, referee_id)
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

    async def idempotent_replay(self, key: IdempotencyKey) -> bytes | None:
        return await idempotent_replay(self._conn, self._project_id, key)

    async def remember(self, key: IdempotencyKey, response: bytes, now_ms: int) -> None:
        await remember(self._conn, self._project_id, key, response, now_ms)

    async def trigger(self, event_name: str) -> Trigger | None:
        found = await self._conn.fetchrow(_TRIGGER, self._project_id, event_name)
        if found is None:
            return None
        candidates = [rows.distribution(d) for d in rows.from_json(found["candidates"])]
        return rows.event_schema(found), candidates

    async def upsert_customer(self, ref: CustomerRef, fields: CustomerFields) -> Customer:
        return await upsert_customer(self._conn, self._project_id, ref, fields, self._now)

    async def insert_event(self, insertion: Insertion) -> None:
        stored = await insert_events(self._conn, [insertion])
        assert stored == {insertion.event.id}, "the customer row is locked by this transaction"
        self.enqueued += len(insertion.deliveries)

    async def entries(self, distribution_id: str, customer_id: str, since_ms: int | None) -> int:
        found = await self._conn.fetchval(
            "SELECT COUNT(*) FROM distribution_entries WHERE distribution_id = $1"
            " AND customer_id = $2 AND entered_ms >= $3",
            distribution_id,
            customer_id,
            -1 if since_ms is None else since_ms,
        )
        return int(found)

    async def enter(
        self, distribution_id: str, customer_id: str, event_id: str, at_ms: int
    ) -> None:
        await self._conn.execute(
            "INSERT INTO distribution_entries (distribution_id, customer_id, event_id, entered_ms)"
            " VALUES ($1, $2, $3, $4)",
            distribution_id,
            customer_id,
            event_id,
            at_ms,
        )
