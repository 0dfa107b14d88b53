"""The promotion records passed between storage and the pure stages."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "CAMPAIGN_TYPES",
    "CODE_CAMPAIGN_TYPES",
    "NO_CODES",
    "Campaign",
    "CustomerStanding",
    "EarningRule",
    "LoyaltyTransaction",
    "ProgramStanding",
    "PromotionOutcome",
    "PromotionTier",
    "Publication",
    "ReferralConversion",
    "Voucher",
]

JSON = dict[str, Any]

CAMPAIGN_TYPES = ("DISCOUNT_COUPONS", "PROMOTION", "REFERRAL_PROGRAM", "LOYALTY_PROGRAM")
# Campaigns whose vouchers are codes that can be published.
CODE_CAMPAIGN_TYPES = ("DISCOUNT_COUPONS", "REFERRAL_PROGRAM", "LOYALTY_PROGRAM")


@dataclass(frozen=True, slots=True)
class Campaign:
    id: str
    project_id: str
    name: str
    campaign_type: str
    type: str  # STATIC | AUTO_UPDATE
    description: str | None
    join_once: bool
    auto_join: bool
    active: bool
    voucher: JSON | None  # the code template: type, discount|loyalty_card, redemption, code_config
    referral_program: JSON | None
    metadata: JSON
    vouchers_count: int
    start_date: str | None
    expiration_date: str | None
    created_at: str
    updated_at: str | None

    @property
    def has_codes(self) -> bool:
        return self.campaign_type in CODE_CAMPAIGN_TYPES


@dataclass(frozen=True, slots=True)
class CodeCounts:
    """A campaign's codes counted: all of them, those published, those that can still be."""

    total: int
    published: int
    remaining: int  # unpublished and active


NO_CODES = CodeCounts(0, 0, 0)  # a campaign without any code


@dataclass(frozen=True, slots=True)
class Voucher:
    id: str
    project_id: str
    campaign_id: str
    code: str
    holder_id: str | None
    active: bool
    points: int  # loyalty cards: points earned over the card's life
    balance: int  # loyalty cards: points available now
    metadata: JSON
    created_at: str
    updated_at: str | None


@dataclass(frozen=True, slots=True)
class Publication:
    id: str
    project_id: str
    campaign_id: str
    customer_id: str
    vouchers: tuple[Voucher, ...]
    source_id: str | None
    channel: str
    metadata: JSON
    created_at: str


@dataclass(frozen=True, slots=True)
class PromotionTier:
    id: str
    project_id: str
    campaign_id: str
    name: str
    banner: str | None
    action: JSON | None
    metadata: JSON
    hierarchy: int
    active: bool
    start_date: str | None
    expiration_date: str | None
    created_at: str
    updated_at: str | None


@dataclass(frozen=True, slots=True)
class EarningRule:
    """Points for a custom event: ``FIXED`` points, or ``PROPORTIONAL`` to a metadata number."""

    id: str
    project_id: str
    campaign_id: str
    event: str  # the custom event name
    schema_id: str
    loyalty: JSON  # Voucherify's ``loyalty`` object of the rule
    active: bool
    metadata: JSON
    created_at: str
    updated_at: str | None


@dataclass(frozen=True, slots=True)
class LoyaltyTransaction:
    id: str
    voucher_id: str
    campaign_id: str
    earning_rule_id: str
    event_id: str
    points: int
    balance: int
    created_at: str


@dataclass(frozen=True, slots=True)
class ReferralConversion:
    id: str
    campaign_id: str
    voucher_id: str
    code: str
    referrer_id: str
    referee_id: str
    event_id: str
    created_at: str


@dataclass(frozen=True, slots=True)
class ProgramStanding:
    """A customer in one loyalty or referral program: the balance of the cards they hold there
    and how many customers they referred in it."""

    campaign_id: str
    campaign_name: str
    points: int
    referred_customers: int


@dataclass(frozen=True, slots=True)
class CustomerStanding:
    """A customer's loyalty and referrals as stored: their programs (by campaign name) and the
    conversions in which they were the referee (oldest first)."""

    programs: tuple[ProgramStanding, ...] = ()
    referred_by: tuple[ReferralConversion, ...] = ()


@dataclass(frozen=True, slots=True)
class PromotionOutcome:
    """Why an event caused no webhook for one distribution (the pool was empty, …)."""

    id: str
    project_id: str
    distribution_id: str | None
    event_id: str
    customer_id: str
    campaign_id: str | None
    result: str
    details: str
    created_at: str
    extra: JSON = field(default_factory=dict)
