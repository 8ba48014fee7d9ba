"""Server-rendered SVG bar charts for the portal's role pages (issue 17).

Pure: data in, SVG text out, no I/O. The portal's Content-Security-Policy forbids inline styles, so
colours and fonts are SVG presentation attributes (`fill=`, `font-size=`), which CSP does not treat as
styles. Each chart is an accessible image: `role="img"` labelled by its `<title>` and `<desc>`, every
bar carries its value as a text label and a `<title>` of its own, and every colour on white reaches
WCAG AA (4.5:1 for text, 3:1 for the bars as graphics).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

# Text and axes: #1f2328 on white is 15.8:1. Bars are darker than the 3:1 non-text minimum.
TEXT = "#1f2328"
GRID = "#6e7781"
DEFAULT_BAR = "#0b5cad"
# The channels' colours, each >= 4.5:1 on white so that a value label in the same colour would pass too.
CHANNEL_COLOURS: dict[str, str] = {
    "green": "#1a7f37",
    "yellow": "#7d5e00",
    "red": "#b42318",
    "blue": "#0b5cad",
}

WIDTH = 640
HEIGHT = 300
_TOP = 24
_BOTTOM = 56
_LEFT = 60  # room for "100.0%" beside the axis
_RIGHT = 12
_TICKS = 4


@dataclass(frozen=True)
class Bar:
    """One bar: its category label, its value (>= 0) and, optionally, its own colour."""

    label: str
    value: float
    colour: str | None = None


def _count(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def percent(value: float) -> str:
    """A 0..1 ratio as a percentage label."""
    return f"{value * 100:.1f}%"


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 x 10^n at or above `value`: the top of the axis, so that its ticks
    fall on round numbers. 1 for nothing to show, so bars of zero stay at zero height."""
    if value <= 0:
        return 1.0
    exponent = math.floor(math.log10(value))
    base = 10.0**exponent
    for step in (1.0, 2.0, 2.5, 5.0, 10.0):
        if value <= step * base + 1e-12 * base:
            return step * base
    return 10.0 * base  # pragma: no cover - the loop ends at 10 x base, which is always >= value


def bar_chart(
    *,
    chart_id: str,
    title: str,
    desc: str,
    bars: Sequence[Bar],
    value_label: Callable[[float], str] = _count,
    axis_max: float | None = None,
    width: int = WIDTH,
    height: int = HEIGHT,
) -> Markup:
    """A vertical bar chart. `chart_id` makes the ids of its title and description unique on the page;
    `axis_max` fixes the top of the scale (1.0 for ratios), otherwise it is the next round number at or
    above the largest value. Negative, NaN or infinite values are refused: a chart must not hide them."""
    for bar in bars:
        if not math.isfinite(bar.value) or bar.value < 0:
            raise ValueError(f"bar {bar.label!r}: value must be a finite number >= 0, got {bar.value!r}")
    plot_w = width - _LEFT - _RIGHT
    plot_h = height - _TOP - _BOTTOM
    top = axis_max if axis_max is not None and axis_max > 0 else nice_ceiling(max((b.value for b in bars), default=0))
    if axis_max is None and all(float(b.value).is_integer() for b in bars):
        # Counts: every tick a whole number (no "0.25 declarations").
        top = float(math.ceil(top / _TICKS) * _TICKS)
    ident = _ident(chart_id)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{ident}" role="img" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'aria-labelledby="{ident}-title {ident}-desc" font-family="system-ui, sans-serif" font-size="12">',
        f'<title id="{ident}-title">{escape(title)}</title>',
        f'<desc id="{ident}-desc">{escape(desc)}</desc>',
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
    ]
    base_y = _TOP + plot_h
    for tick in range(_TICKS + 1):
        value = top * tick / _TICKS
        y = base_y - plot_h * tick / _TICKS
        parts.append(
            f'<line class="chart-grid" x1="{_LEFT}" y1="{y:.2f}" x2="{width - _RIGHT}" y2="{y:.2f}" '
            f'stroke="{GRID}" stroke-width="{1 if tick == 0 else 0.5}"/>'
        )
        parts.append(
            f'<text class="chart-tick" x="{_LEFT - 6}" y="{y + 4:.2f}" text-anchor="end" fill="{TEXT}">'
            f"{escape(value_label(value))}</text>"
        )
    if not bars:
        parts.append(
            f'<text class="chart-empty" x="{_LEFT + plot_w / 2:.2f}" y="{_TOP + plot_h / 2:.2f}" '
            f'text-anchor="middle" fill="{TEXT}" font-size="14">No data</text>'
        )
    else:
        slot = plot_w / len(bars)
        bar_w = max(1.0, slot * 0.7)
        for i, bar in enumerate(bars):
            h = plot_h * min(bar.value, top) / top
            x = _LEFT + slot * i + (slot - bar_w) / 2
            centre = x + bar_w / 2
            shown = escape(value_label(bar.value))
            label = escape(bar.label)
            parts.append(
                f'<g class="chart-bar"><title>{label}: {shown}</title>'
                f'<rect class="bar" x="{x:.2f}" y="{base_y - h:.2f}" width="{bar_w:.2f}" height="{h:.2f}" '
                f'fill="{bar.colour or DEFAULT_BAR}" data-value="{bar.value!r}"/>'
                f'<text class="chart-value" x="{centre:.2f}" y="{base_y - h - 4:.2f}" text-anchor="middle" '
                f'fill="{TEXT}">{shown}</text>'
                f'<text class="chart-label" x="{centre:.2f}" y="{base_y + 16:.2f}" text-anchor="middle" '
                f'fill="{TEXT}">{label}</text></g>'
            )
    parts.append("</svg>")
    # Every piece of caller text above went through escape(); the rest is our own markup.
    return Markup("".join(parts))  # noqa: S704  # nosec B704: every caller text above went through escape()


def channel_bars(counts: dict[str, int]) -> list[Bar]:
    """Bars for a count per channel, in the channels' order of severity, each in its channel's colour."""
    order = ["green", "yellow", "red", "blue"]
    keys = [c for c in order if c in counts] + sorted(c for c in counts if c not in order)
    return [Bar(key, float(counts[key]), CHANNEL_COLOURS.get(key)) for key in keys]


def _ident(chart_id: str) -> str:
    cleaned = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in chart_id)
    if not cleaned or not cleaned[0].isalpha():
        cleaned = "chart-" + cleaned
    return cleaned
