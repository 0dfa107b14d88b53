"""One HTTP/1.1 connection to a receiver: send a request, read its response.

The response is read as far as the attempt needs: its status, ``Retry-After``, and the first
``EXCERPT_BYTES`` of the body. A body of at most ``DRAIN_BYTES`` is read to its end so the
connection can carry the next request; a larger one, or one that ends only when the receiver
closes, leaves the connection closed instead. Interim (1xx) responses are skipped.
"""

from __future__ import annotations

import asyncio
from typing import cast

__all__ = [
    "DRAIN_BYTES",
    "EXCERPT_BYTES",
    "Connection",
    "ConnectionLost",
    "HttpError",
    "InvalidResponse",
    "Response",
]

EXCERPT_BYTES = 4096  # kept per attempt; well under the 64 KB cap
DRAIN_BYTES = 65536  # a body up to this is read to its end and the connection kept
_MAX_HEAD = 65536
_MAX_HEADERS = 100
_NO_BODY = frozenset({204, 304})
_HEX_DIGITS = b"0123456789abcdefABCDEF"


class HttpError(Exception):
    """The receiver's side of an exchange went wrong; ``kind`` heads the recorded error."""

    kind = "http error"


class ConnectionLost(HttpError):
    kind = "connection lost"


class InvalidResponse(HttpError):
    kind = "invalid response"


class Response:
    __slots__ = ("excerpt", "retry_after", "status")

    def __init__(self, status: int, excerpt: bytes, retry_after: str | None) -> None:
        self.status = status
        self.excerpt = excerpt
        self.retry_after = retry_after


class Connection(asyncio.Protocol):
    """A transport's bytes as a buffer the reader takes from; ``reusable`` once a response was
    read to its end and neither side asked to close."""

    def __init__(self) -> None:
        self._transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._received = 0  # bytes of an answer since the request was sent
        self._waiter: asyncio.Future[None] | None = None
        self.closed = False
        self.reusable = False
        self.idle_since = 0.0

    # --- asyncio.Protocol ---------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports (the API process's loop, inline mode) are not asyncio.Transport
        # subclasses; they have the same methods.
        self._transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        self._received += len(data)
        self._wake()

    def eof_received(self) -> bool:
        self.closed = True
        self._wake()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # --- the exchange -------------------------------------------------------------------------

    def close(self) -> None:
        self.closed = True
        self.reusable = False
        if self._transport is not None:
            self._transport.close()

    async def exchange(self, request: bytes) -> Response:
        """Send ``request``; read the response (the connection is closed if it raised)."""
        assert self._transport is not None
        self.reusable = False
        self._received = len(self._buffer)
        try:
            self._transport.write(request)
            return await self._read_response()
        except BaseException:
            self.close()
            raise

    def usable(self, oldest_idle: float) -> bool:
        """Open, and idle since after ``oldest_idle`` (``time.monotonic()``)."""
        return not self.closed and self.idle_since > oldest_idle

    @property
    def answered(self) -> bool:
        """Whether any byte of a response has arrived since the request was sent."""
        return self._received > 0

    async def _more(self) -> None:
        if self.closed:
            raise ConnectionLost(
                "the receiver closed the connection before it answered"
                if not self.answered
                else "the receiver closed the connection in the middle of its answer"
            )
        self._waiter = asyncio.get_running_loop().create_future()
        try:
            await self._waiter
        finally:
            self._waiter = None

    async def _read_response(self) -> Response:
        while True:
            head = await self._read_head()
            version, status, headers = parse_head(head)
            if status >= 200:
                break
        keep = version == "HTTP/1.1" and "close" not in headers.get("connection", "").lower()
        if status in _NO_BODY:
            excerpt, complete = b"", True
        elif "chunked" in headers.get("transfer-encoding", "").lower():
            excerpt, complete = await self._read_chunked()
        elif "content-length" in headers:
            excerpt, complete = await self._read_sized(_content_length(headers["content-length"]))
        else:
            excerpt, complete = await self._read_until_close()
        self.reusable = keep and complete and not self.closed
        if not self.reusable:
            self.close()
        return Response(status, excerpt, headers.get("retry-after"))

    async def _read_head(self) -> bytes:
        while (end := self._buffer.find(b"\r\n\r\n")) < 0:
            if len(self._buffer) > _MAX_HEAD:
                raise InvalidResponse(f"the status line and headers exceed {_MAX_HEAD} bytes")
            await self._more()
        head = bytes(self._buffer[:end])
        del self._buffer[: end + 4]
        return head

    async def _read_sized(self, length: int) -> tuple[bytes, bool]:
        wanted = length if length <= DRAIN_BYTES else EXCERPT_BYTES
        while len(self._buffer) < wanted:
            await self._more()
        excerpt = bytes(self._buffer[: min(wanted, EXCERPT_BYTES)])
        del self._buffer[:wanted]
        return excerpt, wanted == length

    async def _read_until_close(self) -> tuple[bytes, bool]:
        while len(self._buffer) < EXCERPT_BYTES and not self.closed:
            await self._more()
        return bytes(self._buffer[:EXCERPT_BYTES]), False

    async def _read_chunked(self) -> tuple[bytes, bool]:
        body = bytearray()
        while True:
            size = _chunk_size(await self._read_line())
            if size == 0:
                while await self._read_line():  # trailers, up to the empty line
                    pass
                return bytes(body[:EXCERPT_BYTES]), True
            if len(body) + size > DRAIN_BYTES:  # too long to read to its end: the excerpt only
                wanted = max(0, min(size, EXCERPT_BYTES - len(body)))
                while len(self._buffer) < wanted:
                    await self._more()
                body += self._buffer[:wanted]
                break
            while len(self._buffer) < size + 2:
                await self._more()
            body += self._buffer[:size]
            del self._buffer[: size + 2]
        return bytes(body[:EXCERPT_BYTES]), False

    async def _read_line(self) -> bytes:
        while (end := self._buffer.find(b"\r\n")) < 0:
            if len(self._buffer) > _MAX_HEAD:
                raise InvalidResponse("a chunk size line is too long")
            await self._more()
        line = bytes(self._buffer[:end])
        del self._buffer[: end + 2]
        return line


def parse_head(head: bytes) -> tuple[str, int, dict[str, str]]:
    """The version, the status code and the headers (names lowercased; repeated ones joined)."""
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not _is_status(parts[1]):
        raise InvalidResponse(f"not an HTTP/1.x status line: {lines[0][:100]!r}")
    if len(lines) > _MAX_HEADERS + 1:
        raise InvalidResponse(f"more than {_MAX_HEADERS} headers")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon or not name or name != name.strip():
            raise InvalidResponse(f"not a header line: {line[:100]!r}")
        key, value = name.lower(), value.strip()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return parts[0], int(parts[1]), headers


def _is_status(text: str) -> bool:
    return len(text) == 3 and text.isascii() and text.isdigit() and text[0] != "0"


def _content_length(text: str) -> int:
    values = {v.strip() for v in text.split(",")}
    if len(values) != 1 or not (value := values.pop()).isascii() or not value.isdigit():
        raise InvalidResponse(f"not a Content-Length: {text[:40]!r}")
    return int(value)


def _chunk_size(line: bytes) -> int:
    text = line.split(b";", 1)[0].strip()
    if not text or len(text) > 16 or text.strip(_HEX_DIGITS):
        raise InvalidResponse(f"not a chunk size: {line[:40]!r}")
    return int(text, 16)
