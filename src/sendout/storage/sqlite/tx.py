"""The pipeline's write transaction on SQLite: :class:`~sendout.storage.tx.Tx` over one connection.

It runs on the writer thread, inside the group commit's savepoint: every verb is a plain
statement on the connection, so a coroutine calling them never suspends.
"""

from __future__ import annotations

from typing import Any

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
from sendout.storage.sqlite.batches import insert_events
from sendout.storage.sqlite.campaigns import find_campaign, require_campaign
from sendout.storage.sqlite.catalog import TriggerCache
from sendout.storage.sqlite.codes import find_voucher, generate_vouchers
from sendout.storage.sqlite.customers import upsert_customer
from sendout.storage.sqlite.keys import idempotent_replay, remember
from sendout.storage.sqlite.publications import publication_of_row
from sendout.storage.sqlite.queries import Conn
from sendout.storage.sqlite.tiers import find_tier
from sendout.storage.tx import Insertion, Trigger

__all__ = ["SqliteTx"]


class SqliteTx:
    """:class:`~sendout.storage.tx.Tx` over one open SQLite transaction."""

    def __init__(self, conn: Conn, project_id: str, now: str, triggers: TriggerCache) -> None:
        self._conn = conn
        self._project_id = project_id
        self._now = now
        self._triggers = triggers

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
        return None if row is None else publication_of_row(self._conn, row)

    async def publication_by_source_id(self, source_id: str) -> Publication | None:
        row = self._conn.execute(
            "SELECT * FROM publications WHERE project_id = ? AND source_id = ?",
            (self._project_id, source_id),
        ).fetchone()
        return None if row is None else publication_of_row(self._conn, row)

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

    async def idempotent_replay(self, key: IdempotencyKey) -> bytes | None:
        return idempotent_replay(self._conn, self._project_id, key)

    async def remember(self, key: IdempotencyKey, response: bytes, now_ms: int) -> None:
        remember(self._conn, self._project_id, key, response, now_ms)

    async def trigger(self, event_name: str) -> Trigger | None:
        return self._triggers.trigger(self._conn, self._project_id, event_name)

    async def upsert_customer(self, ref: CustomerRef, fields: CustomerFields) -> Customer:
        return upsert_customer(self._conn, self._project_id, ref, fields, self._now)

    async def insert_event(self, insertion: Insertion) -> None:
        insert_events(self._conn, [insertion])

    async def entries(self, distribution_id: str, customer_id: str, since_ms: int | None) -> int:
        row = self._conn.execute(
            "SELECT COUNT(*) FROM distribution_entries WHERE distribution_id = ?"
            " AND customer_id = ? AND entered_ms >= ?",
            (distribution_id, customer_id, -1 if since_ms is None else since_ms),
        ).fetchone()
        return int(row[0])

    async def enter(
        self, distribution_id: str, customer_id: str, event_id: str, at_ms: int
    ) -> None:
        self._conn.execute(
            "INSERT INTO distribution_entries (distribution_id, customer_id, event_id, entered_ms)"
            " VALUES (?, ?, ?, ?)",
            (distribution_id, customer_id, event_id, at_ms),
        )
