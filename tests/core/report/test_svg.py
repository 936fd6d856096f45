"""The inline SVG charts: well-formed XML with accessible titles, one marker per drawable anomaly, escaped text, and
readable axis ticks (round numbers, round UTC instants)."""
import math
import xml.etree.ElementTree as ET
from datetime import datetime, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.core.report.svg import (bar_svg, drift_svg, format_number, gap_breaks, nice_ticks, time_series_svg,
                                      time_ticks)

EVIL = '<script>alert(1)</script></style>"><img onerror=x> & ü'


def _chart(markers, values=(800.0, 820.0, 790.0), band=True):
    ts = [f"2025-03-0{i + 3}T12:00:00Z" for i in range(len(values))]
    return {"metric": "latency_ms", "unit": "ms", "series": {"ts": ts, "value": list(values), "downsampled": True},
            "band": {"kind": "iqr", "lo": 700.0, "mid": 800.0, "hi": 900.0, "label": "baseline p25–p75 (band), p50 (line)"}
            if band else None, "markers": markers, "markers_total": len(markers)}


def _marker(ts, value, severity="critical", segment="a|b|c"):
    return {"ts": ts, "value": value, "score": 7.5, "severity": severity, "segment": segment}


def _circles(root, cls):
    return [c for c in root.iter("circle") if cls in c.get("class", "").split()]


def test_time_series_is_well_formed_with_one_marker_per_anomaly():
    markers = [_marker("2025-03-03T13:00:00Z", 4000.0), _marker("2025-03-04T01:00:00Z", 3000.0, "warning"),
               _marker("2025-03-05T01:00:00Z", 2500.0, "warning"), _marker(None, 1.0), _marker("2025-03-05T02:00:00Z",
                                                                                                None)]
    svg = time_series_svg(_chart(markers), "c1")
    root = ET.fromstring(svg)
    assert root.tag == "svg" and root.get("viewBox") == "0 0 760 250" and root.get("role") == "img"
    assert root.find("title").text == "latency_ms over time" and root.find("title").get("id") == "c1-title"
    assert root.get("aria-labelledby") == "c1-title c1-desc"
    assert len(_circles(root, "marker")) == 3  # the markers without a time or a value cannot be drawn
    assert len(_circles(root, "marker-critical")) == 1 and len(_circles(root, "marker-warning")) == 2
    assert root.find(".//rect[@class='band']") is not None and root.find(".//line[@class='band-mid']") is not None
    assert "3 anomalies marked, 1 critical, 2 warning" in root.find("desc").text
    texts = [t.text for t in root.iter("text")]
    assert "Mar 4 00:00" in texts and "UTC" in texts and "4,000" in texts and "p25–p75" in " ".join(texts)


def test_marker_positions_follow_the_scales():
    svg = time_series_svg(_chart([_marker("2025-03-03T12:00:00Z", 800.0)], band=False), "c")
    root = ET.fromstring(svg)
    (marker,) = _circles(root, "marker")
    path = root.find(".//path[@class='series']").get("d")
    first = path[1:].split(" L")[0].split(",")
    assert (marker.get("cx"), marker.get("cy")) == (first[0], first[1])  # same point as the series' first


def test_text_is_escaped_everywhere():
    chart = _chart([_marker("2025-03-03T13:00:00Z", 4000.0, segment=EVIL)])
    chart["metric"], chart["unit"] = EVIL, EVIL
    for svg in (time_series_svg(chart, EVIL), bar_svg([(EVIL, 3, EVIL)], EVIL, "b"),
                drift_svg([{"computed_at": "2025-03-04T00:00:00Z", "score": 0.2, "ci_lo": 0.1, "ci_hi": 0.3,
                            "verdict": EVIL, "subject": EVIL}], "d")):
        root = ET.fromstring(svg)  # parses: nothing broke out of its element or attribute
        assert "<script" not in svg and "<img" not in svg
        assert root.find(".//script") is None and root.find(".//img") is None
        assert any(EVIL in (e.text or "") for e in root.iter())  # shown whole, as text


def test_empty_and_degenerate_series():
    empty = ET.fromstring(time_series_svg({"metric": "m", "series": {}, "markers": []}, "e"))
    assert "no m values in the window" in [t.text for t in empty.iter("text")]
    one = ET.fromstring(time_series_svg(_chart([], values=(5.0,)), "o"))  # one point, flat values
    assert one.find(".//path[@class='series']") is not None
    flat = ET.fromstring(time_series_svg(_chart([], values=(0.0, 0.0, 0.0), band=False), "f"))
    ys = [float(t.get("y")) for t in flat.iter("text") if t.get("text-anchor") == "end"]
    assert all(math.isfinite(y) for y in ys)


