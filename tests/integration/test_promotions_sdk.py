"""The official SDK drives campaigns, codes, publications, vouchers and promotion tiers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import voucherify

from conftest import unique
from support.server import APP_ID, APP_TOKEN, ServerProcess


@pytest.fixture(scope="module")
def client(server: ServerProcess) -> Iterator[voucherify.ApiClient]:
    config = voucherify.Configuration(
        host=server.base_url, api_key={"X-App-Id": APP_ID, "X-App-Token": APP_TOKEN}
    )
    with voucherify.ApiClient(config) as api_client:
        yield api_client


def coupons(name: str, count: int, kind: str = "STATIC") -> voucherify.CampaignsCreateRequestBody:
    return voucherify.CampaignsCreateRequestBody(
        name=name,
        type=kind,
        vouchers_count=count,
        campaign_type="DISCOUNT_COUPONS",
        voucher=voucherify.CampaignsCreateRequestBodyVoucher(
            type="DISCOUNT_VOUCHER",
            discount=voucherify.Discount(type="PERCENT", percent_off=10),
            code_config=voucherify.CodeConfig(charset="0123456789", pattern="SPRING-2024-######"),
        ),
    )


def test_campaigns_codes_and_publications(client: voucherify.ApiClient) -> None:
    campaigns = voucherify.CampaignsApi(client)
    name = unique("Spring")
    created = campaigns.create_campaign(coupons(name, 3))
    assert created.id.startswith("camp_") and created.name == name
    assert created.campaign_type == "DISCOUNT_COUPONS" and created.type == "STATIC"
    assert created.vouchers_count == 3
    assert created.creation_status == "DONE" and created.vouchers_generation_status == "DONE"
    assert campaigns.get_campaign(name).id == created.id
    listed = campaigns.list_campaigns(limit=100, campaign_type="DISCOUNT_COUPONS")
    assert created.id in [c.id for c in listed.campaigns]

    publications = voucherify.PublicationsApi(client)
    source_id = unique("cust")
    published = publications.create_publication(
        join_once=True,
        publications_create_request_body=voucherify.PublicationsCreateRequestBody(
            campaign=voucherify.CreatePublicationCampaign(name=created.id, count=1),
            customer=voucherify.Customer(source_id=source_id),
            channel="API",
            metadata={"k": "v"},
        ),
    )
    assert published.object == "publication" and published.result == "SUCCESS"
    assert published.channel == "API" and published.metadata == {"k": "v"}
    code = published.voucher.code
    assert code.startswith("SPRING-2024-") and len(code) == 18
    assert published.voucher.holder_id == published.customer_id
    assert published.voucher.type == "DISCOUNT_VOUCHER"

    again = publications.create_publication(
        join_once=True,
        publications_create_request_body=voucherify.PublicationsCreateRequestBody(
            campaign=voucherify.CreatePublicationCampaign(name=name, count=1),
            customer=voucherify.Customer(source_id=source_id),
        ),
    )
    assert again.id == published.id and again.voucher.code == code

    mine = publications.list_publications(limit=10, customer=published.customer_id)
    assert [p.id for p in mine.publications] == [published.id]
    assert mine.publications[0].voucher.code == code

    voucher = voucherify.VouchersApi(client).get_voucher(code)
    assert voucher.code == code and voucher.campaign_id == created.id
    assert voucher.holder_id == published.customer_id

    added = campaigns.add_vouchers_to_campaign(created.id, vouchers_count=1)
    assert added.code.startswith("SPRING-2024-")
    assert campaigns.get_campaign(created.id).vouchers_count == 4

    campaigns.delete_campaign(created.id)
    with pytest.raises(voucherify.exceptions.NotFoundException):
        campaigns.get_campaign(created.id)


def test_promotion_tiers(client: voucherify.ApiClient) -> None:
    campaigns = voucherify.CampaignsApi(client)
    created = campaigns.create_campaign(
        voucherify.CampaignsCreateRequestBody(
            name=unique("Cart promotions"),
            campaign_type="PROMOTION",
            promotion=voucherify.CampaignsCreateRequestBodyPromotion(
                tiers=[voucherify.PromotionTierCreateParams(name="10% off", banner="Get 10% off")]
            ),
        )
    )
    assert created.campaign_type == "PROMOTION"
    promotions = voucherify.PromotionsApi(client)
    tiers = promotions.list_promotion_tiers_from_campaign(created.id)
    [tier] = tiers.tiers
    assert tier.id.startswith("promo_") and tier.name == "10% off" and tier.hierarchy == 1
    fetched = promotions.get_promotion_tier(tier.id)
    assert fetched.campaign_id == created.id and fetched.banner == "Get 10% off"
