from __future__ import annotations

import pytest

from sendout.outbox.retry import VOUCHERIFY_SCHEDULE, RetryPolicy, parse_schedule


def test_default_is_voucherifys_schedule() -> None:
    minutes = [d / 60 for d in VOUCHERIFY_SCHEDULE]
    assert minutes == [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 1440]
    policy = RetryPolicy()
    assert policy.max_attempts == 13
    assert policy.next_delay(1) == 60 and policy.next_delay(12) == 86400
    assert policy.next_delay(13) is None


def test_parse_schedule() -> None:
    assert parse_schedule("1, 2.5,10") == (1.0, 2.5, 10.0)
    for bad in ("", "a,b", "1,-2"):
        with pytest.raises(ValueError):
            parse_schedule(bad)


def test_attempts_count_from_one() -> None:
    with pytest.raises(ValueError):
        RetryPolicy((1.0,)).next_delay(0)
