from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from sendout.api.ratelimit import TokenBuckets
from sendout.delivery.addresses import AddressPolicy, parse_networks
from sendout.delivery.guard import BlockedDestination, GuardedResolver, unsafe_destination
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


async def test_connect_time_resolver_refuses_private_answers() -> None:
    resolver = GuardedResolver(AddressPolicy())
    with pytest.raises(BlockedDestination):
        await resolver.resolve("localhost", 80)
    with pytest.raises(BlockedDestination):
        resolver.check_literal("10.0.0.1")
    opened = GuardedResolver(AddressPolicy(parse_networks("127.0.0.0/8")))
    found = await opened.resolve("localhost", 80)
    assert {r["host"] for r in found} <= {"127.0.0.1"}
    await resolver.close()
    await opened.close()
    await asyncio.sleep(0)


def test_token_buckets() -> None:
    buckets = TokenBuckets(rate=2.0, burst=2.0)
    assert buckets.take("p", 0.0) is None
    assert buckets.take("p", 0.0) is None
    wait = buckets.take("p", 0.0)
    assert wait == pytest.approx(0.5)
    assert buckets.take("other", 0.0) is None
    assert buckets.take("p", 0.5) is None
    assert TokenBuckets.retry_after_header(0.2) == "1"
