"""The HTTP/1.1 connection: uvicorn's httptools protocol, answering what it refuses before the app
in Voucherify's error object, and bounding a request's head (request line and headers).

uvicorn refuses an unparsable request (a header holding a control character, a malformed
request line, a request line too long for the parser) with a ``text/plain`` 400; sendout answers
the same 400 as JSON with ``key: invalid_request``. uvicorn sets no bound on the size of the
headers; sendout refuses a head over :data:`MAX_HEAD_BYTES` with ``431`` before reading more.
"""

from __future__ import annotations

from typing import Any

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from sendout import ids
from sendout.errors import SendoutError
from sendout.jsonutil import dumps

__all__ = ["MAX_HEAD_BYTES", "SendoutHttpProtocol", "refusal_bytes"]

MAX_HEAD_BYTES = 64 * 1024


def refusal_bytes(error: SendoutError, default_headers: list[tuple[bytes, bytes]]) -> bytes:
    """A whole ``connection: close`` response carrying the error object."""
    rid = ids.request_id()
    body = dumps(error.body(rid))
    head = [STATUS_LINE[error.status], b"x-request-id: ", rid.encode("ascii"), b"\r\n"]
    for name, value in default_headers:
        head.extend([name, b": ", value, b"\r\n"])
    head.extend(
        [
            b"content-type: application/json\r\n",
            b"content-length: " + str(len(body)).encode("ascii") + b"\r\n",
            b"connection: close\r\n\r\n",
            body,
        ]
    )
    return b"".join(head)


class _HeadTooLarge(Exception):
    """Raised from a parser callback; httptools turns it into a parser error."""


class SendoutHttpProtocol(HttpToolsProtocol):
    """One client connection (pass as ``uvicorn.Config(http=...)``).

    The head is measured exactly as the parser hands it over (the URL, each header's name and
    value), so pipelined requests each get the whole limit. A head still incomplete after more
    than four times the limit has arrived (a header value that never ends) is refused too.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_bytes = 0
        self._in_head = False
        self._unfinished_bytes = 0
        self._too_large = False

    def on_message_begin(self) -> None:
        self._head_bytes = 0
        self._in_head = True
        super().on_message_begin()

    def on_url(self, url: bytes) -> None:
        self._grow(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._grow(len(name) + len(value) + 4)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head = False
        super().on_headers_complete()

    def _grow(self, size: int) -> None:
        self._head_bytes += size
        if self._head_bytes > MAX_HEAD_BYTES:
            self._too_large = True
            raise _HeadTooLarge

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.transport.is_closing():
            return
        self._unfinished_bytes = self._unfinished_bytes + len(data) if self._in_head else 0
        if self._unfinished_bytes > 4 * MAX_HEAD_BYTES:
            self._refuse_head()

    def send_400_response(self, msg: str) -> None:
        if self._too_large:
            self._refuse_head()
            return
        self._refuse(
            SendoutError(
                "The HTTP request could not be parsed: a malformed request line, a control"
                " character in a header, or a request line too long",
                key="invalid_request",
                message="Invalid request",
            )
        )

    def _refuse_head(self) -> None:
        self._refuse(
            SendoutError(
                f"The request line and headers exceed {MAX_HEAD_BYTES // 1024} KB",
                key="request_header_fields_too_large",
                message="Request header fields too large",
                status=431,
            )
        )

    def _refuse(self, error: SendoutError) -> None:
        self.transport.write(refusal_bytes(error, self.server_state.default_headers))
        self.transport.close()
