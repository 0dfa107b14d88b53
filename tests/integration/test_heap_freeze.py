"""``sendout serve`` leaves what is alive once it has started out of the garbage collector's full
passes (:mod:`sendout.heap`), in the API process and in its worker child alike; each says so at
debug level."""

from __future__ import annotations

import re
import time
from pathlib import Path

from support.server import ServerProcess

# The console renderer sorts the fields: objects before process. A line still being written
# does not match yet, and is read whole on a later poll.
_FROZEN = re.compile(r"sendout\.heap_frozen\s+objects=(\d+)\s+process=(\w+)")


def _frozen(log: str) -> dict[str, int]:
    """Objects frozen per process, from the log lines."""
    return {process: int(objects) for objects, process in _FROZEN.findall(log)}


def test_the_api_and_its_worker_child_each_freeze_what_they_started_with(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path, env_overrides={"SENDOUT_LOG_LEVEL": "debug"}).start()
    try:
        deadline = time.monotonic() + 20
        while set(_frozen(server.log_text())) != {"api", "worker"}:
            assert time.monotonic() < deadline, server.log_text()
            time.sleep(0.05)
    finally:
        server.stop()
    frozen = _frozen(server.log_text())
    # Imported FastAPI, pydantic and sendout: tens of thousands of objects at the least.
    assert frozen["api"] > 10_000 and frozen["worker"] > 10_000, frozen
