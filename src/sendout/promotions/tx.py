"""The promotion verbs a storage backend offers *inside* an open transaction.

The pure stages (publishing, referral, loyalty, distribution purposes) decide; an object of
this protocol, bound to the transaction's connection, reads and writes. Everything it does
commits or rolls back with the request that caused it.
"""

from __future__ import annotations

from typing import Any, Protocol

from sendout.promotions.records import (
    Campaign,
    EarningRule,
    PromotionTier,
    Publication,
    ReferralConversion,
    Voucher,
)
from sendout.records import Customer

__all__ = ["PromotionTx"]


class PromotionTx(Protocol):
    @property
    def now(self) -> str:
        """The request's time (ISO 8601)."""

    async def campaign(self, id_or_name: str) -> Campaign | None: ...
    async def voucher(self, code: str) -> Voucher | None: ...
    async def customer(self, customer_id: str) -> Customer | None: ...
    async def promotion_tier(self, tier_id: str) -> PromotionTier | None: ...
    async def publication_of(self, campaign_id: str, customer_id: str) -> Publication | None:
        """The customer's earliest publication from this campaign, if any (``join_once``)."""

    async def publication_by_source_id(self, source_id: str) -> Publication | None: ...

    async def claim_unpublished(
        self, campaign: Campaign, holder_id: str, count: int
    ) -> list[Voucher]:
        """Give up to ``count`` unpublished active codes of the campaign to ``holder_id``.

        Each code is claimed with ``UPDATE … WHERE holder_id IS NULL``: two transactions can
        never both get it.
        """

    async def claim_voucher(self, voucher_id: str, holder_id: str) -> Voucher | None:
        """Give this one code to ``holder_id``; ``None`` if it was already published."""

    async def generate(self, campaign: Campaign, count: int) -> int:
        """Add ``count`` freshly generated codes to the campaign; returns how many."""

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
    ) -> Publication: ...

    async def earning_rules(self, campaign_id: str, event_name: str) -> list[EarningRule]:
        """Active earning rules of the campaign keyed on this custom event."""

    async def credit_points(
        self, voucher: Voucher, rule: EarningRule, points: int, event_id: str
    ) -> Voucher:
        """Add ``points`` to the card's balance and record the transaction."""

    async def referral_conversion(
        self, campaign_id: str, referee_id: str
    ) -> ReferralConversion | None: ...

    async def record_conversion(
        self, campaign: Campaign, voucher: Voucher, referee_id: str, event_id: str
    ) -> ReferralConversion: ...

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
        """Remember why an event caused no webhook for a distribution."""
