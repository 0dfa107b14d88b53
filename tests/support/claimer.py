"""A claiming worker in its own process: ``python claimer.py DATABASE_URL``.

Opens the store, prints ``ready``, waits for a line on stdin (so several start claiming together),
claims batches of 3 until none are due, and prints the claimed ids as one JSON list.
"""

from __future__ import annotations

import asyncio
import json
import sys

from sendout.bootstrap import make_storage
from sendout.logs import configure_logging
from sendout.settings import Settings

NOW_MS = 1_767_225_600_000


async def claim_all(url: str) -> list[str]:
    storage = make_storage(Settings.from_env({}, database_url=url, db_pool_size=2))
    await storage.open()
    try:
        print("ready", flush=True)
        await asyncio.to_thread(sys.stdin.readline)
        claimed: list[str] = []
        while batch := await storage.claim_due(NOW_MS, 3, 600_000, retries=False):
            claimed.extend(m.id for m in batch)
        return claimed
    finally:
        await storage.close()


if __name__ == "__main__":
    configure_logging("warning", "console")  # on stderr: stdout carries the protocol
    print(json.dumps(asyncio.run(claim_all(sys.argv[1]))))
