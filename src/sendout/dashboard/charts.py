"""Hand-written SVG bar charts (pure): a series of time buckets, each a stack of counts, drawn
as inline SVG with a text summary; no chart library, nothing loaded at run time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from html import escape

from markupsafe import Markup

from sendout.clock import isoformat

__all__ = ["COLORS", "Bucket", "Window", "bar_chart", "buckets", "windows"]

COLORS = {
    "events": "#1f6feb",
    "delivered": "#1a7f37",
    "pending": "#bf8700",
    "failed": "#cf222e",
    "canceled": "#8c959f",
}
_W, _H, _TOP, _BOTTOM, _LEFT = 640, 170, 12, 22, 36


@dataclass(frozen=True, slots=True)
class Window:
    """A chart's span: ``count`` buckets of ``step``, keyed by the first ``width`` characters
    of an ISO 8601 time (16: minutes, 13: hours)."""

    name: str
    step: timedelta
    count: int
    width: int
    unit: str


def windows() -> tuple[Window, Window]:
    return (
        Window("the last hour", timedelta(minutes=1), 60, 16, "min"),
        Window("the last day", timedelta(hours=1), 24, 13, "h"),
    )


@dataclass(frozen=True, slots=True)
class Bucket:
    key: str  # the ISO prefix, e.g. "2026-05-01T10:07"
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def buckets(window: Window, now: datetime) -> list[str]:
    """The keys of the window's buckets, oldest first, the last one holding ``now``."""
    floor = now.replace(second=0, microsecond=0)
    if window.width == 13:
        floor = floor.replace(minute=0)
    first = floor - window.step * (window.count - 1)
    return [isoformat(first + window.step * i)[: window.width] for i in range(window.count)]


def _bars(series: list[Bucket], keys: tuple[str, ...], top: int) -> list[str]:
    slot = (_W - _LEFT) / max(1, len(series))
    plot = _H - _TOP - _BOTTOM
    parts = []
    for i, bucket in enumerate(series):
        x, y = _LEFT + i * slot + 1, float(_H - _BOTTOM)
        label = ", ".join(f"{k} {bucket.counts.get(k, 0)}" for k in keys)
        parts.append(f"<g><title>{escape(bucket.key)}Z: {escape(label)}</title>")
        for key in keys:
            height = plot * bucket.counts.get(key, 0) / top
            if height:
                y -= height
                parts.append(
                    f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(1.0, slot - 2):.1f}"'
                    f' height="{height:.1f}" fill="{COLORS.get(key, "#57606a")}"/>'
                )
        parts.append("</g>")
    return parts


def _axes(window: Window, top: int) -> list[str]:
    base = _H - _BOTTOM
    return [
        f'<line x1="{_LEFT}" y1="{base}" x2="{_W}" y2="{base}" stroke="#8c959f"/>',
        f'<text x="{_LEFT - 6}" y="{_TOP + 8}" text-anchor="end">{top}</text>',
        f'<text x="{_LEFT - 6}" y="{base}" text-anchor="end">0</text>',
        f'<text x="{_LEFT}" y="{_H - 6}">{window.count} {window.unit} ago</text>',
        f'<text x="{(_LEFT + _W) / 2:.0f}" y="{_H - 6}" text-anchor="middle">'
        f"{window.count // 2} {window.unit} ago</text>",
        f'<text x="{_W}" y="{_H - 6}" text-anchor="end">now</text>',
    ]


def bar_chart(title: str, window: Window, series: list[Bucket], keys: tuple[str, ...]) -> Markup:
    """An accessible SVG of stacked bars (``keys`` bottom up), labelled with its totals."""
    totals = {k: sum(b.counts.get(k, 0) for b in series) for k in keys}
    summary = f"{title} over {window.name}: " + ", ".join(f"{totals[k]} {k}" for k in keys)
    top = max([b.total for b in series] + [1])
    svg = [
        f'<svg viewBox="0 0 {_W} {_H}" role="img" aria-label="{escape(summary)}"'
        ' font-size="11" fill="#57606a">',
        *_axes(window, top),
        *_bars(series, keys, top),
        "</svg>",
    ]
    return Markup("".join(svg))  # noqa: S704 - every interpolated text is escaped above
