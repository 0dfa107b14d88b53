"""Async actions over HTTP, as Voucherify answers them: adding many codes and deleting a campaign
are ``202`` with an ``async_action_id`` the client polls, read with the official SDK too. The
generation is the worker's: an API process without one leaves it enqueued (the campaign says
``IN_PROGRESS``) until ``sendout worker`` starts and carries it out. Both backends."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import voucherify

from conftest import unique
from support.promotions import coupons, ok
from support.server import APP_ID, APP_TOKEN, ServerProcess

APP = {"X-App-Id": APP_ID, "X-App-Token": APP_TOKEN}


def poll(api: httpx.Client, action_id: str, until: str, timeout: float = 30.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        action = ok(api.get(f"/v1/async-actions/{action_id}"))
        if action["status"] == until:
            return dict(action)
        assert time.monotonic() < deadline, action
        time.sleep(0.1)


def test_many_codes_are_generated_by_the_worker_in_the_background(
    tmp_path: Path, database_url: str
) -> None:
    server = ServerProcess(tmp_path, database_url=database_url).start("--no-worker")
    api = httpx.Client(base_url=server.base_url, headers=APP, timeout=30)
    worker = None
    try:
        campaign = coupons(api, 1)
        answer = api.post(
            f"/v1/campaigns/{campaign['id']}/vouchers", params={"vouchers_count": 12_000}
        )
        assert answer.status_code == 202, answer.text
        action_id = answer.json()["async_action_id"]
        assert action_id.startswith("aa_") and list(answer.json()) == ["async_action_id"]
        waiting = ok(api.get(f"/v1/async-actions/{action_id}"))
        assert (waiting["status"], waiting["progress"], waiting["type"]) == (
            "ENQUEUED",
            0,
            "CAMPAIGN.VOUCHERS_GENERATE",
        )
        shown = ok(api.get(f"/v1/campaigns/{campaign['id']}"))
        assert shown["vouchers_generation_status"] == "IN_PROGRESS"
        assert (
            ok(api.get("/v1/campaigns", params={"limit": 100}))["campaigns"][0][
                "vouchers_generation_status"
            ]
            == "IN_PROGRESS"
        )

        worker = subprocess.Popen(
            [sys.executable, "-m", "sendout", "worker"],
            env=server.env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        done = poll(api, action_id, "DONE")
        assert (done["progress"], done["operation_status"]) == (100, "SUCCESS")
        assert done["result"] == {
            "campaign_id": campaign["id"],
            "vouchers_generated": 12_000,
            "vouchers_requested": 12_000,
        }
        shown = ok(api.get(f"/v1/campaigns/{campaign['id']}"))
        assert (shown["vouchers_count"], shown["vouchers_generation_status"]) == (12_001, "DONE")
        listed = ok(api.get("/v1/vouchers", params={"campaign": campaign["id"], "limit": 1}))
        assert listed["total"] == 12_001
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(20)
        api.close()
        server.stop()


def test_the_sdk_reads_the_async_answers(server: ServerProcess, api: httpx.Client) -> None:
    config = voucherify.Configuration(
        host=server.base_url, api_key={"X-App-Id": APP_ID, "X-App-Token": APP_TOKEN}
    )
    campaign = coupons(api, 1)
    with voucherify.ApiClient(config) as client:
        campaigns = voucherify.CampaignsApi(client)
        actions = voucherify.AsyncActionsApi(client)
        added = campaigns.add_vouchers_to_campaign(campaign["id"], vouchers_count=3)
        assert added.async_action_id is not None
        poll(api, added.async_action_id, "DONE")
        action = actions.get_async_action(added.async_action_id)
        assert (action.status, action.progress, action.object) == ("DONE", 100, "async_action")
        assert action.result == {
            "campaign_id": campaign["id"],
            "vouchers_generated": 3,
            "vouchers_requested": 3,
        }
        gone = campaigns.delete_campaign(campaign["id"])
        assert gone.async_action_id is not None
        deleted = actions.get_async_action(gone.async_action_id)
        assert (deleted.type, deleted.status) == ("CAMPAIGN.DELETE", "DONE")
        listed = actions.list_async_actions(limit=10)
        assert gone.async_action_id in [a.id for a in listed.async_actions or []]
    assert api.get(f"/v1/campaigns/{campaign['id']}").status_code == 404


def test_what_can_be_refused_at_once_is_refused_and_nothing_is_enqueued(
    api: httpx.Client,
) -> None:
    before = ok(api.get("/v1/async-actions", params={"limit": 1}))["total"]
    tiny = coupons(
        api,
        1,
        voucher={
            "type": "DISCOUNT_VOUCHER",
            "discount": {"type": "PERCENT", "percent_off": 5},
            "code_config": {"pattern": "T-#"},
        },
    )
    promo = ok(
        api.post(
            "/v1/campaigns",
            json={
                "name": unique("promo"),
                "campaign_type": "PROMOTION",
                "promotion": {"tiers": []},
            },
        )
    )
    for campaign_id, count, status, key in (
        ("camp_nope", 5, 404, "not_found"),
        (tiny["id"], 100, 400, "invalid_code_config"),
        (promo["id"], 5, 400, "invalid_campaign_type"),
        (tiny["id"], 0, 400, "invalid_query_params"),
    ):
        refused = api.post(
            f"/v1/campaigns/{campaign_id}/vouchers", params={"vouchers_count": count}
        )
        assert refused.status_code == status and refused.json()["key"] == key, refused.text
    assert ok(api.get("/v1/async-actions", params={"limit": 1}))["total"] == before
    assert api.get("/v1/async-actions/aa_nope").json()["key"] == "not_found"
