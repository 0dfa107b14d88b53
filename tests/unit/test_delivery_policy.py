from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sendout.api.ratelimit import TokenBuckets
from sendout.delivery.addresses import AddressPolicy, parse_networks
from sendout.delivery.guard import (
    BlockedDestination,
    GuardedResolver,
    unsafe_destination,
)
from sendout.outbox.destinations import destination_of
from sendout.outbox.pause import health_changes, pause_reason
from sendout.outbox.retry import RetryPolicy, parse_retry_after
from sendout.records import Outcome

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_jitter_stays_within_twenty_percent() -> None:
    policy = RetryPolicy((100.0, 200.0))
    assert policy.wait_after(1, unit=0.0) == pytest.approx(80.0)
    assert policy.wait_after(1, unit=0.999999) == pytest.approx(120.0, rel=1e-4)
    assert policy.wait_after(2, unit=0.5) == pytest.approx(200.0)
    assert policy.wait_after(3, unit=0.5) is None


def test_timeouts_and_429_wait_at_least_the_floor() -> None:
    policy = RetryPolicy((1.0,), throttle_floor=60.0)
    assert policy.wait_after(1, unit=0.5) == 1.0
    assert policy.wait_after(1, unit=0.5, throttled=True) == 60.0


def test_retry_after_lengthens_within_bounds() -> None:
    policy = RetryPolicy((10.0,), retry_after_cap=3600.0)
    assert policy.wait_after(1, unit=0.5, retry_after=120.0) == 120.0
    assert policy.wait_after(1, unit=0.5, retry_after=2.0) == 10.0, "never shorter than planned"
    assert policy.wait_after(1, unit=0.5, retry_after=10**9) == 3600.0


def test_parse_retry_after() -> None:
    assert parse_retry_after("120", NOW) == 120.0
    assert parse_retry_after("Thu, 01 Jan 2026 00:02:00 GMT", NOW) == 120.0
    assert parse_retry_after("Wed, 31 Dec 2025 00:00:00 GMT", NOW) == 0.0
    assert parse_retry_after("soon", NOW) is None
    assert parse_retry_after(None, NOW) is None


def test_pause_reasons() -> None:
    assert pause_reason(1, 410, 12) == "the receiver answered 410 Gone"
    assert pause_reason(11, 500, 12) is None
    assert pause_reason(12, None, 12) == "12 consecutive failed attempts"


def _attempt(distribution: str, channel: int, at: int, delivered: bool) -> Outcome:
    return Outcome(
        f"whs_{distribution}_{channel}_{at}",
        distribution,
        channel,
        at,
        200 if delivered else 500,
        1.0,
        None,
        None,
        delivered,
        None if delivered else at + 1000,
    )


def test_health_changes_count_only_failures_after_the_last_delivery() -> None:
    batch = [
        _attempt("distr_b", 0, 3, False),  # after b/0's delivery at 2: counts
        _attempt("distr_b", 0, 1, False),  # before it: wiped by the reset
        _attempt("distr_b", 0, 2, True),
        _attempt("distr_a", 1, 5, False),  # a/1 never delivered: both count, in order
        _attempt("distr_a", 1, 4, False),
        _attempt("distr_a", 0, 6, True),
    ]
    reset, failures = health_changes(batch)
    assert reset == [("distr_a", 0), ("distr_b", 0)]
    assert [(o.distribution_id, o.channel_index, o.attempted_at_ms) for o in failures] == [
        ("distr_a", 1, 4),
        ("distr_a", 1, 5),
        ("distr_b", 0, 3),
    ]
    assert health_changes([]) == ([], [])


def test_destinations() -> None:
    assert destination_of("https://Hooks.Example.com/a?b") == "https://hooks.example.com:443"
    assert destination_of("http://127.0.0.1:8080/x") == "http://127.0.0.1:8080"


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.100.100.200",
        "0.0.0.0",
        "224.0.0.1",
        "255.255.255.255",
        "::1",
        "fe80::1",
        "fd00:ec2::254",
        "::ffff:127.0.0.1",
    ],
)
def test_private_and_special_addresses_are_refused(address: str) -> None:
    assert not AddressPolicy().allows(address)


