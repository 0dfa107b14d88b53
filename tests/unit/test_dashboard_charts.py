"""The overview's SVG charts (pure): bucket keys, stacking, totals, escaping."""

from __future__ import annotations

from datetime import UTC, datetime

from sendout.dashboard.charts import Bucket, bar_chart, buckets, windows

NOW = datetime(2026, 5, 1, 10, 7, 31, tzinfo=UTC)


def test_buckets_end_with_the_one_holding_now() -> None:
    hour, day = windows()
    minutes = buckets(hour, NOW)
    assert (
        len(minutes) == 60
        and minutes[-1] == "2026-05-01T10:07"
        and minutes[0] == "2026-05-01T09:08"
    )
    hours = buckets(day, NOW)
    assert len(hours) == 24 and hours[-1] == "2026-05-01T10" and hours[0] == "2026-04-30T11"


def test_a_chart_says_its_totals_and_stacks_each_bucket() -> None:
    hour, _ = windows()
    series = [Bucket("a<b", {"delivered": 3, "failed": 1}), Bucket("k", {})]
    svg = str(bar_chart("Deliveries", hour, series, ("delivered", "failed")))
    assert 'aria-label="Deliveries over the last hour: 3 delivered, 1 failed"' in svg
    assert svg.count("<rect") == 2
    assert "a&lt;b" in svg and "a<b" not in svg
