"""Request bodies of the promotion routes, as Voucherify (and its SDK) send them."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from sendout.api.body import Bool, Int, IsoDateTime, Metadata
from sendout.api.schemas import IDENTIFIED, CustomerIn
from sendout.promotions.campaigns import MAX_VOUCHERS_COUNT
from sendout.promotions.records import CAMPAIGN_TYPES

__all__ = [
    "MAX_HIERARCHY",
    "CampaignIn",
    "CampaignUpdateIn",
    "EarningRuleIn",
    "PromotionIn",
    "PublicationCampaignIn",
    "PublicationIn",
    "TierIn",
    "TierUpdateIn",
    "VoucherTemplateIn",
    "VouchersCreateIn",
]


MAX_HIERARCHY = 2**31 - 1  # what both stores keep in an integer column


class _In(BaseModel):
    model_config = ConfigDict(extra="ignore")


class VoucherTemplateIn(_In):
    type: str | None = None
    discount: dict[str, Any] | None = None
    loyalty_card: dict[str, Any] | None = None
    redemption: dict[str, Any] | None = None
    code_config: dict[str, Any] | None = None


class TierIn(_In):
    """``PromotionTierCreateParams``."""

    name: str = Field(min_length=1, max_length=300)
    banner: str | None = Field(default=None, max_length=1000)
    action: dict[str, Any] | None = None
    metadata: Metadata | None = None
    active: Bool = True
    hierarchy: Int | None = Field(default=None, ge=1, le=MAX_HIERARCHY)
    start_date: IsoDateTime | None = None
    expiration_date: IsoDateTime | None = None


class TierUpdateIn(_In):
    name: str | None = Field(default=None, min_length=1, max_length=300)
    banner: str | None = Field(default=None, max_length=1000)
    action: dict[str, Any] | None = None
    metadata: Metadata | None = None
    active: Bool | None = None
    hierarchy: Int | None = Field(default=None, ge=1, le=MAX_HIERARCHY)
    start_date: IsoDateTime | None = None
    expiration_date: IsoDateTime | None = None


class PromotionIn(_In):
    tiers: list[TierIn] = Field(default_factory=list, max_length=100)


class CampaignIn(_In):
    """``CampaignsCreateRequestBody`` for the four supported campaign types."""

    name: str = Field(min_length=1, max_length=300)
    campaign_type: str = Field(json_schema_extra={"enum": list(CAMPAIGN_TYPES)})
    type: str | None = None
    description: str | None = Field(default=None, max_length=10000)
    join_once: Bool = False
    auto_join: Bool = False
    vouchers_count: Int = Field(default=0, ge=0, le=MAX_VOUCHERS_COUNT)
    start_date: IsoDateTime | None = None
    expiration_date: IsoDateTime | None = None
    metadata: Metadata | None = None
    voucher: VoucherTemplateIn | None = None
    referral_program: dict[str, Any] | None = None
    promotion: PromotionIn | None = None


class CampaignUpdateIn(_In):
    """``PUT /v1/campaigns/{id}``: the fields given replace the stored ones."""

    type: str | None = None
    description: str | None = Field(default=None, max_length=10000)
    join_once: Bool | None = None
    auto_join: Bool | None = None
    start_date: IsoDateTime | None = None
    expiration_date: IsoDateTime | None = None
    metadata: Metadata | None = None
    discount: dict[str, Any] | None = None
    loyalty_card: dict[str, Any] | None = None
    referral_program: dict[str, Any] | None = None


class VouchersCreateIn(_In):
    """Body of ``POST /v1/campaigns/{id}/vouchers`` (and ``…/vouchers/{code}``)."""

    code_config: dict[str, Any] | None = None
    metadata: Metadata | None = None


class PublicationCampaignIn(_In):
    name: str = Field(min_length=1, max_length=300)
    count: Int = 1


class PublicationIn(_In):
    """``PublicationsCreateRequestBody``: ``campaign`` (object or legacy name) or ``voucher``."""

    customer: CustomerIn = Field(json_schema_extra=IDENTIFIED)
    campaign: PublicationCampaignIn | str | None = None
    voucher: str | None = Field(default=None, min_length=1, max_length=1000)
    source_id: str | None = Field(default=None, min_length=1, max_length=1000)
    metadata: Metadata | None = None
    channel: str | None = Field(default=None, max_length=300)


class EarningRuleIn(_In):
    """One item of ``POST /v1/loyalties/{campaignId}/earning-rules`` (a JSON array)."""

    event: str | None = None
    custom_event: dict[str, Any] | None = None
    loyalty: dict[str, Any]
    active: Bool = True
    metadata: Metadata | None = None
