"""The portal's SVG charts: valid, accessible, proportional, escaped, and honest about empty data."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import pytest

from clearguard.portal.charts import CHANNEL_COLOURS, Bar, bar_chart, channel_bars, nice_ceiling, percent

SVG = "{http://www.w3.org/2000/svg}"


def parse(markup: str) -> ET.Element:
    return ET.fromstring(str(markup))


def bars_of(root: ET.Element) -> list[ET.Element]:
    return [r for r in root.iter(f"{SVG}rect") if r.get("class") == "bar"]


def test_valid_svg_with_title_and_desc_that_label_it() -> None:
    root = parse(bar_chart(chart_id="queue", title="Queue by channel", desc="Open declarations", bars=[Bar("a", 3)]))
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    title = root.find(f"{SVG}title")
    desc = root.find(f"{SVG}desc")
    assert title is not None and title.text == "Queue by channel"
    assert desc is not None and desc.text == "Open declarations"
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"


def test_heights_are_proportional_to_values() -> None:
    values = [4.0, 10.0, 0.0, 7.0]
    root = parse(bar_chart(chart_id="c", title="t", desc="d", bars=[Bar(str(i), v) for i, v in enumerate(values)]))
    rects = bars_of(root)
    assert len(rects) == len(values)
    heights = [float(r.get("height", "nan")) for r in rects]
    # One scale for every bar (the axis tops out at a round number at or above the largest value).
    scale = heights[1] / 10.0
    assert scale > 0
    for value, height in zip(values, heights, strict=True):
        assert math.isclose(height, value * scale, abs_tol=0.02)
    # All bars stand on one baseline.
    bottoms = {round(float(r.get("y", "0")) + float(r.get("height", "0")), 1) for r in rects}
    assert len(bottoms) == 1


def test_axis_max_fixes_the_scale_for_ratios() -> None:
    root = parse(
        bar_chart(chart_id="c", title="t", desc="d", bars=[Bar("x", 0.25), Bar("y", 0.5)], axis_max=1.0,
                  value_label=percent)
    )  # fmt: skip
    low, high = (float(r.get("height", "nan")) for r in bars_of(root))
    assert math.isclose(high, 2 * low, rel_tol=1e-3)
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "25.0%" in texts and "50.0%" in texts and "100.0%" in texts


def test_each_bar_has_its_value_and_label_as_text() -> None:
    root = parse(bar_chart(chart_id="c", title="t", desc="d", bars=[Bar("Dover", 12), Bar("Calais", 3)]))
    texts = [t.text for t in root.iter(f"{SVG}text")]
    for expected in ("Dover", "Calais", "12", "3"):
        assert expected in texts
    titles = [t.text for g in root.iter(f"{SVG}g") for t in g.findall(f"{SVG}title")]
    assert titles == ["Dover: 12", "Calais: 3"]


def test_empty_data_says_so_and_draws_no_bar() -> None:
    root = parse(bar_chart(chart_id="c", title="t", desc="d", bars=[]))
    assert bars_of(root) == []
    assert "No data" in [t.text for t in root.iter(f"{SVG}text")]


def test_all_zero_values_draw_flat_bars_not_a_division_by_zero() -> None:
    root = parse(bar_chart(chart_id="c", title="t", desc="d", bars=[Bar("a", 0), Bar("b", 0)]))
    assert [float(r.get("height", "nan")) for r in bars_of(root)] == [0.0, 0.0]


def test_labels_and_titles_are_escaped() -> None:
    hostile = '<script>alert("x")</script>&'
    markup = bar_chart(chart_id='x" onload="y', title=hostile, desc=hostile, bars=[Bar(hostile, 1)])
    root = parse(markup)  # would raise on unescaped markup
    assert "<script>" not in str(markup)
    assert root.find(f"{SVG}title") is not None
    assert root.find(f"{SVG}title").text == hostile  # type: ignore[union-attr]
    assert not any(el.tag.endswith("script") for el in root.iter())
    assert root.get("onload") is None
    assert root.get("id", "").replace("-", "").isalnum()


def test_no_inline_style_attribute_anywhere() -> None:
    root = parse(bar_chart(chart_id="c", title="t", desc="d", bars=channel_bars({"red": 2, "green": 5})))
    assert all("style" not in el.attrib for el in root.iter())


def test_channel_bars_keep_severity_order_and_colours() -> None:
    bars = channel_bars({"red": 2, "blue": 1, "green": 5, "yellow": 0})
    assert [b.label for b in bars] == ["green", "yellow", "red", "blue"]
    assert [b.colour for b in bars] == [CHANNEL_COLOURS[c] for c in ("green", "yellow", "red", "blue")]


def contrast(hex_colour: str) -> float:
    def lum(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    light = 0.2126 * lum(r) + 0.7152 * lum(g) + 0.0722 * lum(b)
    return 1.05 / (light + 0.05)


@pytest.mark.parametrize("colour", sorted(set(CHANNEL_COLOURS.values())))
def test_colours_meet_aa_on_white(colour: str) -> None:
    assert contrast(colour) >= 4.5


@pytest.mark.parametrize("value", [-1.0, math.nan, math.inf])
def test_values_a_chart_cannot_show_are_refused(value: float) -> None:
    with pytest.raises(ValueError, match="value must be"):
        bar_chart(chart_id="c", title="t", desc="d", bars=[Bar("a", value)])


@pytest.mark.parametrize(("value", "top"), [(0, 1), (0.3, 0.5), (7, 10), (10, 10), (11, 20), (230, 250), (0.04, 0.05)])
def test_nice_ceiling(value: float, top: float) -> None:
    assert math.isclose(nice_ceiling(value), top)


def test_counts_get_whole_number_ticks() -> None:
    root = parse(bar_chart(chart_id="c", title="t", desc="d", bars=[Bar("a", 1), Bar("b", 0)]))
    ticks = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "chart-tick"]
    assert ticks == ["0", "1", "2", "3", "4"]
