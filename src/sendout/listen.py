"""``sendout listen``: follow a distribution's stream on a sendout server and forward each
webhook, exact body and headers, to a local URL, printing one line per webhook.

It reconnects when the stream ends or breaks (sending ``Last-Event-ID``, so the server says how
many webhooks went by meanwhile). ``--fail-with CODE`` counts every local answer as ``CODE``
and sends the webhook once more a second later, with the same ``webhook-id``, as sendout's
retry would: a receiver's handling of redeliveries can be tried locally.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterable, AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiohttp
import orjson

__all__ = ["Listen", "listen", "sse_events"]

_HOP_BY_HOP = {"content-length", "host", "connection", "transfer-encoding"}
_RECONNECT_FIRST, _RECONNECT_MOST = 0.5, 10.0
_RETRY_AFTER = 1.0


@dataclass(frozen=True, slots=True)
class Listen:
    url: str  # the sendout server
    distribution_id: str
    forward_to: str
    app_id: str
    app_token: str
    fail_with: int | None = None


async def sse_events(lines: AsyncIterable[bytes]) -> AsyncIterator[tuple[str, str, str | None]]:
    """``(event, data, id)`` of each server-sent event (comments skipped)."""
    kind, event_id = "message", None
    data: list[str] = []
    async for raw in lines:
        line = raw.decode().rstrip("\r\n")
        if not line:
            if data:
                yield kind, "\n".join(data), event_id
            kind, data, event_id = "message", [], None
        elif line.startswith(":"):
            continue
        else:
            field, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if field == "event":
                kind = value
            elif field == "data":
                data.append(value)
            elif field == "id":
                event_id = value


async def listen(options: Listen, say: Callable[[str], None], *, once: bool = False) -> None:
    """Follow the stream until cancelled (``once``: until the first stream ends)."""
    last: str | None = None
    delay = _RECONNECT_FIRST
    stream_url = f"{options.url.rstrip('/')}/v1/distributions/{options.distribution_id}/stream"
    keys = {"X-App-Id": options.app_id, "X-App-Token": options.app_token}
    timeout = aiohttp.ClientTimeout(total=None, sock_read=60)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        while True:
            headers = {**keys, **({"Last-Event-ID": last} if last else {})}
            try:
                async with session.get(stream_url, headers=headers) as response:
                    if response.status != 200:
                        raise SystemExit(
                            f"sendout listen: {response.status} {await response.text()}"
                        )
                    delay = _RECONNECT_FIRST
                    async for kind, data, event_id in sse_events(response.content):
                        last = event_id or last
                        await _handle(session, options, kind, orjson.loads(data), say)
            except (TimeoutError, aiohttp.ClientError) as exc:
                say(f"stream lost ({exc.__class__.__name__}); reconnecting in {delay:g} s")
            if once:
                return
            await asyncio.sleep(delay)
            delay = min(_RECONNECT_MOST, delay * 2)


async def _handle(
    session: aiohttp.ClientSession,
    options: Listen,
    kind: str,
    data: dict[str, Any],
    say: Callable[[str], None],
) -> None:
    if kind == "ready":
        say(f"listening to {data['distribution_id']}; forwarding to {options.forward_to}")
    elif kind == "missed":
        if data["count"]:
            say(f"missed {data['count']} webhook(s) while disconnected (not forwarded)")
    elif kind == "dropped":
        say(f"fell more than {data['most']} webhooks behind: the server dropped the stream")
    elif kind == "delivery":
        await _forward(session, options, data, say, retry=False)
        if options.fail_with is not None:
            await asyncio.sleep(_RETRY_AFTER)
            await _forward(session, options, data, say, retry=True)


async def _forward(
    session: aiohttp.ClientSession,
    options: Listen,
    data: dict[str, Any],
    say: Callable[[str], None],
    *,
    retry: bool,
) -> None:
    headers = {k: v for k, v in data["headers"].items() if k.lower() not in _HOP_BY_HOP}
    started = time.perf_counter()
    try:
        async with session.post(
            options.forward_to, data=data["body"].encode(), headers=headers
        ) as answer:
            await answer.read()
            outcome = str(answer.status)
    except aiohttp.ClientError as exc:
        outcome = f"error ({exc.__class__.__name__})"
    latency = (time.perf_counter() - started) * 1000
    note = ""
    if options.fail_with is not None and not retry:
        note = f"  counted as {options.fail_with}: sent again in {_RETRY_AFTER:g} s"
    elif retry:
        note = "  (the retry)"
    stamp = datetime.now().strftime("%H:%M:%S.%f")[:-3]
    say(f"{stamp}  {data['id']}  {data['event_name']}  -> {outcome} in {latency:.1f} ms{note}")
