"""A publishing client in its own process: ``python publisher.py DATABASE_URL CAMPAIGN N TAG``.

Opens the store, prints ``ready``, waits for a line on stdin (so several start together),
publishes one code of ``CAMPAIGN`` to each of ``N`` new customers ``TAG-0`` … ``TAG-(N-1)`` (a
refusal, the pool being empty, is counted, not fatal) and prints ``{"codes": [...],
"publications": [...], "refused": n}`` as one JSON line.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from sendout.bootstrap import make_storage
from sendout.errors import InvalidInput
from sendout.logs import configure_logging
from sendout.pipeline.publish import publish_to_customer
from sendout.promotions.publishing import PublishRequest
from sendout.promotions.records import Campaign, Publication
from sendout.records import Customer, CustomerFields
from sendout.settings import Settings
from sendout.storage.base import CustomerRef

NOW = "2026-01-01T00:00:00.000Z"


def render(publication: Publication, campaign: Campaign, customer: Customer) -> bytes:
    codes = [v.code for v in publication.vouchers]
    return json.dumps({"id": publication.id, "codes": codes}).encode()


async def publish_all(url: str, campaign: str, count: int, tag: str) -> dict[str, Any]:
    storage = make_storage(Settings.from_env({}, database_url=url, db_pool_size=2))
    await storage.open()
    out: dict[str, Any] = {"codes": [], "publications": [], "refused": 0}
    try:
        print("ready", flush=True)
        await asyncio.to_thread(sys.stdin.readline)
        for i in range(count):
            request = PublishRequest(customer_id="", campaign=campaign)
            ref = CustomerRef(source_id=f"{tag}-{i}")
            try:
                body, _ = await publish_to_customer(
                    storage, "proj_1", ref, CustomerFields(), request, NOW, render
                )
            except InvalidInput as refusal:
                if refusal.key != "no_voucher_suitable_for_publication":
                    raise
                out["refused"] += 1
                continue
            published = json.loads(body)
            out["publications"].append(published["id"])
            out["codes"] += published["codes"]
        return out
    finally:
        await storage.close()


if __name__ == "__main__":
    configure_logging("warning", "console")  # on stderr: stdout carries the protocol
    url, campaign, count, tag = sys.argv[1:5]
    print(json.dumps(asyncio.run(publish_all(url, campaign, int(count), tag))))
