"""Identifiers: Voucherify's prefixes and lengths, drawn without bias from the OS CSPRNG; a
customer's begins with its time, an event's and a delivery's with the time in seconds modulo
65,536."""

from __future__ import annotations

import collections
import re
import string
import subprocess
import sys
import threading
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


def test_event_and_delivery_ids_begin_with_the_second_they_were_made_in() -> None:
    for make, prefix in ((ids.event_id, "event_"), (ids.delivery_id, "whs_")):
        before = time.time_ns() // 1_000_000_000
        drawn = [make() for _ in range(2_000)]
        after = time.time_ns() // 1_000_000_000
        assert all(re.fullmatch(re.escape(prefix) + r"[0-9a-f]{18}", i) for i in drawn)
        windows = {int(i[len(prefix) : len(prefix) + 4], 16) for i in drawn}
        assert windows <= {s % 65_536 for s in range(before, after + 1)}
        assert len(set(drawn)) == len(drawn)
        # The other 14 digits are random: every hexadecimal digit turns up about equally.
        digits = collections.Counter("".join(i[len(prefix) + 4 :] for i in drawn))
        expected = 2_000 * 14 / 16
        assert all(abs(n - expected) < 0.15 * expected for n in digits.values()), digits


def test_the_time_prefix_comes_round_every_65536_seconds() -> None:
    second = 1_000_000_000
    assert ids._windowed_hex(18, (65_536 * 7 + 0x12AB) * second).startswith("12ab")
    assert ids._windowed_hex(18, (65_536 * 8 + 0x12AB) * second + second - 1).startswith("12ab")
    assert ids._windowed_hex(18, (65_536 * 8 + 0xFFFF) * second).startswith("ffff")
    assert ids._windowed_hex(18, 65_536 * 9 * second).startswith("0000")


def test_the_random_part_of_customer_ids_is_unbiased() -> None:
    drawn = collections.Counter("".join(ids.customer_id()[12:] for _ in range(36_000)))
    assert set(drawn) == set(string.ascii_letters + string.digits)
    expected = 36_000 * 17 / 62
    assert all(abs(n - expected) < 0.06 * expected for n in drawn.values()), drawn


def test_ids_drawn_on_several_threads_at_once_are_all_different() -> None:
    drawn: list[list[str]] = [[] for _ in range(4)]

    def draw(into: list[str]) -> None:
        into.extend(ids.delivery_id() for _ in range(20_000))

    threads = [threading.Thread(target=draw, args=(d,)) for d in drawn]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({i for d in drawn for i in d}) == 80_000


# Forked in a process of its own: the test run has threads, and forking it would risk a deadlock.
_FORK = """
import os
from sendout import ids
ids.delivery_id()  # the parent's buffer holds bytes not handed out yet
read, write = os.pipe()
child = os.fork()
if child == 0:
    os.write(write, ids.delivery_id().encode())
    os._exit(0)
os.close(write)
os.waitpid(child, 0)
print(os.read(read, 64).decode(), ids.delivery_id())
"""


def test_a_forked_child_does_not_repeat_its_parents_ids() -> None:
    done = subprocess.run([sys.executable, "-c", _FORK], capture_output=True, text=True, check=True)
    theirs, ours = done.stdout.split()
    assert theirs.startswith("whs_") and ours.startswith("whs_") and theirs != ours
