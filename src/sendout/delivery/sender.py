"""One HTTP attempt of one webhook, over a shared aiohttp session."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import aiohttp

from sendout import __version__
from sendout.delivery.signer import signature_headers
from sendout.records import ClaimedMessage

__all__ = ["EXCERPT_BYTES", "AttemptResult", "Sender", "new_session"]

EXCERPT_BYTES = 4096
USER_AGENT = f"sendout/{__version__} (webhooks)"


@dataclass(frozen=True, slots=True)
class AttemptResult:
    status_code: int | None
    latency_ms: float
    error: str | None
    response_excerpt: str | None

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def new_session(concurrency: int) -> aiohttp.ClientSession:
    connector = aiohttp.TCPConnector(limit=concurrency, ttl_dns_cache=300)
    return aiohttp.ClientSession(
        connector=connector,
        headers={"user-agent": USER_AGENT},
        auto_decompress=False,
        skip_auto_headers=("Accept-Encoding",),
    )


class Sender:
    """Signs and POSTs a message; never raises for anything the receiver or network does."""

    def __init__(self, session: aiohttp.ClientSession, timeout: float) -> None:
        self._session = session
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    async def close(self) -> None:
        await self._session.close()

    async def attempt(self, message: ClaimedMessage, timestamp: int) -> AttemptResult:
        headers = dict(message.headers)
        headers.update(
            signature_headers(message.webhook_secret, message.id, timestamp, message.body)
        )
        started = time.perf_counter()
        try:
            async with self._session.post(
                message.url,
                data=message.body,
                headers=headers,
                timeout=self._timeout,
                allow_redirects=False,
            ) as response:
                excerpt = await response.content.read(EXCERPT_BYTES)
                return AttemptResult(
                    status_code=response.status,
                    latency_ms=_since(started),
                    error=None,
                    response_excerpt=excerpt.decode("utf-8", errors="replace"),
                )
        except TimeoutError:
            error = f"timeout: no response within {self._timeout.total:g} s"
        except aiohttp.ClientError as exc:
            error = f"{type(exc).__name__}: {exc}"
        except (OSError, ValueError) as exc:
            error = f"{type(exc).__name__}: {exc}"
        except asyncio.CancelledError:
            raise
        return AttemptResult(None, _since(started), error, None)


def _since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)