def test_public_addresses_and_opened_ranges() -> None:
    assert AddressPolicy().allows("93.184.216.34")
    assert AddressPolicy().allows("2606:2800:220:1:248:1893:25c8:1946")
    opened = AddressPolicy(parse_networks("127.0.0.0/8, 10.0.0.0/8"))
    assert opened.allows("127.0.0.1")
    assert opened.allows("10.9.9.9")
    assert not opened.allows("192.168.0.1")
    with pytest.raises(ValueError, match="not a CIDR"):
        parse_networks("10.0.0.0/33")


# IPv6 forms that carry an IPv4 address (docs/security.md): each judged by the IPv4 inside.
EMBEDDED_PRIVATE = [
    "64:ff9b::a9fe:a9fe",  # NAT64 well-known prefix, 169.254.169.254
    "64:ff9b::7f00:1",  # NAT64, 127.0.0.1
    "64:ff9b:1::a00:1",  # local-use NAT64 (RFC 8215), 10.0.0.1
    "64:ff9b:1::808:808",  # local-use NAT64: refused whatever it carries
    "2002:7f00:1::",  # 6to4, 127.0.0.1
    "2002:a9fe:a9fe::1",  # 6to4, 169.254.169.254
    "::7f00:1",  # IPv4-compatible, 127.0.0.1
    "::127.0.0.1",
    "::a00:1",  # IPv4-compatible, 10.0.0.1
    "::ffff:0:7f00:1",  # IPv4-translated (RFC 2765), 127.0.0.1
    "::ffff:0:a9fe:a9fe",
    "::ffff:a9fe:a9fe",  # IPv4-mapped, 169.254.169.254
    "2001:0:4136:e378:8000:63bf:f7f7:f7f7",  # Teredo, public server and client 8.8.8.8
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo, client 192.0.2.45
    "2001:0:a00:1:8000:63bf:3fff:fdd2",  # Teredo, server 10.0.0.1
    "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo, client 127.0.0.1
]


@pytest.mark.parametrize("address", EMBEDDED_PRIVATE)
def test_ipv6_forms_carrying_an_ipv4_are_refused(address: str) -> None:
    assert not AddressPolicy().allows(address)
    assert "a loopback, private" in (AddressPolicy().refusal("h", [address]) or "")


@pytest.mark.parametrize(
    "address",
    [
        "64:ff9b::808:808",  # NAT64 of 8.8.8.8: DNS64 answers these for IPv4-only receivers
        "64:ff9b::8.8.8.8",
        "2002:808:808::1",  # 6to4 of 8.8.8.8
        "::ffff:8.8.8.8",
        "::ffff:0:808:808",
        "::808:808",
        "2606:2800:220:1:248:1893:25c8:1946",
    ],
)
def test_ipv6_forms_carrying_a_public_ipv4_are_allowed(address: str) -> None:
    assert AddressPolicy().allows(address)


@pytest.mark.parametrize(
    "address", ["64:ff9b::7f00:1", "2002:7f00:1::", "::7f00:1", "::127.0.0.1", "::ffff:0:7f00:1"]
)
def test_an_opened_ipv4_range_opens_its_embedded_forms(address: str) -> None:
    assert AddressPolicy(parse_networks("127.0.0.0/8")).allows(address)
    assert not AddressPolicy(parse_networks("10.0.0.0/8")).allows(address)


def test_opened_ipv6_ranges_are_judged_as_given() -> None:
    loopback = AddressPolicy(parse_networks("::1/128"))
    assert loopback.allows("::1")
    assert not AddressPolicy().allows("::1")
    assert not AddressPolicy().allows("::")
    local_nat64 = AddressPolicy(parse_networks("64:ff9b:1::/48"))
    assert local_nat64.allows("64:ff9b:1::808:808")
    assert not local_nat64.allows("64:ff9b::a9fe:a9fe")


def test_the_refusal_names_the_embedded_ipv4() -> None:
    reason = AddressPolicy().refusal("[::7f00:1]", ["::7f00:1"]) or ""
    assert "::7f00:1 (IPv4 127.0.0.1)" in reason


