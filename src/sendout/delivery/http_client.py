"""The webhook POST: an HTTP/1.1 request on a kept-alive connection, opened only to an address
the SSRF guard allows.

Built for this one job instead of a general client: a URL is parsed once, the request is one
``bytes`` written in one call, and an idle connection per destination is reused (for up to
``IDLE_SECONDS``). Redirects are not followed: a 3xx is the answer. A request on a reused
connection that the receiver had closed meanwhile (nothing of an answer arrived) is sent once
more on a new connection, as browsers and HTTP libraries do.
"""

from __future__ import annotations

import asyncio
import os
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from sendout.delivery.guard import BlockedDestination, GuardedResolver
from sendout.delivery.http_connection import Connection, ConnectionLost, HttpError, Response

__all__ = ["ConnectError", "HttpClient", "Target", "target_of"]

IDLE_SECONDS = 15.0  # an idle connection older than this is closed, not reused
_DEFAULT_PORTS = {"http": 80, "https": 443}
_SWEEP_EVERY = 1024  # connections given back between two sweeps of the idle ones


class ConnectError(HttpError):
    kind = "connect error"


@dataclass(frozen=True, slots=True)
class Target:
    """Where a URL's requests go, and the start of each request's head."""

    tls: bool
    host: str
    port: int
    request_line: bytes  # ``POST /path?query HTTP/1.1`` and the Host header

    @property
    def key(self) -> tuple[bool, str, int]:
        return self.tls, self.host, self.port


def target_of(url: str) -> Target:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise ValueError(f"not an http(s) URL with a host: {url[:100]!r}")
    port = parts.port or _DEFAULT_PORTS[scheme]
    host = parts.hostname
    shown = f"[{host}]" if ":" in host else host
    authority = shown if port == _DEFAULT_PORTS[scheme] else f"{shown}:{port}"
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    line = f"POST {path} HTTP/1.1\r\nHost: {authority}\r\n"
    return Target(scheme == "https", host, port, line.encode("ascii"))


class HttpClient:
    """POSTs to webhook URLs over pooled connections; ``close`` closes them all."""

    def __init__(
        self,
        resolver: GuardedResolver,
        fixed_headers: dict[str, str],  # sent unless a request has its own (lowercase names)
        tls: ssl.SSLContext | None = None,
        max_idle: int = 256,
    ) -> None:
        self._resolver = resolver
        self._tls = tls or ssl.create_default_context()
        self._fixed = {k.lower(): v for k, v in fixed_headers.items()}
        self._targets: dict[str, Target] = {}
        self._idle: dict[tuple[bool, str, int], list[Connection]] = {}
        self._max_idle = max_idle
        self._returns = 0

    def target(self, url: str) -> Target:
        found = self._targets.get(url)
        if found is None:
            if len(self._targets) > 4096:
                self._targets.clear()
            found = self._targets[url] = target_of(url)
        return found

    async def post(self, url: str, headers: dict[str, str], body: bytes) -> Response:
        target = self.target(url)
        request = self._request(target, headers, body)
        connection = self._reused(target)
        if connection is not None:
            try:
                return await self._exchange(target, connection, request)
            except ConnectionLost:
                if connection.answered:
                    raise
        return await self._exchange(target, await self._connect(target), request)

    async def close(self) -> None:
        for connections in self._idle.values():
            for connection in connections:
                connection.close()
        self._idle.clear()
        await asyncio.sleep(0)  # let the transports finish closing

    def _request(self, target: Target, headers: dict[str, str], body: bytes) -> bytes:
        block = "".join([f"{k}: {v}\r\n" for k, v in headers.items()])
        if block.count("\n") != len(headers) or block.count("\r") != len(headers):
            raise ValueError("a header name or value holds a line break")
        fixed = "".join([f"{k}: {v}\r\n" for k, v in self._fixed.items() if k not in headers])
        head = f"{fixed}{block}content-length: {len(body)}\r\n\r\n"
        return b"".join((target.request_line, head.encode("latin-1"), body))

    async def _exchange(self, target: Target, connection: Connection, request: bytes) -> Response:
        response = await connection.exchange(request)
        if connection.reusable:
            self._give_back(target, connection)
        return response

    def _reused(self, target: Target) -> Connection | None:
        idle = self._idle.get(target.key)
        oldest = time.monotonic() - IDLE_SECONDS
        while idle:
            connection = idle.pop()
            if connection.usable(oldest):
                return connection
            connection.close()
        return None

    def _give_back(self, target: Target, connection: Connection) -> None:
        self._returns += 1
        if self._returns % _SWEEP_EVERY == 0:
            self._sweep()
        idle = self._idle.setdefault(target.key, [])
        if len(idle) >= self._max_idle:
            connection.close()
            return
        connection.idle_since = time.monotonic()
        idle.append(connection)

    def _sweep(self) -> None:
        """Forget idle connections the receiver closed or that idled too long, for destinations
        no webhook went to since."""
        oldest = time.monotonic() - IDLE_SECONDS
        for key, idle in list(self._idle.items()):
            for connection in idle:
                if not connection.usable(oldest):
                    connection.close()
            idle[:] = [c for c in idle if not c.closed]
            if not idle:
                del self._idle[key]

    async def _connect(self, target: Target) -> Connection:
        try:
            addresses = await self._resolver.resolve(target.host, target.port)
        except BlockedDestination:
            raise
        except OSError as exc:
            raise ConnectError(f"cannot resolve {target.host}: {exc.strerror or exc}") from None
        loop = asyncio.get_running_loop()
        tls = self._tls if target.tls else None
        failures: list[str] = []
        for address in addresses:
            try:
                _, connection = await loop.create_connection(
                    Connection,
                    address,
                    target.port,
                    ssl=tls,
                    server_hostname=target.host if tls else None,
                )
                return connection
            except ssl.SSLError as exc:
                detail = getattr(exc, "verify_message", None)
                failures.append(f"TLS: {exc.reason or exc}" + (f" ({detail})" if detail else ""))
            except OSError as exc:
                failures.append(os.strerror(exc.errno) if exc.errno else str(exc))
        shown = f"[{target.host}]" if ":" in target.host else target.host
        reasons = "; ".join(dict.fromkeys(failures))
        raise ConnectError(f"cannot connect to {shown}:{target.port}: {reasons}")
