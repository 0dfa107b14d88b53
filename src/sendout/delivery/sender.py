"""One HTTP attempt of one webhook, over a shared aiohttp session."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import aiohttp

from sendout import __version__
from sendout.delivery.addresses import AddressPolicy
from sendout.delivery.guard import BlockedDestination, GuardedResolver
from sendout.delivery.signer import signature_headers
from sendout.records import ClaimedDelivery

__all__ = ["EXCERPT_BYTES", "AttemptResult", "Sender", "new_sender"]

EXCERPT_BYTES = 4096  # kept per attempt; well under the 64 KB cap
USER_AGENT = f"sendout/{__version__} (webhooks)"


@dataclass(frozen=True, slots=True)
class AttemptResult:
    status_code: int | None
    latency_ms: float
    error: str | None
    response_excerpt: str | None
    retry_after: str | None = None
    timed_out: bool = False

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def throttled(self) -> bool:
        """A timeout or a 429: the receiver is overwhelmed, so wait at least a minute."""
        return self.timed_out or self.status_code == 429


class Sender:
    """Signs and POSTs a delivery; never raises for anything the receiver or network does."""

    def __init__(
        self, session: aiohttp.ClientSession, resolver: GuardedResolver, timeout: float
    ) -> None:
        self._session = session
        self._resolver = resolver
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    async def close(self) -> None:
        await self._session.close()

    async def attempt(self, delivery: ClaimedDelivery, timestamp: int) -> AttemptResult:
        headers = dict(delivery.headers)
        headers.update(signature_headers(delivery.keys, delivery.id, timestamp, delivery.body))
        started = time.perf_counter()
        try:
            self._resolver.check_literal(urlsplit(delivery.url).hostname or "")
            return await self._post(delivery, headers, started)
        except TimeoutError:
            return _failed(started, f"timeout: no response within {self._timeout.total:g} s", True)
        except BlockedDestination as exc:
            return _failed(started, f"blocked destination: {exc}")
        except aiohttp.ClientConnectorError as exc:
            blocked = isinstance(exc.os_error, BlockedDestination)
            prefix = "blocked destination" if blocked else type(exc).__name__
            return _failed(started, f"{prefix}: {exc.os_error if blocked else exc}")
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            return _failed(started, f"{type(exc).__name__}: {exc}")
        except asyncio.CancelledError:
            raise

    async def _post(
        self, delivery: ClaimedDelivery, headers: dict[str, str], started: float
    ) -> AttemptResult:
        async with self._session.post(
            delivery.url,
            data=delivery.body,
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
                retry_after=response.headers.get("retry-after"),
            )


def _failed(started: float, error: str, timed_out: bool = False) -> AttemptResult:
    return AttemptResult(None, _since(started), error, None, timed_out=timed_out)


def _since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)


def new_sender(concurrency: int, timeout: float, policy: AddressPolicy) -> Sender:
    resolver = GuardedResolver(policy)
    connector = aiohttp.TCPConnector(limit=concurrency, ttl_dns_cache=60, resolver=resolver)
    session = aiohttp.ClientSession(
        connector=connector,
        headers={"user-agent": USER_AGENT},
        auto_decompress=False,
        skip_auto_headers=("Accept-Encoding",),
    )
    return Sender(session, resolver, timeout)
