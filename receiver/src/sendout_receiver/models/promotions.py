"""The purpose objects: campaign, its code template, voucher, publication, promotion tier.

Shaped after Voucherify's ``SimpleCampaign``, ``SimpleVoucher``,
``PublicationsDistributionItemBase`` and ``SimplePromotionTier``; everything but the keys that
identify an object is optional and nullable, as Voucherify's own examples send ``null`` for
fields its schema does not mark nullable.
"""

from __future__ import annotations

from sendout_receiver.models.base import JSONObject, Model, Timestamp

__all__ = [
    "CampaignVoucher",
    "CodeConfig",
    "Discount",
    "Gift",
    "LoyaltyCard",
    "PromotionTierCampaign",
    "Publication",
    "PublicationCustomer",
    "Redemption",
    "ReferralProgram",
    "SimpleCampaign",
    "SimplePromotionTier",
    "SimpleVoucher",
]

Number = int | float


class Discount(Model):
    """One of Voucherify's five discount shapes, told apart by ``type``
    (``AMOUNT``, ``PERCENT``, ``FIXED``, ``UNIT``; ``UNIT`` with ``units`` for several)."""

    type: str
    effect: str | None = None
    amount_off: Number | None = None
    amount_off_formula: str | None = None
    percent_off: Number | None = None
    percent_off_formula: str | None = None
    amount_limit: Number | None = None
    aggregated_amount_limit: int | None = None
    fixed_amount: Number | None = None
    fixed_amount_formula: str | None = None
    unit_off: Number | None = None
    unit_off_formula: str | None = None
    unit_type: str | None = None
    units: list[JSONObject] | None = None
    product: JSONObject | None = None
    sku: JSONObject | None = None
    is_dynamic: bool | None = None


class Gift(Model):
    amount: Number | None = None
    balance: Number | None = None
    effect: str | None = None


class LoyaltyCard(Model):
    """A card's ``points`` and ``balance`` (on a voucher), or a program's starting points."""

    points: int | None = None
    balance: int | None = None
    next_expiration_date: str | None = None
    next_expiration_points: int | None = None
    pending_points: int | None = None
    expired_points: int | None = None
    subtracted_points: int | None = None
    expiration_rules: JSONObject | None = None


class Redemption(Model):
    quantity: int | None = None  # null: unlimited
    redeemed_quantity: int | None = None


class CodeConfig(Model):
    length: int | None = None
    charset: str | None = None
    prefix: str | None = None
    postfix: str | None = None
    pattern: str | None = None
    initial_count: int | None = None


class CampaignVoucher(Model):
    """``SimpleCampaignVoucher``: the template of the campaign's codes."""

    type: str | None = None
    discount: Discount | None = None
    gift: Gift | None = None
    loyalty_card: LoyaltyCard | None = None
    redemption: Redemption | None = None
    code_config: CodeConfig | None = None


class ReferralProgram(Model):
    conversion_event_type: str | None = None
    custom_event: JSONObject | None = None
    referee_reward: JSONObject | None = None


class SimpleCampaign(Model):
    id: str | None = None
    name: str | None = None
    campaign_type: str | None = None
    type: str | None = None
    is_referral_code: bool | None = None
    voucher: CampaignVoucher | None = None
    referral_program: ReferralProgram | None = None
    auto_join: bool | None = None
    join_once: bool | None = None
    active: bool | None = None
    category_id: str | None = None
    category: str | None = None
    categories: list[JSONObject] | None = None
    metadata: JSONObject | None = None
    start_date: Timestamp | None = None
    expiration_date: Timestamp | None = None
    description: str | None = None
    created_at: Timestamp | None = None
    updated_at: Timestamp | None = None
    object: str = "campaign"


class SimpleVoucher(Model):
    id: str | None = None
    code: str
    type: str | None = None
    discount: Discount | None = None
    gift: Gift | None = None
    loyalty_card: LoyaltyCard | None = None
    campaign: str | None = None  # the campaign's name
    campaign_id: str | None = None
    is_referral_code: bool | None = None
    holder_id: str | None = None
    referrer_id: str | None = None
    category_id: str | None = None
    categories: list[JSONObject] | None = None
    active: bool | None = None
    created_at: Timestamp | None = None
    updated_at: Timestamp | None = None
    redemption: Redemption | None = None
    start_date: Timestamp | None = None
    expiration_date: Timestamp | None = None
    metadata: JSONObject | None = None
    object: str = "voucher"


class PublicationCustomer(Model):
    """The customer inside a publication (abbreviated: summaries are ``null``)."""

    id: str | None = None
    source_id: str | None = None
    name: str | None = None
    description: str | None = None
    email: str | None = None
    phone: str | None = None
    birthdate: str | None = None  # YYYY-MM-DD
    address: JSONObject | None = None
    summary: JSONObject | None = None
    loyalty: JSONObject | None = None
    referrals: JSONObject | None = None
    metadata: JSONObject | None = None
    system_metadata: JSONObject | None = None
    created_at: Timestamp | None = None
    updated_at: Timestamp | None = None
    assets: JSONObject | None = None
    object: str = "customer"


class Publication(Model):
    """``data.publication``: the code just published to the customer."""

    id: str
    object: str = "publication"
    created_at: Timestamp | None = None
    customer_id: str | None = None
    tracking_id: str | None = None
    metadata: JSONObject | None = None
    channel: str | None = None
    source_id: str | None = None
    result: str | None = None
    customer: PublicationCustomer | None = None
    vouchers_id: list[str] | None = None


class PromotionTierCampaign(Model):
    id: str | None = None


class SimplePromotionTier(Model):
    id: str | None = None
    name: str | None = None
    banner: str | None = None
    campaign: PromotionTierCampaign | None = None
    metadata: JSONObject | None = None
