"""``sendout import-codes``: a CSV file of codes into a campaign of a running server's database."""

from __future__ import annotations

from pathlib import Path

import httpx

from conftest import unique
from support.cli import sendout
from support.promotions import coupons, ok
from support.server import ServerProcess


def test_import_codes_adds_new_codes_and_skips_known_ones(
    server: ServerProcess, api: httpx.Client, tmp_path: Path
) -> None:
    campaign = coupons(api, 0)
    prefix = unique("IMP")
    csv_file = tmp_path / "codes.csv"
    csv_file.write_text("code\n" + "".join(f"{prefix}-{i},extra\n" for i in range(25)))
    env = {"SENDOUT_DATABASE_URL": server.env()["SENDOUT_DATABASE_URL"]}

    first = sendout("import-codes", campaign["name"], str(csv_file), env=env)
    assert first.returncode == 0, first.stderr
    assert "imported 25 code(s); 0 already existed" in first.stdout
    again = sendout("import-codes", campaign["id"], str(csv_file), env=env)
    assert "imported 0 code(s); 25 already existed" in again.stdout

    listed = ok(api.get("/v1/vouchers", params={"campaign": campaign["id"], "limit": 100}))
    assert sorted(v["code"] for v in listed["vouchers"]) == sorted(
        f"{prefix}-{i}" for i in range(25)
    )
    assert ok(api.get(f"/v1/campaigns/{campaign['id']}"))["vouchers_count"] == 25
    published = ok(
        api.post(
            "/v1/publications",
            json={"campaign": campaign["id"], "customer": {"source_id": unique("c")}},
        )
    )
    assert published["voucher"]["code"].startswith(prefix)


def test_a_bad_file_or_campaign_imports_nothing(
    server: ServerProcess, api: httpx.Client, tmp_path: Path
) -> None:
    campaign = coupons(api, 0)
    bad = tmp_path / "bad.csv"
    bad.write_text("GOOD-1\n\x07\n")
    env = {"SENDOUT_DATABASE_URL": server.env()["SENDOUT_DATABASE_URL"]}
    refused = sendout("import-codes", campaign["id"], str(bad), env=env)
    assert refused.returncode == 2 and "line 2" in refused.stderr
    good = tmp_path / "good.csv"
    good.write_text("GOOD-1\n")
    unknown = sendout("import-codes", "camp_nope", str(good), env=env)
    assert unknown.returncode == 2 and "camp_nope" in unknown.stderr
    assert ok(api.get(f"/v1/campaigns/{campaign['id']}"))["vouchers_count"] == 0
