"""The promotion verbs of :class:`PostgresStorage`: each one a transaction over the modules
that store campaigns, codes, publications, tiers and loyalty."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sendout.errors import Conflict
from sendout.promotions.records import (
    Campaign,
    CodeCounts,
    CustomerStanding,
    EarningRule,
    LoyaltyTransaction,
    PromotionOutcome,
    PromotionTier,
    Publication,
    ReferralConversion,
    Voucher,
)
from sendout.records import Customer, Page
from sendout.storage import promotion_rows as prow
from sendout.storage.base import PublicationFilter
from sendout.storage.postgres.campaigns import (
    check_reward,
    delete_campaign,
    list_campaigns,
    replace_campaign,
    require_campaign,
)
from sendout.storage.postgres.codes import (
    add_code_to,
    generate_into,
    generate_vouchers,
    import_codes,
    list_vouchers,
    require_voucher,
)
from sendout.storage.postgres.connection import PostgresConnection
from sendout.storage.postgres.loyalty import (
    create_earning_rules,
    customer_standings,
    delete_earning_rule,
    list_conversions,
    list_earning_rules,
    list_outcomes,
    list_transactions,
    require_earning_rule,
)
from sendout.storage.postgres.publications import list_publications
from sendout.storage.postgres.tiers import (
    create_tier,
    delete_tier,
    insert_tier,
    list_tiers,
    replace_tier,
    require_tier,
)

if TYPE_CHECKING:
    from sendout.storage.postgres.queries import Conn


__all__ = ["PostgresPromotions", "create_campaign"]


class PostgresPromotions(PostgresConnection):
    # Thin wrappers: the transaction bodies are in the campaigns, codes, publications, tiers and
    # loyalty modules beside this one.
    async def create_campaign(
        self, campaign: Campaign, tiers: Sequence[PromotionTier], vouchers_count: int
    ) -> Campaign:
        return await self._write(create_campaign, campaign, tiers, vouchers_count)

    async def get_campaign(self, project_id: str, id_or_name: str) -> Campaign:
        return await self._one(require_campaign, project_id, id_or_name)

    async def list_campaigns(
        self, project_id: str, page: Page, *, campaign_type: str | None
    ) -> tuple[list[Campaign], int]:
        return await self._read(list_campaigns, project_id, page, campaign_type)

    async def replace_campaign(self, campaign: Campaign) -> Campaign:
        return await self._write(replace_campaign, campaign)

    async def delete_campaign(self, project_id: str, id_or_name: str) -> None:
        await self._write(delete_campaign, project_id, id_or_name)

    async def generate_vouchers(
        self,
        project_id: str,
        id_or_name: str,
        count: int,
        code_config: dict[str, Any] | None,
        now: str,
    ) -> tuple[Campaign, int]:
        return await self._write(generate_into, project_id, id_or_name, count, code_config, now)

    async def add_voucher(
        self, project_id: str, id_or_name: str, code: str, metadata: dict[str, Any], now: str
    ) -> tuple[Voucher, Campaign]:
        return await self._write(add_code_to, project_id, id_or_name, code, metadata, now)

    async def import_codes(
        self, project_id: str, id_or_name: str, codes: Sequence[str], now: str
    ) -> int:
        return await self._write(import_codes, project_id, id_or_name, codes, now)

    async def get_voucher(self, project_id: str, code: str) -> tuple[Voucher, Campaign]:
        return await self._read(require_voucher, project_id, code)

    async def list_vouchers(
        self, project_id: str, page: Page, *, campaign: str | None, holder_id: str | None
    ) -> tuple[list[tuple[Voucher, Campaign]], int]:
        return await self._read(list_vouchers, project_id, page, campaign, holder_id)

    async def list_publications(
        self, project_id: str, page: Page, where: PublicationFilter
    ) -> tuple[list[tuple[Publication, Customer, Campaign]], int]:
        return await self._read(list_publications, project_id, page, where)

    async def campaign_holders(self, project_id: str, campaign_id: str) -> frozenset[str]:
        async def run(conn: Conn) -> frozenset[str]:
            holders = await conn.fetch(
                "SELECT DISTINCT customer_id FROM publications WHERE project_id = $1"
                " AND campaign_id = $2",
                project_id,
                campaign_id,
            )
            return frozenset(r[0] for r in holders)

        return await self._read(run)

    async def code_counts(self, project_id: str, campaign_id: str) -> CodeCounts:
        row = await self._fetchrow(_CODE_COUNTS, project_id, campaign_id)
        assert row is not None
        return CodeCounts(int(row["total"]), int(row["published"]), int(row["remaining"]))

    async def code_counts_by_campaign(self, project_id: str) -> dict[str, CodeCounts]:
        async with self._conn() as conn:
            rows = await conn.fetch(_CODE_COUNTS_BY_CAMPAIGN, project_id)
        return {
            r["campaign_id"]: CodeCounts(int(r["total"]), int(r["published"]), int(r["remaining"]))
            for r in rows
        }

    async def create_promotion_tier(self, tier: PromotionTier) -> PromotionTier:
        return await self._write(create_tier, tier)

    async def get_promotion_tier(self, project_id: str, tier_id: str) -> PromotionTier:
        return await self._one(require_tier, project_id, tier_id)

    async def list_promotion_tiers(
        self, project_id: str, campaign: str | None, page: Page
    ) -> tuple[list[PromotionTier], int]:
        return await self._read(list_tiers, project_id, campaign, page)

    async def replace_promotion_tier(self, tier: PromotionTier) -> PromotionTier:
        return await self._write(replace_tier, tier)

    async def delete_promotion_tier(self, project_id: str, tier_id: str) -> None:
        await self._write(delete_tier, project_id, tier_id)

    async def create_earning_rules(
        self, project_id: str, campaign: str, rules: Sequence[dict[str, Any]], now: str
    ) -> list[EarningRule]:
        return await self._write(create_earning_rules, project_id, campaign, rules, now)

    async def list_earning_rules(
        self, project_id: str, campaign: str, page: Page
    ) -> tuple[list[EarningRule], int]:
        return await self._read(list_earning_rules, project_id, campaign, page)

    async def get_earning_rule(self, project_id: str, campaign: str, rule_id: str) -> EarningRule:
        return await self._read(require_earning_rule, project_id, campaign, rule_id)

    async def delete_earning_rule(self, project_id: str, campaign: str, rule_id: str) -> None:
        await self._write(delete_earning_rule, project_id, campaign, rule_id)

    async def list_loyalty_transactions(
        self, project_id: str, code: str, page: Page
    ) -> tuple[list[LoyaltyTransaction], int]:
        return await self._read(list_transactions, project_id, code, page)

    async def list_referral_conversions(
        self, project_id: str, page: Page, *, campaign: str | None, referrer_id: str | None
    ) -> tuple[list[ReferralConversion], int]:
        return await self._read(list_conversions, project_id, page, campaign, referrer_id)

    async def customer_standings(
        self, project_id: str, customer_ids: Sequence[str]
    ) -> dict[str, CustomerStanding]:
        return await self._read(customer_standings, project_id, customer_ids)

    async def list_distribution_outcomes(
        self,
        project_id: str,
        page: Page,
        *,
        distribution_id: str | None,
        result: str | None,
        event_id: str | None = None,
    ) -> tuple[list[PromotionOutcome], int]:
        return await self._read(list_outcomes, project_id, page, distribution_id, result, event_id)


_CODE_COUNTS = (
    "SELECT COUNT(*) AS total, COUNT(holder_id) AS published,"
    " COUNT(*) FILTER (WHERE holder_id IS NULL AND active) AS remaining"
    " FROM vouchers WHERE project_id = $1 AND campaign_id = $2"
)

_CODE_COUNTS_BY_CAMPAIGN = (
    "SELECT campaign_id, COUNT(*) AS total, COUNT(holder_id) AS published,"
    " COUNT(*) FILTER (WHERE holder_id IS NULL AND active) AS remaining"
    " FROM vouchers WHERE project_id = $1 GROUP BY campaign_id"
)

_INSERT_CAMPAIGN = (
    f"INSERT INTO campaigns ({', '.join(prow.CAMPAIGN_COLUMNS)})"
    f" VALUES ({', '.join(f'${i}' for i, _ in enumerate(prow.CAMPAIGN_COLUMNS, 1))})"
    " ON CONFLICT DO NOTHING RETURNING id"
)


async def create_campaign(
    conn: Conn, campaign: Campaign, tiers: Sequence[PromotionTier], count: int
) -> Campaign:
    await check_reward(conn, campaign)
    c = campaign
    inserted = await conn.fetchval(_INSERT_CAMPAIGN, *prow.campaign_values(c))
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
