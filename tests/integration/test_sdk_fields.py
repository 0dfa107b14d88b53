"""Fields the official SDK's models have and clients read: present in sendout's answers and
webhooks (with the value that is true for sendout), on both backends."""

from __future__ import annotations

import httpx

from conftest import unique
from support.promotions import ok


def test_a_project_keeps_its_description_timezone_and_currency(mgmt: httpx.Client) -> None:
    body = {
        "name": unique("project"),
        "description": "EU shop",
        "timezone": "Europe/Warsaw",
        "currency": "PLN",
    }
    created = ok(mgmt.post("/management/v1/projects", json=body))
    kept = {k: created[k] for k in ("description", "timezone", "currency")}
    assert kept == {"description": "EU shop", "timezone": "Europe/Warsaw", "currency": "PLN"}
    fetched = ok(mgmt.get(f"/management/v1/projects/{created['id']}"))
    assert {k: fetched[k] for k in kept} == kept
    listed = ok(mgmt.get("/management/v1/projects"))["data"]
    assert {
        k: v for k, v in next(p for p in listed if p["id"] == created["id"]).items() if k in kept
    } == kept
    plain = ok(mgmt.post("/management/v1/projects", json={"name": unique("project")}))
    assert (plain["description"], plain["timezone"], plain["currency"]) == (None, "UTC", "USD")
    refused = mgmt.post("/management/v1/projects", json={**body, "currency": "zloty"})
    assert refused.status_code == 400 and refused.json()["key"] == "invalid_payload"
