"""Re-entry rules: what is refused at save, and the window each rule counts sends in."""

from __future__ import annotations

from typing import Any

import pytest

from sendout.errors import InvalidInput
from sendout.matching.reentry import check_reentry, period_ms, window


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("P1D", 86_400_000),
        ("PT12H", 43_200_000),
        ("P1W", 604_800_000),
        ("P1DT6H", 108_000_000),
        ("PT90S", 90_000),
        ("PT1M", 60_000),
    ],
)
def test_a_duration_of_weeks_to_seconds_has_its_length(text: str, ms: int) -> None:
    assert period_ms(text) == ms


@pytest.mark.parametrize("text", ["P", "PT", "P1DT", "P1M", "P1Y", "1D", "P1.5D", "PT-1H", ""])
def test_other_durations_have_none(text: str) -> None:
    assert period_ms(text) is None


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ("once", "must be an object"),
        ({"mode": "sometimes"}, "mode must be one of"),
        ({"mode": "once_per_customer", "limit": 1}, "takes no 'limit'"),
        ({"mode": "limited", "period": "P1D"}, "limit must be"),
        ({"mode": "limited", "limit": 0, "period": "P1D"}, "limit must be"),
        ({"mode": "limited", "limit": True, "period": "P1D"}, "limit must be"),
        ({"mode": "limited", "limit": 2.5, "period": "P1D"}, "limit must be"),
        ({"mode": "limited", "limit": 2}, "period must be"),
        ({"mode": "limited", "limit": 2, "period": "P1M"}, "period must be"),
        ({"mode": "limited", "limit": 2, "period": "PT0S"}, "period must be"),
        ({"mode": "limited", "limit": 2, "period": "P9999D"}, "period must be"),
        ({"mode": "limited", "limit": 2, "period": "P1D", "per": "x"}, "takes no 'per'"),
    ],
)
def test_a_rule_sendout_cannot_apply_is_refused(raw: Any, words: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_reentry(raw)
    assert refused.value.key == "invalid_reentry"
    assert words in refused.value.details


def test_every_time_is_stored_as_no_rule() -> None:
    assert check_reentry(None) is None
    assert check_reentry({"mode": "every_time"}) is None
    assert window(None, 1_000) is None


def test_once_per_customer_counts_every_send_ever() -> None:
    rule = check_reentry({"mode": "once_per_customer"})
    assert rule == {"mode": "once_per_customer"}
    assert window(rule, 5_000_000) == (None, 1)


def test_a_limited_rule_counts_sends_within_the_period_ending_now() -> None:
    rule = check_reentry({"mode": "limited", "limit": 3, "period": "PT1H"})
    assert window(rule, 10_000_000) == (10_000_000 - 3_600_000, 3)
