"""Publishing: handing codes to a customer. Decisions only; the transaction does the I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sendout.errors import InvalidInput, NotFound
from sendout.promotions import ids as pids
from sendout.promotions.records import Campaign, Publication, Voucher
from sendout.promotions.tx import PromotionTx

__all__ = [
    "MAX_COUNT",
    "PublishRequest",
    "new_publication",
    "publish",
    "publish_from_campaign",
]

MAX_COUNT = 50


@dataclass(frozen=True, slots=True)
class PublishRequest:
    """``POST /v1/publications`` after parsing: from a campaign, or one specific code."""

    customer_id: str
    campaign: str | None = None  # name or id
    count: int = 1
    voucher: str | None = None  # a specific code
    join_once: bool = False
    source_id: str | None = None
    channel: str = "API"
    metadata: dict[str, Any] = field(default_factory=dict)


NO_VOUCHER = "no_voucher_suitable_for_publication"


def no_voucher(campaign: Campaign, why: str) -> InvalidInput:
    return InvalidInput(
        f"Campaign '{campaign.name}' ({campaign.id}) {why}",
        key=NO_VOUCHER,
        message="No voucher suitable for publication",
        resource_id=campaign.id,
        resource_type="campaign",
    )


def _check_count(request: PublishRequest) -> None:
    if not 1 <= request.count <= MAX_COUNT:
        raise InvalidInput(
            f"campaign.count must be between 1 and {MAX_COUNT}, got {request.count}",
            key="too_many_vouchers_requested",
            message="Too many vouchers requested",
        )
    if request.count > 1 and (request.source_id is not None or request.join_once):
        raise InvalidInput(
            "campaign.count must be 1 when source_id or join_once is given: both name one"
            " publication of one code",
            key="too_many_vouchers_requested",
            message="Too many vouchers requested",
        )


async def _repeat(tx: PromotionTx, request: PublishRequest, campaign_id: str) -> Publication | None:
    """The publication a ``source_id`` already names (same customer and campaign), if any."""
    if request.source_id is None:
        return None
    existing = await tx.publication_by_source_id(request.source_id)
    if existing is None:
        return None
    if existing.customer_id != request.customer_id or existing.campaign_id != campaign_id:
        raise InvalidInput(
            f"source_id '{request.source_id}' already names publication {existing.id}"
            " of another customer or campaign",
            key="duplicate_source_id",
            message="Duplicate source_id",
            resource_id=request.source_id,
            resource_type="publication",
        )
    return existing


async def publishable_campaign(tx: PromotionTx, ref: str) -> Campaign:
    campaign = await tx.campaign(ref)
    if campaign is None:
        raise NotFound("campaign", ref)
    if not campaign.has_codes:
        raise InvalidInput(
            f"Campaign '{campaign.name}' is a {campaign.campaign_type} campaign: it has no codes"
            " to publish",
            key="invalid_campaign_type",
            message="Invalid campaign type",
            resource_id=campaign.id,
            resource_type="campaign",
        )
    return campaign


async def publish_from_campaign(
    tx: PromotionTx,
    campaign: Campaign,
    request: PublishRequest,
    *,
    distribution_id: str | None = None,
    event_id: str | None = None,
) -> Publication:
    """Publish ``request.count`` codes of ``campaign`` (or return the publication that stands).

    ``join_once`` (the request's or the campaign's): a customer who already holds a code of
    the campaign gets that same publication back. ``STATIC``: when the pool has too few codes,
    nothing is published (``no_voucher_suitable_for_publication``). ``AUTO_UPDATE``: the
    missing codes are generated first.
    """
    _check_count(request)
    repeat = await _repeat(tx, request, campaign.id)
    if repeat is not None:
        return repeat
    if request.join_once or campaign.join_once:
        held = await tx.publication_of(campaign.id, request.customer_id)
        if held is not None:
            return held
    if not campaign.active:
        raise no_voucher(campaign, "is disabled")
    vouchers = await tx.claim_unpublished(campaign, request.customer_id, request.count)
    missing = request.count - len(vouchers)
    if missing and campaign.type == "AUTO_UPDATE":
        await tx.generate(campaign, missing)
        vouchers += await tx.claim_unpublished(campaign, request.customer_id, missing)
        missing = request.count - len(vouchers)
    if missing:
        raise no_voucher(
            campaign, f"has {len(vouchers)} unpublished code(s) left; {request.count} requested"
        )
    return await tx.create_publication(
        campaign,
        request.customer_id,
        vouchers,
        source_id=request.source_id,
        channel=request.channel,
        metadata=request.metadata,
        distribution_id=distribution_id,
        event_id=event_id,
    )


async def _publish_code(tx: PromotionTx, request: PublishRequest, code: str) -> Publication:
    voucher = await tx.voucher(code)
    if voucher is None:
        raise NotFound("voucher", code)
    campaign = await publishable_campaign(tx, voucher.campaign_id)
    repeat = await _repeat(tx, request, campaign.id)
    if repeat is not None and voucher.id in [v.id for v in repeat.vouchers]:
        return repeat
    if voucher.holder_id is not None:
        raise InvalidInput(
            f"Voucher {code} is already published",
            key="voucher_already_published",
            message="Voucher already published",
            resource_id=code,
            resource_type="voucher",
        )
    if not voucher.active or not campaign.active:
        raise InvalidInput(
            f"Voucher {code} is disabled (or its campaign is)",
            key="voucher_cannot_be_published",
            message="Voucher cannot be published",
            resource_id=code,
            resource_type="voucher",
        )
    if repeat is not None:  # the source_id names a publication of another code
        raise InvalidInput(
            f"source_id '{request.source_id}' already names publication {repeat.id}",
            key="duplicate_source_id",
            message="Duplicate source_id",
        )
    claimed = await tx.claim_voucher(voucher.id, request.customer_id)
    if claimed is None:
        raise InvalidInput(
            f"Voucher {code} is already published",
            key="voucher_already_published",
            message="Voucher already published",
        )
    return await tx.create_publication(
        campaign,
        request.customer_id,
        [claimed],
        source_id=request.source_id,
        channel=request.channel,
        metadata=request.metadata,
    )


async def publish(tx: PromotionTx, request: PublishRequest) -> tuple[Publication, Campaign]:
    """``POST /v1/publications``: from a campaign or a specific code."""
    if request.voucher is not None:
        publication = await _publish_code(tx, request, request.voucher)
        campaign = await tx.campaign(publication.campaign_id)
        assert campaign is not None
        return publication, campaign
    if request.campaign is None:
        raise InvalidInput(
            "Either campaign or voucher is required",
            key="missing_vouchers",
            message="Missing vouchers",
        )
    campaign = await publishable_campaign(tx, request.campaign)
    return await publish_from_campaign(tx, campaign, request), campaign


def new_publication(
    project_id: str,
    campaign_id: str,
    customer_id: str,
    vouchers: list[Voucher],
    *,
    source_id: str | None,
    channel: str,
    metadata: dict[str, Any],
    now: str,
) -> Publication:
    """A publication about to be stored."""
    return Publication(
        id=pids.publication_id(),
        project_id=project_id,
        campaign_id=campaign_id,
        customer_id=customer_id,
        vouchers=tuple(vouchers),
        source_id=source_id,
        channel=channel,
        metadata=metadata,
        created_at=now,
    )
