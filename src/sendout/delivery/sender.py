"""One HTTP attempt of one webhook: signed, POSTed by the webhook client, and told as a result
that never raises for anything the receiver or the network does."""

from __future__ import annotations

import asyncio
import ssl
import time
from dataclasses import dataclass

from sendout import __version__
from sendout.delivery.addresses import AddressPolicy
from sendout.delivery.guard import BlockedDestination, GuardedResolver
from sendout.delivery.http_client import HttpClient
from sendout.delivery.http_connection import EXCERPT_BYTES, HttpError
from sendout.delivery.signer import signature_headers
from sendout.records import ClaimedDelivery

__all__ = ["EXCERPT_BYTES", "AttemptResult", "Sender", "new_sender"]

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

    def __init__(self, client: HttpClient, timeout: float) -> None:
        self._client = client
        self._timeout = timeout

    async def close(self) -> None:
        await self._client.close()

    async def attempt(self, delivery: ClaimedDelivery, timestamp: int) -> AttemptResult:
        headers = dict(delivery.headers)
        headers.update(signature_headers(delivery.keys, delivery.id, timestamp, delivery.body))
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self._timeout):
                response = await self._client.post(delivery.url, headers, delivery.body)
        except TimeoutError:
            return _failed(started, f"timeout: no response within {self._timeout:g} s", True)
        except BlockedDestination as exc:
            return _failed(started, f"blocked destination: {exc}")
        except HttpError as exc:
            return _failed(started, f"{exc.kind}: {exc}")
        except (OSError, ValueError) as exc:
            return _failed(started, f"{type(exc).__name__}: {exc}")
        return AttemptResult(
            status_code=response.status,
            latency_ms=_since(started),
            error=None,
            response_excerpt=response.excerpt.decode("utf-8", errors="replace"),
            retry_after=response.retry_after,
        )


def _failed(started: float, error: str, timed_out: bool = False) -> AttemptResult:
    return AttemptResult(None, _since(started), error, None, timed_out=timed_out)


def _since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)


def new_sender(
    concurrency: int, timeout: float, policy: AddressPolicy, tls: ssl.SSLContext | None = None
) -> Sender:
    """A sender keeping up to ``concurrency`` idle connections per destination; ``tls`` is the
    context HTTPS receivers are verified with (the system's trusted CAs by default)."""
    fixed = {"User-Agent": USER_AGENT, "Accept": "*/*"}
    client = HttpClient(GuardedResolver(policy), fixed, tls=tls, max_idle=concurrency)
    return Sender(client, timeout)
