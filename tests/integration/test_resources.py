"""The resource routes behave as documented: projects, customers, events, distributions."""

from __future__ import annotations

import httpx

from conftest import unique
from support.receiver import Receiver


def test_openapi_lists_every_route(server, api: httpx.Client) -> None:
    spec = httpx.get(server.base_url + "/openapi.json").json()
    paths = spec["paths"]
    app_routes = {
        ("post", "/v1/events"),
        ("get", "/v1/events"),
        ("post", "/v1/customers"),
        ("get", "/v1/customers"),
        ("get", "/v1/customers/{customerId}"),
        ("put", "/v1/customers/{customerId}"),
        ("delete", "/v1/customers/{customerId}"),
        ("post", "/v1/distributions"),
        ("get", "/v1/distributions"),
        ("get", "/v1/distributions/{distributionId}"),
        ("put", "/v1/distributions/{distributionId}"),
        ("delete", "/v1/distributions/{distributionId}"),
        ("post", "/v1/distributions/{distributionId}/pause"),
        ("post", "/v1/distributions/{distributionId}/resume"),
        ("get", "/v1/deliveries"),
        ("get", "/v1/deliveries/{deliveryId}"),
        ("get", "/management/v1/projects"),
        ("get", "/management/v1/projects/{projectId}"),
        ("post", "/management/v1/projects/{projectId}/custom-event-schemas"),
        ("get", "/management/v1/projects/{projectId}/custom-event-schemas"),
        ("get", "/management/v1/projects/{projectId}/custom-event-schemas/{schemaId}"),
        ("put", "/management/v1/projects/{projectId}/custom-event-schemas/{schemaId}"),
        ("delete", "/management/v1/projects/{projectId}/custom-event-schemas/{schemaId}"),
    }
    documented = {(m, p) for p, ops in paths.items() for m in ops}
    assert app_routes <= documented
    body = paths["/v1/events"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    name = body["$ref"].rsplit("/", 1)[1]
    assert set(spec["components"]["schemas"][name]["required"]) == {"event", "customer"}
    docs = httpx.get(server.base_url + "/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


def test_projects(mgmt: httpx.Client, project_id: str) -> None:
    listed = mgmt.get("/management/v1/projects").json()
    assert listed["object"] == "list" and listed["total"] >= 1
    project = mgmt.get(f"/management/v1/projects/{project_id}").json()
    assert project["id"] == project_id and project["object"] == "project"
    assert "webhook_secret" not in project and "app_token" not in project


def test_customer_upsert_by_source_id_and_by_id(api: httpx.Client) -> None:
    source_id = unique("c")
    first = api.post("/v1/customers", json={"source_id": source_id, "name": "A"}).json()
    again = api.post(
        "/v1/customers", json={"source_id": source_id, "email": "a@example.com"}
    ).json()
    assert again["id"] == first["id"] and again["name"] == "A" and again["email"] == "a@example.com"
    by_id = api.post("/v1/customers", json={"id": first["id"], "name": "B"}).json()
    assert by_id["id"] == first["id"] and by_id["name"] == "B"
    assert by_id["updated_at"] is not None
    anonymous = api.post("/v1/customers", json={"name": "nobody knows"}).json()
    assert anonymous["id"].startswith("cust_") and anonymous["source_id"] is None


def test_customer_list_pages(api: httpx.Client) -> None:
    marker = unique("page") + "@example.com"
    created = [
        api.post("/v1/customers", json={"source_id": unique("c"), "email": marker}).json()
        for _ in range(3)
    ]
    # Oldest first; customers made within one millisecond follow their ids.
    made = [c["id"] for c in sorted(created, key=lambda c: (c["created_at"], c["id"]))]
    page1 = api.get(
        "/v1/customers", params={"email": marker, "limit": 2, "order": "created_at"}
    ).json()
    page2 = api.get(
        "/v1/customers", params={"email": marker, "limit": 2, "page": 2, "order": "created_at"}
    ).json()
    assert page1["data_ref"] == "customers" and page1["total"] == 3 and page1["has_more"] is True
    assert [c["id"] for c in page1["customers"] + page2["customers"]] == made
    assert page2["has_more"] is False


def test_tracking_upserts_the_customer_and_lists_events(api: httpx.Client, make_schema) -> None:
    schema = make_schema()
    source_id = unique("c")
    first = api.post(
        "/v1/events",
        json={"event": schema["name"], "customer": {"source_id": source_id, "name": "N"}},
    ).json()
    assert first["id"].startswith("event_") and first["object"] == "event"
    assert first["referral"] is None and first["loyalty"] is None and first["metadata"] == {}
    customer = api.get(f"/v1/customers/{source_id}").json()
    assert customer["name"] == "N" and first["customer"]["id"] == customer["id"]
    api.post(
        "/v1/events",
        json={
            "event": schema["name"],
            "customer": {"id": customer["id"], "email": "n@example.com"},
        },
    )
    assert api.get(f"/v1/customers/{customer['id']}").json()["email"] == "n@example.com"

    listed = api.get("/v1/events", params={"customer": source_id}).json()
    assert listed["total"] == 2 and {e["type"] for e in listed["events"]} == {schema["name"]}
    assert listed["events"][0]["customer"]["id"] == customer["id"]
    assert (
        api.get("/v1/events", params={"event": schema["name"], "limit": 1}).json()["has_more"]
        is True
    )


def test_distribution_update_pause_resume_delete(
    api: httpx.Client, receiver: Receiver, make_schema, make_distribution
) -> None:
    schema = make_schema()
    path = "/" + unique("d")
    created = make_distribution(schema["name"], "https://example.com/elsewhere")
    assert created["id"].startswith("distr_") and created["status"] == "ACTIVE"
    updated = api.put(
        f"/v1/distributions/{created['id']}",
        json={
            "channels": [
                {
                    "type": "webhook",
                    "event_name": "renamed",
                    "url": receiver.url(path),
                    "headers": {"X-Team": "a"},
                }
            ]
        },
    ).json()
    assert (
        updated["channels"][0]["headers"] == {"x-team": "a"} and updated["name"] == created["name"]
    )
    assert updated["updated_at"] is not None

    assert api.post(f"/v1/distributions/{created['id']}/pause").json()["status"] == "PAUSED"
    api.post("/v1/events", json={"event": schema["name"], "customer": {"source_id": unique("c")}})
    assert api.get("/v1/deliveries", params={"distribution_id": created["id"]}).json()["total"] == 0
    assert api.post(f"/v1/distributions/{created['id']}/resume").json()["status"] == "ACTIVE"
    api.post("/v1/events", json={"event": schema["name"], "customer": {"source_id": unique("c")}})
    [got] = receiver.wait_for(path, 1)
    assert got.headers["x-team"] == "a"

    listed = api.get("/v1/distributions", params={"limit": 100}).json()
    assert created["id"] in [d["id"] for d in listed["distributions"]]
    assert api.delete(f"/v1/distributions/{created['id']}").status_code == 204
    assert api.get(f"/v1/distributions/{created['id']}").status_code == 404


def test_schema_update_and_guarded_delete(
    api: httpx.Client, mgmt: httpx.Client, project_id: str, make_schema, make_distribution
) -> None:
    schema = make_schema({"a": {"type": "string", "optional": False}})
    url = f"/management/v1/projects/{project_id}/custom-event-schemas/{schema['id']}"
    updated = mgmt.put(
        url, json={"schema": {"properties": {"a": {"type": "number", "optional": True}}}}
    ).json()
    assert (
        updated["schema"]["properties"]["a"]["type"] == "number"
        and updated["name"] == schema["name"]
    )
    ok = api.post(
        "/v1/events",
        json={
            "event": schema["name"],
            "customer": {"source_id": unique("c")},
            "metadata": {"a": 1},
        },
    )
    assert ok.status_code == 200

    distribution = make_distribution(schema["name"], "https://example.com/x")
    refused = mgmt.delete(url)
    assert refused.status_code == 409 and refused.json()["key"] == "event_schema_in_use"
    api.delete(f"/v1/distributions/{distribution['id']}")
    assert mgmt.delete(url).status_code == 204
    assert mgmt.get(url).status_code == 404


def test_delivery_by_id(
    api: httpx.Client, receiver: Receiver, make_schema, make_distribution
) -> None:
    schema = make_schema()
    path = "/" + unique("one")
    make_distribution(schema["name"], receiver.url(path))
    api.post("/v1/events", json={"event": schema["name"], "customer": {"source_id": unique("c")}})
    [got] = receiver.wait_for(path, 1)
    delivery_id = got.headers["webhook-id"]
    import time

    for _ in range(200):
        found = api.get(f"/v1/deliveries/{delivery_id}").json()
        if found["status"] == "delivered":
            break
        time.sleep(0.02)
    assert found["id"] == delivery_id and found["status"] == "delivered"
    assert found["target_url"] == receiver.url(path)
    assert api.get("/v1/deliveries/whs_nope").status_code == 404


def test_prometheus_metrics(
    server, api: httpx.Client, receiver: Receiver, make_schema, make_distribution
) -> None:
    schema = make_schema()
    path = "/" + unique("metrics")
    distribution = make_distribution(schema["name"], receiver.url(path))
    api.post("/v1/events", json={"event": schema["name"], "customer": {"source_id": unique("c")}})
    receiver.wait_for(path, 1)
    import time

    delivered = (
        f'sendout_delivery_attempts_total{{distribution="{distribution["id"]}",result="delivered"}}'
    )
    for _ in range(100):
        text = httpx.get(server.base_url + "/metrics").text
        if delivered in text:
            break
        time.sleep(0.05)
    assert "sendout_events_tracked_total" in text
    assert "sendout_webhooks_enqueued_total" in text
    assert delivered + " 1.0" in text
    assert f'sendout_delivery_attempt_seconds_bucket{{distribution="{distribution["id"]}"' in text
