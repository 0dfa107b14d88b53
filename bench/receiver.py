"""Loopback webhook receiver for the benchmarks: answers 200 and records each arrival.

Runs in its own process (``run`` is the process target). ``POST /hook`` records
``(envelope id, arrival time.time(), data.event.metadata.sent_at)``; the control routes
``GET /_count`` (distinct ids received) and ``POST /_take`` (hand over and forget the
records) let the orchestrator read them back over the same loopback port.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import time
from multiprocessing.connection import Connection
from typing import Any

import orjson
from aiohttp import web

from procs import new_loop_runner

__all__ = ["Recorder", "make_app", "run"]

Record = tuple[str | None, float, float | None]


def _sent_at(doc: Any) -> float | None:
    """``data.event.metadata.sent_at`` of a webhook, or ``metadata.sent_at`` of a raw event."""
    if not isinstance(doc, dict):
        return None
    data = doc.get("data")
    holder = data.get("event", {}) if isinstance(data, dict) else doc
    metadata = holder.get("metadata") if isinstance(holder, dict) else None
    value = metadata.get("sent_at") if isinstance(metadata, dict) else None
    return float(value) if isinstance(value, int | float) else None


class Recorder:
    """What arrived since the last ``take``."""

    def __init__(self) -> None:
        self.records: list[Record] = []
        self.ids: set[str] = set()
        self.anonymous = 0

    async def hook(self, request: web.Request) -> web.Response:
        body = await request.read()
        arrived = time.time()
        try:
            doc = orjson.loads(body)
        except orjson.JSONDecodeError:
            return web.Response(status=400)
        webhook_id = doc.get("id") if isinstance(doc, dict) else None
        if isinstance(webhook_id, str):
            self.ids.add(webhook_id)
        else:
            webhook_id = None
            self.anonymous += 1
        self.records.append((webhook_id, arrived, _sent_at(doc)))
        return web.Response(status=200)

    async def count(self, _: web.Request) -> web.Response:
        return _json({"distinct": len(self.ids), "anonymous": self.anonymous})

    async def take(self, _: web.Request) -> web.Response:
        records, self.records = self.records, []
        self.ids = set()
        self.anonymous = 0
        return _json({"records": records, "cpu_seconds": time.process_time()})


def _json(value: Any) -> web.Response:
    return web.Response(body=orjson.dumps(value), content_type="application/json")


def make_app(recorder: Recorder) -> web.Application:
    app = web.Application(client_max_size=4 * 1024 * 1024)
    app.router.add_post("/hook", recorder.hook)
    app.router.add_get("/_count", recorder.count)
    app.router.add_post("/_take", recorder.take)
    return app


async def _serve(conn: Connection) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    runner = web.AppRunner(make_app(Recorder()), access_log=None, handle_signals=False)
    await runner.setup()
    await web.SockSite(runner, sock, backlog=1024).start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    conn.send(sock.getsockname()[1])
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def run(conn: Connection) -> None:
    """Process target: serve until SIGTERM/SIGINT; the bound port is sent over ``conn``."""
    with contextlib.suppress(KeyboardInterrupt), new_loop_runner() as runner:
        runner.run(_serve(conn))
