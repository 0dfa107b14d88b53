"""One project's keys can neither read nor change another project's data."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from conftest import unique
from support.receiver import Receiver


@pytest.fixture(scope="module")
def other(server, mgmt: httpx.Client) -> Iterator[httpx.Client]:
    created = mgmt.post("/management/v1/projects", json={"name": unique("other")}).json()
    assert created["id"].startswith("proj_")
    creds = created["credentials"]
    headers = {"X-App-Id": creds["app_id"], "X-App-Token": creds["app_token"]}
    with httpx.Client(base_url=server.base_url, headers=headers) as client:
        yield client


@pytest.fixture(scope="module")
def owned(
    api: httpx.Client, mgmt: httpx.Client, project_id: str, receiver: Receiver
) -> dict[str, Any]:
    """A customer, event, schema, distribution and delivery of the default project."""
    name = unique("iso")
    schema = mgmt.post(
        f"/management/v1/projects/{project_id}/custom-event-schemas",
        json={"name": name, "schema": {"properties": {}}},
    ).json()
    path = "/" + unique("iso")
    distribution = api.post(
        "/v1/distributions",
        json={
            "name": "mine",
            "trigger": {"type": "customer.custom_event", "event": name},
            "action": {"type": "plain_message"},
            "channels": [{"type": "webhook", "event_name": "x", "url": receiver.url(path)}],
        },
    ).json()
    source_id = unique("c")
    event = api.post(
        "/v1/events", json={"event": name, "customer": {"source_id": source_id}}
    ).json()
    [got] = receiver.wait_for(path, 1)
    return {
        "schema": schema,
        "distribution": distribution,
        "event": event,
        "customer": event["customer"],
        "source_id": source_id,
        "delivery_id": got.headers["webhook-id"],
        "name": name,
    }


def test_reads_of_another_projects_resources_are_not_found(
    other: httpx.Client, owned: dict[str, Any]
) -> None:
    customer_id = owned["customer"]["id"]
    for path in (
        f"/v1/customers/{customer_id}",
        f"/v1/customers/{owned['source_id']}",
        f"/v1/distributions/{owned['distribution']['id']}",
        f"/v1/deliveries/{owned['delivery_id']}",
    ):
        response = other.get(path)
        assert response.status_code == 404, path
        assert response.json()["key"] == "not_found"
    assert other.get("/v1/events", params={"customer": customer_id}).status_code == 404
    assert owned["event"]["id"] not in [
        e["id"] for e in other.get("/v1/events", params={"limit": 100}).json()["events"]
    ]
    assert owned["delivery_id"] not in [
        d["id"] for d in other.get("/v1/deliveries", params={"limit": 100}).json()["deliveries"]
    ]
    assert owned["distribution"]["id"] not in [
        d["id"]
        for d in other.get("/v1/distributions", params={"limit": 100}).json()["distributions"]
    ]
    assert customer_id not in [
        c["id"] for c in other.get("/v1/customers", params={"limit": 100}).json()["customers"]
    ]


def test_writes_to_another_projects_resources_change_nothing(
    api: httpx.Client, other: httpx.Client, owned: dict[str, Any]
) -> None:
    customer_id = owned["customer"]["id"]
    distribution_id = owned["distribution"]["id"]
    assert other.put(f"/v1/customers/{customer_id}", json={"name": "stolen"}).status_code == 404
    assert other.delete(f"/v1/customers/{customer_id}").status_code == 404
    # Upserting by the other project's id does not reach it; by source_id it makes a new customer.
    assert (
        other.post("/v1/customers", json={"id": customer_id, "name": "stolen"}).status_code == 404
    )
    theirs = other.post(
        "/v1/customers", json={"source_id": owned["source_id"], "name": "twin"}
    ).json()
    assert theirs["id"] != customer_id
    for action in ("pause", "resume", "replay"):
        body = {"since": "2000-01-01T00:00:00Z"} if action == "replay" else None
        assert (
            other.post(f"/v1/distributions/{distribution_id}/{action}", json=body).status_code
            == 404
        )
    assert (
        other.put(f"/v1/distributions/{distribution_id}", json={"name": "stolen"}).status_code
        == 404
    )
    assert other.delete(f"/v1/distributions/{distribution_id}").status_code == 404
    assert other.post(f"/v1/deliveries/{owned['delivery_id']}/resend").status_code == 404
    # The other project has no such event schema, so it cannot trigger our distribution.
    refused = other.post(
        "/v1/events", json={"event": owned["name"], "customer": {"source_id": "x"}}
    )
    assert refused.json()["key"] == "unknown_event"

    mine = api.get(f"/v1/customers/{customer_id}").json()
    assert mine["name"] is None
    assert api.get(f"/v1/distributions/{distribution_id}").json()["status"] == "ACTIVE"


def test_another_projects_campaigns_codes_publications_and_tiers_are_out_of_reach(
    api: httpx.Client, other: httpx.Client
) -> None:
    from support.promotions import coupons, promotion

    campaign = coupons(api, 3)
    promo_campaign, tier = promotion(api)
    published = api.post(
        "/v1/publications",
        json={
            "campaign": {"name": campaign["id"], "count": 1},
            "customer": {"source_id": unique("c")},
        },
    ).json()
    code = published["voucher"]["code"]
    cid, tid = campaign["id"], tier["id"]
    refused = [
        other.get(f"/v1/campaigns/{cid}"),
        other.get(f"/v1/campaigns/{campaign['name']}"),
        other.put(f"/v1/campaigns/{cid}", json={"description": "stolen"}),
        other.post(f"/v1/campaigns/{cid}/disable"),
        other.post(f"/v1/campaigns/{cid}/enable"),
        other.post(f"/v1/campaigns/{cid}/vouchers", params={"vouchers_count": 1}),
        other.post(f"/v1/campaigns/{cid}/vouchers/STOLEN-1"),
        other.delete(f"/v1/campaigns/{cid}"),
        other.get(f"/v1/vouchers/{code}"),
        other.get(f"/v1/vouchers/{code}/transactions"),
        other.post(
            "/v1/publications",
            json={"campaign": {"name": cid, "count": 1}, "customer": {"source_id": "x"}},
        ),
        other.post("/v1/publications", json={"voucher": code, "customer": {"source_id": "x"}}),
        other.get(f"/v1/promotions/{promo_campaign['id']}/tiers"),
        other.post(f"/v1/promotions/{promo_campaign['id']}/tiers", json={"name": "stolen"}),
        other.get(f"/v1/promotions/tiers/{tid}"),
        other.put(f"/v1/promotions/tiers/{tid}", json={"name": "stolen"}),
        other.post(f"/v1/promotions/tiers/{tid}/disable"),
        other.delete(f"/v1/promotions/tiers/{tid}"),
        other.get(f"/v1/loyalties/{cid}/earning-rules"),
    ]
    for response in refused:
        assert response.status_code in (400, 404), (response.request.url, response.text)
        assert response.json()["key"] in (
            "not_found",
            "no_voucher_suitable_for_publication",
            "voucher_not_found",
        ), response.text
    listed = [
        other.get("/v1/campaigns", params={"limit": 100}).json()["campaigns"],
        other.get("/v1/vouchers", params={"limit": 100}).json()["vouchers"],
        other.get("/v1/publications", params={"limit": 100}).json()["publications"],
        other.get("/v1/promotions/tiers", params={"limit": 100}).json()["tiers"],
    ]
    assert all(
        item.get("id") not in (cid, tid, published["id"]) for items in listed for item in items
    )
    assert all(item.get("code") != code for item in listed[1])
    mine = api.get(f"/v1/campaigns/{cid}").json()
    assert mine["active"] is True
    assert mine.get("description") != "stolen"
    assert api.get(f"/v1/promotions/tiers/{tid}").json()["name"] == tier["name"]
    assert api.get(f"/v1/vouchers/{code}").json()["code"] == code
