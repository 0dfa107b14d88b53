"""The dashboard's list filters over plain HTTP, on each backend: deliveries by status,
distribution and time, events by customer, name and time, refused values as 400 pages."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from conftest import unique
from support.dashboard import csrf_of, sign_in
from support.server import ServerProcess


@pytest.fixture
def dashboard(server: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=10) as client:
        assert sign_in(client, csrf_of(client)).status_code == 303
        yield client


@pytest.fixture
def tracked(
    api: httpx.Client, make_schema: Callable[..., dict[str, Any]], make_distribution: Any
) -> dict[str, Any]:
    """One event whose distribution sends one delivery (to a port nothing listens on)."""
    schema = make_schema()
    distribution = make_distribution(schema["name"], "http://127.0.0.1:9/nowhere")
    source_id = unique("c")
    event = api.post(
        "/v1/events", json={"event": schema["name"], "customer": {"source_id": source_id}}
    )
    assert event.status_code == 200, event.text
    return {
        "event": event.json(),
        "distribution": distribution,
        "schema": schema,
        "source_id": source_id,
    }


def test_deliveries_filter_by_distribution_status_and_time(
    dashboard: httpx.Client, tracked: dict[str, Any]
) -> None:
    mine = {"distribution": tracked["distribution"]["id"]}
    assert "whs_" in dashboard.get("/dashboard/deliveries", params=mine).text
    later = dashboard.get(
        "/dashboard/deliveries", params={**mine, "since": "2999-01-01T00:00", "tz": "0"}
    )
    assert "whs_" not in later.text and "No delivery matches these filters" in later.text
    earlier = dashboard.get("/dashboard/deliveries", params={**mine, "until": "2000-01-01T00:00"})
    assert "whs_" not in earlier.text
    canceled = dashboard.get("/dashboard/deliveries", params={**mine, "status": "canceled"})
    assert "whs_" not in canceled.text
    refused = dashboard.get("/dashboard/deliveries", params={"status": "lost"})
    assert refused.status_code == 400 and "Status must be one of" in refused.text
    bad_time = dashboard.get("/dashboard/deliveries", params={"since": "yesterday"})
    assert bad_time.status_code == 400 and "is not a date and time" in bad_time.text


def test_events_filter_by_customer_name_and_time(
    dashboard: httpx.Client, tracked: dict[str, Any]
) -> None:
    event_id = tracked["event"]["id"]
    for params in ({"customer": tracked["source_id"]}, {"event": tracked["schema"]["name"]}):
        assert event_id in dashboard.get("/dashboard/events", params=params).text
    later = {"event": tracked["schema"]["name"], "since": "2999-01-01T00:00"}
    assert event_id not in dashboard.get("/dashboard/events", params=later).text
    page = dashboard.get(f"/dashboard/events/{event_id}")
    assert page.status_code == 200 and tracked["distribution"]["name"] in page.text
    assert dashboard.get("/dashboard/events/event_nope").status_code == 404
