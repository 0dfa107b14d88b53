"""The webhook client against loopback servers that answer byte for byte as scripted: keep-alive,
framings of the answer, the receiver closing, timeouts, the SSRF guard, TLS. Each test runs on
asyncio's own event loop (the worker process) and on uvloop (the API process, ``inline`` mode)."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from sendout.delivery.addresses import AddressPolicy, parse_networks
from sendout.delivery.sender import AttemptResult, Sender, new_sender
from sendout.delivery.signer import SigningKeys
from sendout.records import ClaimedDelivery

pytestmark = pytest.mark.both_loops

LOOPBACK = AddressPolicy(parse_networks("127.0.0.0/8"))
BODY = b'{"id": "whs_1", "data": {}}'
OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

Reader = asyncio.StreamReader
Writer = asyncio.StreamWriter
Handler = Callable[["Script", Reader, Writer], Awaitable[None]]


@dataclass
class Script:
    """A server whose every connection runs ``handler``; it keeps what was asked."""

    handler: Handler
    connections: int = 0
    requests: list[tuple[bytes, bytes]] = field(default_factory=list)
    port: int = 0

    async def serve(self, reader: Reader, writer: Writer) -> None:
        self.connections += 1
        try:
            await self.handler(self, reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def request(self, reader: Reader) -> bytes:
        """Read one request; return its head (the body is kept in ``requests``)."""
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        self.requests.append((head, await reader.readexactly(length)))
        return head

    def url(self, path: str = "/hook", scheme: str = "http") -> str:
        return f"{scheme}://127.0.0.1:{self.port}{path}"


async def started(handler: Handler, tls: ssl.SSLContext | None = None) -> Script:
    script = Script(handler)
    server = await asyncio.start_server(script.serve, "127.0.0.1", 0, ssl=tls)
    script.port = server.sockets[0].getsockname()[1]
    _servers.append(server)
    return script


_servers: list[asyncio.Server] = []


@pytest.fixture(autouse=True)
async def _close_servers() -> AsyncIterator[None]:
    yield
    while _servers:
        server = _servers.pop()
        server.close()
        await server.wait_closed()


@pytest.fixture
async def sender() -> AsyncIterator[Sender]:
    sending = new_sender(8, 2.0, LOOPBACK)
    yield sending
    await sending.close()


def delivery(url: str, headers: dict[str, str] | None = None) -> ClaimedDelivery:
    return ClaimedDelivery(
        id="whs_1",
        project_id="proj_1",
        distribution_id="dist_1",
        channel_index=0,
        url=url,
        headers=headers or {"x-team": "growth"},
        body=BODY,
        attempts=0,
        keys=SigningKeys(("whsec_c2VjcmV0c2VjcmV0c2VjcmV0",), "secretKey"),
    )


async def attempt(sender: Sender, url: str) -> AttemptResult:
    return await sender.attempt(delivery(url), 1_700_000_000)


def answering(*answers: bytes) -> Handler:
    """Each request on a connection gets the next answer; the connection then stays open."""

    async def handler(script: Script, reader: Reader, writer: Writer) -> None:
        for answer in answers:
            await script.request(reader)
            writer.write(answer)
            await writer.drain()
        await reader.read()

    return handler


def closing_after(answer: bytes) -> Handler:
    """One request per connection: it gets ``answer`` (which says nothing of closing), and
    the connection is closed."""

    async def handler(script: Script, reader: Reader, writer: Writer) -> None:
        await script.request(reader)
        writer.write(answer)
        await writer.drain()

    return handler


async def test_a_kept_alive_connection_carries_the_next_webhook(sender: Sender) -> None:
    script = await started(answering(OK, OK, OK))
    results = [await attempt(sender, script.url("/hook?team=growth")) for _ in range(3)]
    assert [r.status_code for r in results] == [200, 200, 200]
    assert results[0].response_excerpt == "ok" and results[0].error is None
    assert script.connections == 1
    head, body = script.requests[0]
    lines = head.decode().split("\r\n")
    assert lines[0] == "POST /hook?team=growth HTTP/1.1"
    fields = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:-2])}
    assert fields["host"] == f"127.0.0.1:{script.port}"
    assert fields["content-length"] == str(len(BODY)) and body == BODY
    assert fields["content-type"] == "application/json" and fields["x-team"] == "growth"
    assert fields["user-agent"].startswith("sendout/") and fields["accept"] == "*/*"
    assert fields["webhook-id"] == "whs_1" and fields["webhook-signature"].startswith("v1,")


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\n\r\nuntil the end",  # the body ends when the connection does
        b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"x" * 100_000,
    ],
    ids=["connection-close", "http-1.0", "close-delimited", "large-body"],
)
async def test_an_answer_that_ends_the_connection_gets_a_new_one(
    sender: Sender, answer: bytes
) -> None:
    script = await started(closing_after(answer))
    results = [await attempt(sender, script.url()) for _ in range(2)]
    assert [r.status_code for r in results] == [200, 200], results
    assert script.connections == 2
    expected = answer.split(b"\r\n\r\n", 1)[1][:4096].decode()
    assert results[0].response_excerpt == expected


async def test_chunked_answers_interim_answers_and_no_body(sender: Sender) -> None:
    chunked = (
        b"HTTP/1.1 100 Continue\r\n\r\n"
        b"HTTP/1.1 202 Accepted\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5;note=1\r\nhello\r\n7\r\n, world\r\n0\r\nX-Trailer: yes\r\n\r\n"
    )
    throttled = b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 120\r\nContent-Length: 0\r\n\r\n"
    empty = b"HTTP/1.1 204 No Content\r\n\r\n"
    script = await started(answering(chunked, throttled, empty, OK))
    results = [await attempt(sender, script.url()) for _ in range(4)]
    assert [r.status_code for r in results] == [202, 429, 204, 200]
    assert results[0].response_excerpt == "hello, world"
    assert results[1].retry_after == "120" and results[1].throttled
    assert results[2].response_excerpt == ""
    assert script.connections == 1


async def test_a_kept_alive_connection_the_receiver_closed_is_replaced(sender: Sender) -> None:
    script = await started(closing_after(OK))
    first = await attempt(sender, script.url())
    await asyncio.sleep(0.05)  # the close reaches the client while the connection is idle
    second = await attempt(sender, script.url())
    assert (first.status_code, second.status_code) == (200, 200)
    assert script.connections == 2 and len(script.requests) == 2


async def test_an_answer_cut_short_on_a_reused_connection_is_not_sent_again(
    sender: Sender,
) -> None:
    async def head_only_the_second_time(script: Script, reader: Reader, writer: Writer) -> None:
        await script.request(reader)
        writer.write(OK)
        await script.request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n")
        await writer.drain()

    script = await started(head_only_the_second_time)
    assert (await attempt(sender, script.url())).status_code == 200
    cut = await attempt(sender, script.url())
    assert cut.error == (
        "connection lost: the receiver closed the connection in the middle of its answer"
    )
    assert script.connections == 1 and len(script.requests) == 2


async def test_a_receiver_that_closes_without_answering(sender: Sender) -> None:
    async def hang_up(script: Script, reader: Reader, writer: Writer) -> None:
        await script.request(reader)

    script = await started(hang_up)
    result = await attempt(sender, script.url())
    assert result.status_code is None and not result.delivered
    assert result.error == "connection lost: the receiver closed the connection before it answered"
    assert script.connections == 1  # a new connection is not tried again


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (b"SMTP ready\r\n\r\n", "invalid response: not an HTTP/1.x status line: 'SMTP ready'"),
        (b"HTTP/1.1 200 OK\r\nbroken\r\n\r\n", "invalid response: not a header line: 'broken'"),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 2, 3\r\n\r\nok",
            "invalid response: not a Content-Length: '2, 3'",
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            "invalid response: not a chunk size: b'zz'",
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
            "connection lost: the receiver closed the connection in the middle of its answer",
        ),
    ],
    ids=["status-line", "header", "content-length", "chunk-size", "cut-short"],
)
async def test_a_malformed_answer_is_an_error_and_its_connection_is_dropped(
    sender: Sender, answer: bytes, error: str
) -> None:
    script = await started(closing_after(answer))
    result = await attempt(sender, script.url())
    assert (result.status_code, result.error) == (None, error)
    assert (await attempt(sender, script.url())).error == error
    assert script.connections == 2


async def test_a_receiver_that_never_answers_times_out() -> None:
    async def silent(script: Script, reader: Reader, writer: Writer) -> None:
        await script.request(reader)
        await reader.read()

    sending = new_sender(8, 0.2, LOOPBACK)
    script = await started(silent)
    try:
        result = await attempt(sending, script.url())
    finally:
        await sending.close()
    assert result.error == "timeout: no response within 0.2 s" and result.timed_out
    assert 190 <= result.latency_ms < 2000


async def test_refused_connections_and_guarded_addresses(sender: Sender) -> None:
    script = await started(answering(OK))
    port = script.port
    _servers.pop().close()
    await asyncio.sleep(0.01)
    refused = await attempt(sender, f"http://127.0.0.1:{port}/hook")
    assert refused.error == f"connect error: cannot connect to 127.0.0.1:{port}: Connection refused"
    guarded = new_sender(8, 2.0, AddressPolicy())
    try:
        blocked = await attempt(guarded, f"http://127.0.0.1:{port}/hook")
        named = await attempt(guarded, f"http://localhost:{port}/hook")
    finally:
        await guarded.close()
    assert (blocked.error or "").startswith("blocked destination: 127.0.0.1 resolves to")
    assert (named.error or "").startswith("blocked destination: localhost resolves to")
    unknown = await attempt(sender, "http://no-such-host.invalid/hook")
    assert (unknown.error or "").startswith("connect error: cannot resolve no-such-host.invalid: ")


async def test_a_header_with_a_line_break_is_never_sent(sender: Sender) -> None:
    script = await started(answering(OK))
    bad = delivery(script.url(), {"x-team": "growth\r\nx-injected: 1"})
    result = await sender.attempt(bad, 1_700_000_000)
    assert result.error == "ValueError: a header name or value holds a line break"
    assert script.connections == 0


def self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sendout test receiver")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


async def test_https_receivers_are_verified(tmp_path: Path, sender: Sender) -> None:
    cert, key = self_signed(tmp_path)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    script = await started(answering(OK, OK), tls=server_tls)
    untrusted = await attempt(sender, script.url(scheme="https"))
    assert untrusted.error == (
        f"connect error: cannot connect to 127.0.0.1:{script.port}:"
        " TLS: CERTIFICATE_VERIFY_FAILED (self-signed certificate)"
    )
    trusting = new_sender(8, 2.0, LOOPBACK, tls=ssl.create_default_context(cafile=cert))
    try:
        results = [await attempt(trusting, script.url(scheme="https")) for _ in range(2)]
    finally:
        await trusting.close()
    assert [r.status_code for r in results] == [200, 200]
    # The refused handshake never reached the handler; both webhooks went on one connection.
    assert script.connections == 1 and len(script.requests) == 2


async def test_idle_connections_the_receivers_closed_are_forgotten(sender: Sender) -> None:
    quiet = await started(closing_after(OK))
    busy = await started(answering(*[OK] * 1100))
    await attempt(sender, quiet.url())
    await asyncio.sleep(0.05)  # quiet's connection is closed by now, and nothing goes there
    client = sender._client
    assert len(client._idle) == 1
    for _ in range(1100):  # more than a sweep's worth of connections given back
        await attempt(sender, busy.url())
    assert list(client._idle) == [(False, "127.0.0.1", busy.port)]
    assert busy.connections == 1