def test_drift_chart_points_and_ci_band():
    history = [{"computed_at": f"2025-03-0{i}T03:00:00Z", "subject": f"d{i}", "score": s, "ci_lo": s - 0.05,
                "ci_hi": s + 0.05, "verdict": v} for i, (s, v) in enumerate(
                    [(0.05, "SHIP"), (0.2, "MONITOR"), (0.45, "REVIEW"), (0.7, "BLOCK")], start=3)]
    history.append({"computed_at": None, "score": 0.1, "verdict": "SHIP"})
    root = ET.fromstring(drift_svg(history, "d"))
    points = [c for c in root.iter("circle") if "point" in c.get("class", "")]
    assert [p.get("class").split()[1] for p in points] == ["verdict-SHIP", "verdict-MONITOR", "verdict-REVIEW",
                                                            "verdict-BLOCK"]
    assert points[-1].get("fill") == "#dc2626" and points[0].get("fill") == "#16a34a"
    assert root.find(".//path[@class='ci']").get("d").endswith("Z")
    assert "d6: score 0.700 [0.650, 0.750], BLOCK" == points[-1].find("title").text
    assert "no drift results yet" in drift_svg([], "x")


def test_bar_chart_lengths_are_proportional():
    root = ET.fromstring(bar_svg([("a", 10, "#f00"), ("b", 5, "#0f0"), ("c", None, "#00f")], "t", "b"))
    bars = [float(r.get("width")) for r in root.iter("rect") if r.get("class") == "bar"]
    assert len(bars) == 2 and bars[0] == pytest.approx(2 * bars[1])


@pytest.mark.parametrize("value,text", [(0, "0"), (6048, "6,048"), (12500, "12.5k"), (3.4e6, "3.4M"),
                                        (0.25, "0.25"), (0.000732, "0.000732"), (1.5, "1.5"), (-2e9, "-2B"),
                                        (float("nan"), "–"), (None, "–")])
def test_format_number(value, text):
    assert format_number(value) == text


@given(st.floats(-1e9, 1e9), st.floats(-1e9, 1e9), st.integers(2, 10))
def test_nice_ticks_cover_the_range_with_round_steps(a, b, count):
    lo, hi = min(a, b), max(a, b)
    ticks, step = nice_ticks(lo, hi, count)
    assert ticks[0] <= lo + 1e-6 * step and ticks[-1] >= hi - 1e-6 * step  # covered, up to float noise
    assert 2 <= len(ticks) <= count + 3
    mantissa = step / 10 ** math.floor(math.log10(step))
    assert any(math.isclose(mantissa, m, rel_tol=1e-9) for m in (1, 2, 2.5, 5, 10))
    assert all(math.isclose(y - x, step, rel_tol=1e-6, abs_tol=1e-9 * step) for x, y in zip(ticks, ticks[1:]))


@given(st.integers(0, 2_000_000_000), st.integers(1, 400 * 86400))
def test_time_ticks_are_round_utc_instants_inside_the_range(t0, span):
    ticks = time_ticks(t0, t0 + span)
    assert 1 <= len(ticks) <= 8 or span < 1
    times = [t for t, _ in ticks]
    assert times == sorted(times) and t0 <= times[0] and times[-1] <= t0 + span + 1e-6
    assert all(label for _, label in ticks)


def test_time_tick_labels():
    day = datetime(2025, 3, 3, tzinfo=timezone.utc).timestamp()
    assert [label for _, label in time_ticks(day, day + 6 * 86400)][:2] == ["Mar 3", "Mar 4"]
    assert [label for _, label in time_ticks(day, day + 6 * 3600)][:2] == ["00:00", "01:00"]


def test_the_line_breaks_across_a_silence_instead_of_bridging_it():
    times = [0, 60, 120, 180, 86_400, 86_460, 86_520]  # a day without data between two bursts
    assert gap_breaks(times, times[-1] - times[0]) == {4}
    assert gap_breaks([0, 60, 120, 180, 240], 240) == set()
    chart = _chart([], values=[1.0] * 7)
    chart["series"]["ts"] = [datetime.fromtimestamp(1_741_000_000 + t, timezone.utc).isoformat() for t in times]
    root = ET.fromstring(time_series_svg(chart, "c"))
    path = next(p for p in root.iter() if p.tag.endswith("path") and "series" in p.get("class", ""))
    assert path.get("d").count("M") == 2 and path.get("d").count("L") == 5