async def test_save_and_connect_checks_unwrap_embedded_ipv4() -> None:
    policy = AddressPolicy()
    resolver = GuardedResolver(policy)
    for address in EMBEDDED_PRIVATE:
        assert await unsafe_destination(f"[{address}]", 80, policy) is not None, address
        assert await unsafe_destination(address, 80, policy) is not None, address
        with pytest.raises(BlockedDestination):
            await resolver.resolve(address, 80)
    assert await unsafe_destination("[64:ff9b::808:808]", 80, policy) is None
    assert await resolver.resolve("64:ff9b::808:808", 80) == ["64:ff9b::808:808"]


async def test_the_guard_never_raises_on_a_host_idna_cannot_encode() -> None:
    policy = AddressPolicy()
    resolver = GuardedResolver(policy)
    for host in ["\u00e4..com", "a" * 64 + ".example.com"]:
        assert await unsafe_destination(host, 80, policy) is None
        with pytest.raises(OSError, match="not a valid host name"):
            await resolver.resolve(host, 80)


class _Answers:
    """A DNS stand-in: every name resolves to the given addresses; ``asked`` lists lookups."""

    def __init__(self, *addresses: str) -> None:
        self._addresses = list(addresses)
        self.asked: list[str] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append(host)
        return self._addresses


async def test_connect_time_resolver_unwraps_embedded_ipv4() -> None:
    rebound = GuardedResolver(AddressPolicy(), _Answers("64:ff9b::a9fe:a9fe", "2002:7f00:1::"))
    with pytest.raises(BlockedDestination, match=r"IPv4 169\.254\.169\.254"):
        await rebound.resolve("rebound.example", 443)
    mixed = GuardedResolver(AddressPolicy(), _Answers("::7f00:1", "64:ff9b::808:808"))
    assert await mixed.resolve("mixed.example", 443) == ["64:ff9b::808:808"]


async def test_connect_time_resolver_keeps_allowed_answers_and_never_refusals() -> None:
    lookup = _Answers("93.184.216.34")
    resolver = GuardedResolver(AddressPolicy(), lookup)
    for _ in range(3):
        assert await resolver.resolve("example.com", 443) == ["93.184.216.34"]
    refused = _Answers("10.0.0.1")
    blocked = GuardedResolver(AddressPolicy(), refused)
    for _ in range(2):
        with pytest.raises(BlockedDestination):
            await blocked.resolve("internal.example", 443)
    assert lookup.asked == ["example.com"]
    assert refused.asked == ["internal.example"] * 2


async def test_save_time_check_resolves_names() -> None:
    policy = AddressPolicy()
    assert "loopback" in (await unsafe_destination("localhost", 80, policy) or "")
    assert await unsafe_destination("169.254.169.254", 80, policy) is not None
    assert await unsafe_destination("no-such-host.invalid", 80, policy) is None
    assert (
        await unsafe_destination(
            "localhost", 80, AddressPolicy(parse_networks("127.0.0.0/8, ::1/128"))
        )
        is None
    )


async def test_connect_time_resolver_refuses_private_Answers() -> None:
    resolver = GuardedResolver(AddressPolicy())
    with pytest.raises(BlockedDestination):
        await resolver.resolve("localhost", 80)
    with pytest.raises(BlockedDestination):
        await resolver.resolve("10.0.0.1", 80)
    opened = GuardedResolver(AddressPolicy(parse_networks("127.0.0.0/8")))
    assert set(await opened.resolve("localhost", 80)) <= {"127.0.0.1"}


def test_token_buckets() -> None:
    buckets = TokenBuckets(rate=2.0, burst=2.0)
    assert buckets.take("p", 0.0) is None
    assert buckets.take("p", 0.0) is None
    wait = buckets.take("p", 0.0)
    assert wait == pytest.approx(0.5)
    assert buckets.take("other", 0.0) is None
    assert buckets.take("p", 0.5) is None
    assert TokenBuckets.retry_after_header(0.2) == "1"
