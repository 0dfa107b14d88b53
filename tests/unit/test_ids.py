"""Identifiers: Voucherify's prefixes and lengths, drawn without bias from the OS CSPRNG; a
customer's begins with its time."""

from __future__ import annotations

import collections
import re
import string
import time

from sendout import ids


def test_ids_have_voucherify_shapes() -> None:
    assert re.fullmatch(r"cust_[A-Za-z0-9]{24}", ids.customer_id())
    assert re.fullmatch(r"ms_[A-Za-z0-9]{24}", ids.event_schema_id())
    assert re.fullmatch(r"event_[0-9a-f]{18}", ids.event_id())
    assert len({ids.customer_id() for _ in range(10_000)}) == 10_000


def test_every_alphanumeric_is_about_equally_likely() -> None:
    drawn = collections.Counter("".join(ids.event_schema_id()[3:] for _ in range(26_000)))
    assert set(drawn) == set(string.ascii_letters + string.digits)
    expected = 26_000 * 24 / 62  # about 10,065 each; a biased draw (b % 62 on 0-255) is 20 % off
    assert all(abs(n - expected) < 0.06 * expected for n in drawn.values()), drawn


def test_a_customer_id_begins_with_its_time_and_sorts_after_older_ones() -> None:
    before = time.time_ns() // 1_000_000
    first = ids.customer_id()
    time.sleep(0.002)
    second = ids.customer_id()
    after = time.time_ns() // 1_000_000
    assert first < second
    made = sum(62**i * ids._ORDERED.index(c) for i, c in enumerate(reversed(first[5:12])))
    assert before <= made <= after


def test_the_random_part_of_customer_ids_is_unbiased() -> None:
    drawn = collections.Counter("".join(ids.customer_id()[12:] for _ in range(36_000)))
    assert set(drawn) == set(string.ascii_letters + string.digits)
    expected = 36_000 * 17 / 62
    assert all(abs(n - expected) < 0.06 * expected for n in drawn.values()), drawn
