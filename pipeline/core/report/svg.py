"""Server-side inline SVG charts for the report (no JS, no fonts to fetch): a metric over time with its baseline
band and anomaly markers, drift score over time with its CI band, and small horizontal bar charts."""
from __future__ import annotations

import math
from datetime import datetime, timezone
from html import escape

from .values import number, parse_time

FONT = "system-ui,-apple-system,'Segoe UI',Roboto,'Helvetica Neue',Arial,sans-serif"
INK, MUTED, GRID, LINE = "#0f172a", "#64748b", "#e2e8f0", "#334155"
BAND, MID = "#c7d2fe", "#4f46e5"
SEVERITY_COLORS = {"critical": "#dc2626", "error": "#ea580c", "warning": "#f59e0b", "info": "#2563eb"}
VERDICT_COLORS = {"SHIP": "#16a34a", "MONITOR": "#d97706", "REVIEW": "#ea580c", "BLOCK": "#dc2626"}
OTHER = "#94a3b8"
TIME_STEPS = (1, 5, 15, 30, 60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400, 2 * 86400, 7 * 86400,
              14 * 86400, 30 * 86400, 91 * 86400, 365 * 86400)
CHAR_W = 6.1  # average glyph width at 11px, for laying out legends without measuring text


def esc(text) -> str:
    """Text safe inside SVG/HTML element content and attribute values."""
    return escape(str(text), quote=True)


# --- scales and ticks ----------------------------------------------------------------------------------------
def nice_ticks(lo: float, hi: float, count: int = 5) -> tuple[list[float], float]:
    """Round tick values (steps of 1, 2, 2.5 or 5 times a power of ten) covering [lo, hi], and the step."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        lo, hi = 0.0, 1.0
    if hi < lo:
        lo, hi = hi, lo
    if hi - lo <= max(abs(lo), abs(hi)) * 1e-9 or hi - lo < 1e-290:  # flat, up to float noise or denormals
        pad = abs(lo) * 0.1 or 1.0
        lo, hi = lo - pad, hi + pad
    raw = (hi - lo) / max(1, count)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if (hi - lo) / (m * mag) <= count)
    first, last = math.floor(lo / step + 1e-9), math.ceil(hi / step - 1e-9)
    return [float(f"{k * step:.12g}") for k in range(first, last + 1)], step


def format_number(value: float | None, step: float | None = None) -> str:
    """Readable numbers: 1,234 · 12.5k · 3.4M · 0.25 · 0.00073 (decimals follow `step` on an axis)."""
    if value is None or not math.isfinite(value):
        return "–"
    a = abs(value)
    if a >= 1e9:
        return f"{value / 1e9:.3g}B"
    if a >= 1e6:
        return f"{value / 1e6:.3g}M"
    if a >= 1e4:
        return f"{value / 1e3:.3g}k"
    if step is not None and step > 0:
        decimals = max(0, -math.floor(math.log10(step) + 1e-9))
        return f"{value:,.{min(decimals, 8)}f}"
    if a >= 100 or a == 0:
        return f"{value:,.0f}"
    return f"{value:.3g}" if a < 1 else f"{value:,.2f}".rstrip("0").rstrip(".")


def time_ticks(t0: float, t1: float, count: int = 7) -> list[tuple[float, str]]:
    """(epoch seconds, label) at round UTC instants: minutes, hours, days or weeks depending on the span."""
    span = max(t1 - t0, 1.0)
    step = next((s for s in TIME_STEPS if span / s <= count), TIME_STEPS[-1])
    if step >= 86400:
        fmt = "{d:%b} {d.day}"
    elif span > 86400:
        fmt = "{d:%b} {d.day} {d:%H:%M}"
    else:
        fmt = "{d:%H:%M}" if step >= 60 else "{d:%H:%M:%S}"
    out, t = [], math.ceil(t0 / step) * step
    while t <= t1 + 1e-6:
        out.append((t, fmt.format(d=datetime.fromtimestamp(t, timezone.utc))))
        t += step
    return out


class Frame:
    """The plotting area of a chart and its linear scales."""

    def __init__(self, width: int, height: int, left: int, right: int, top: int, bottom: int,
                 x_domain: tuple[float, float], y_domain: tuple[float, float]):
        self.w, self.h = width, height
        self.x0, self.x1, self.y0, self.y1 = left, width - right, top, height - bottom
        (a, b), (c, d) = x_domain, y_domain
        self.xd = (a, b if b > a else a + 1.0)
        self.yd = (c, d if d > c else c + 1.0)

    def x(self, v: float) -> float:
        return round(self.x0 + (v - self.xd[0]) / (self.xd[1] - self.xd[0]) * (self.x1 - self.x0), 2)

    def y(self, v: float) -> float:
        return round(self.y1 - (v - self.yd[0]) / (self.yd[1] - self.yd[0]) * (self.y1 - self.y0), 2)


def _open(chart_id: str, width: int, height: int, title: str, desc: str, css_class: str) -> list[str]:
    cid = esc(chart_id)
    # No xmlns: the charts are inline in HTML (which sets the namespace) and the report holds no URL at all.
    return [f'<svg class="chart {css_class}" viewBox="0 0 {width} {height}" '
            f'width="{width}" height="{height}" role="img" aria-labelledby="{cid}-title {cid}-desc" '
            f'font-family="{FONT}" font-size="11">',
            f'<title id="{cid}-title">{esc(title)}</title>', f'<desc id="{cid}-desc">{esc(desc)}</desc>']


def _axes(f: Frame, y_ticks: list[float], y_step: float, x_ticks: list[tuple[float, str]], y_label: str) -> list[str]:
    out = []
    for v in y_ticks:
        y = f.y(v)
        out.append(f'<line x1="{f.x0}" x2="{f.x1}" y1="{y}" y2="{y}" stroke="{GRID}" stroke-width="1"/>')
        out.append(f'<text x="{f.x0 - 6}" y="{y + 3.5}" text-anchor="end" fill="{MUTED}">'
                   f'{esc(format_number(v, y_step))}</text>')
    for t, label in x_ticks:
        x = f.x(t)
        out.append(f'<line x1="{x}" x2="{x}" y1="{f.y1}" y2="{f.y1 + 4}" stroke="{MUTED}"/>')
        half = len(label) * CHAR_W / 2
        if x - half >= f.x0 - 4 and x + half <= f.w:  # a label over the "UTC" one or off the edge: tick only
            out.append(f'<text x="{x}" y="{f.y1 + 16}" text-anchor="middle" fill="{MUTED}">{esc(label)}</text>')
    out.append(f'<line x1="{f.x0}" x2="{f.x1}" y1="{f.y1}" y2="{f.y1}" stroke="{MUTED}" stroke-width="1"/>')
    if y_label:
        out.append(f'<text x="{f.x0 - 6}" y="{f.y0 - 14}" text-anchor="end" fill="{MUTED}">{esc(y_label)}</text>')
    out.append(f'<text x="{f.x0 - 6}" y="{f.y1 + 16}" text-anchor="end" fill="{MUTED}">UTC</text>')
    return out


def _legend(items: list[tuple[str, str]], x: float, y: float,
            right: float = math.inf) -> tuple[list[str], float, float]:
    """Legend entries (svg swatch markup at the origin, label) laid out left to right, on a second row past `right`
    (a label too long for one row is cut with an ellipsis, whole in its tooltip); also where the last entry ends."""
    out, left = [], x
    room = max(8, int((right - left - 16) / CHAR_W)) if math.isfinite(right) else 10 ** 6
    for swatch, label in items:
        shown = label if len(label) <= room else label[:room - 1] + "…"
        width = 16 + len(shown) * CHAR_W
        if x > left and x + width > right:
            x, y = left, y + 16
        tip = f"<title>{esc(label)}</title>" if shown != label else ""
        out.append(f'<g transform="translate({round(x, 1)},{y})">{tip}{swatch}'
                   f'<text x="16" y="4" fill="{INK}">{esc(shown)}</text></g>')
        x += width + 14
    return out, x, y


def _path(points: list[tuple[float, float]], breaks: set[int] = frozenset()) -> str:
    """An SVG path through the points; a new subpath starts at each index in `breaks` (no line across a gap)."""
    return "".join(("M" if i == 0 or i in breaks else " L") + f"{x},{y}" for i, (x, y) in enumerate(points))


def gap_breaks(times: list[float], span: float) -> set[int]:
    """Indexes after a silence: a gap over 5x the median spacing and over 2% of the chart's time span."""
    if len(times) < 3:
        return set()
    gaps = sorted(b - a for a, b in zip(times, times[1:]))
    limit = max(5 * gaps[len(gaps) // 2], 0.02 * span)
    return {i + 1 for i, (a, b) in enumerate(zip(times, times[1:])) if b - a > limit}


def _epoch(value) -> float | None:
    t = parse_time(value)
    return t.timestamp() if t else None


def _empty(out: list[str], width: int, height: int, text: str) -> str:
    out.append(f'<rect x="1" y="1" width="{width - 2}" height="{height - 2}" rx="8" fill="#f8fafc" stroke="{GRID}"/>')
    out.append(f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle" fill="{MUTED}" font-size="13">'
               f'{esc(text)}</text></svg>')
    return "".join(out)


# --- charts --------------------------------------------------------------------------------------------------
def time_series_svg(chart: dict, chart_id: str, width: int = 760, height: int = 250) -> str:
    """A chart of the report's anomalies section: values over time, baseline band, one marker per anomaly."""
    metric, unit = str(chart.get("metric")), str(chart.get("unit") or "")
    series, band = chart.get("series") or {}, chart.get("band")
    pts = [(t, v) for t, v in zip(map(_epoch, series.get("ts", [])), map(number, series.get("value", [])))
           if t is not None and v is not None]
    marks = [(t, v, m) for m in chart.get("markers", [])
             if (t := _epoch(m.get("ts"))) is not None and (v := number(m.get("value"))) is not None]
    counts = {s: sum(1 for *_, m in marks if m.get("severity") == s) for s in SEVERITY_COLORS}
    desc = (f"{len(pts)} points" + (" (median per time bucket)" if series.get("downsampled") else "") +
            f"; {len(marks)} anomalies marked" + "".join(f", {n} {s}" for s, n in counts.items() if n) +
            (f"; {band['label']}" if band else "; no baseline"))
    out = _open(chart_id, width, height, f"{metric} over time", desc, "timeseries")
    if not pts and not marks:
        return _empty(out, width, height, f"no {metric} values in the window")
    times = [t for t, _ in pts] + [t for t, *_ in marks]
    ys = [v for _, v in pts] + [v for _, v, _ in marks]
    band_vals = [number(band.get(k)) for k in ("lo", "mid", "hi")] if band else []
    ys += [v for v in band_vals if v is not None]
    y_ticks, y_step = nice_ticks(min(ys), max(ys), 5)
    t0, t1 = min(times), max(times)
    if t1 - t0 < 1:
        t0, t1 = t0 - 3600, t1 + 3600
    legend = [(f'<line x1="0" x2="12" y1="0" y2="0" stroke="{LINE}" stroke-width="2"/>',
               "all segments, bucket median" if series.get("downsampled") else "all segments")] if pts else []
    if band and None not in band_vals:
        legend.append((f'<rect x="0" y="-5" width="12" height="10" fill="{BAND}"/>'
                       f'<line x1="0" x2="12" y1="0" y2="0" stroke="{MID}" stroke-dasharray="3 2"/>', band["label"]))
    legend += [(f'<circle cx="6" cy="0" r="4.5" fill="{SEVERITY_COLORS[s]}"/>', f"{s} ({n})")
               for s, n in counts.items() if n]
    hidden = int(chart.get("markers_total") or 0) - len(marks)
    note = f"+{hidden} lower-score anomalies not drawn" if hidden > 0 else ""
    left, right = 64, width - 18
    drawn, end, row = _legend(legend, left, 14, right)
    note_y = row + 4 if end + len(note) * CHAR_W <= right - 8 else row + 20  # else on a row of its own
    top = 46 + max(row - 14, (note_y - 18 if note else 0))  # a taller legend pushes the plot down
    f = Frame(width, height, left, 18, top, 30, (t0, t1), (y_ticks[0], y_ticks[-1]))
    out += _axes(f, y_ticks, y_step, time_ticks(t0, t1), unit)
    if band and None not in band_vals:
        lo, mid, hi = band_vals
        yl, yh = f.y(max(lo, f.yd[0])), f.y(min(hi, f.yd[1]))
        out.append(f'<rect class="band" x="{f.x0}" y="{yh}" width="{f.x1 - f.x0}" height="{max(0.0, yl - yh)}" '
                   f'fill="{BAND}" fill-opacity="0.55"/>')
        out.append(f'<line class="band-mid" x1="{f.x0}" x2="{f.x1}" y1="{f.y(mid)}" y2="{f.y(mid)}" stroke="{MID}" '
                   f'stroke-width="1.2" stroke-dasharray="5 4"/>')
    if pts:
        breaks = gap_breaks([t for t, _ in pts], t1 - t0)
        out.append(f'<path class="series" d="{_path([(f.x(t), f.y(v)) for t, v in pts], breaks)}" fill="none" '
                   f'stroke="{LINE}" stroke-width="1.4" stroke-linejoin="round"/>')
    radius = 4.5 if len(marks) <= 40 else 3.5  # many markers: smaller, so a burst stays a column, not a blot
    for t, v, m in sorted(marks, key=lambda k: k[2].get("severity") == "critical"):
        sev = str(m.get("severity") or "")
        score = number(m.get("score"))
        label = (f"{datetime.fromtimestamp(t, timezone.utc):%Y-%m-%d %H:%M} UTC · {metric} {format_number(v)} {unit}"
                 f" · {format_number(score)}σ · {sev} · {m.get('segment') or ''}")
        out.append(f'<circle class="marker marker-{esc(sev)}" cx="{f.x(t)}" cy="{f.y(v)}" r="{radius}" '
                   f'fill="{SEVERITY_COLORS.get(sev, OTHER)}" stroke="#fff" stroke-width="1">'
                   f'<title>{esc(label)}</title></circle>')
    out += drawn
    if note:
        out.append(f'<text x="{right}" y="{note_y}" text-anchor="end" fill="{MUTED}">{esc(note)}</text>')
    return "".join(out) + "</svg>"


def drift_svg(history: list[dict], chart_id: str, width: int = 760, height: int = 230) -> str:
    """Drift score per drop over time (at the drop's last entry, `placed_at`, else when it was scored): the score line,
    its 95% CI band, points colored by verdict."""
    pts = [(t, s, number(h.get("ci_lo")), number(h.get("ci_hi")), h) for h in history
           if (t := _epoch(h.get("placed_at") or h.get("computed_at"))) is not None and (s := number(h.get("score"))) is not None]
    verdicts = [str(h.get("verdict")) for *_, h in pts]
    desc = f"{len(pts)} drift results" + (f"; latest score {pts[-1][1]:.3f} ({verdicts[-1]})" if pts else "")
    out = _open(chart_id, width, height, "Drift score per drop over time", desc, "drift")
    if not pts:
        return _empty(out, width, height, "no drift results yet")
    top = max([1.0] + [v for p in pts for v in (p[1], p[3]) if v is not None])
    y_ticks, y_step = nice_ticks(0.0, top, 5)
    t0, t1 = pts[0][0], pts[-1][0]
    pad = max((t1 - t0) * 0.04, 43200.0)  # keeps the first and last points off the axes
    t0, t1 = t0 - pad, t1 + pad
    f = Frame(width, height, 56, 18, 46, 30, (t0, t1), (0.0, y_ticks[-1]))
    out += _axes(f, y_ticks, y_step, time_ticks(t0, t1), "score")
    ci = [(t, lo, hi) for t, _, lo, hi, _ in pts if lo is not None and hi is not None]
    if len(ci) > 1:
        ring = [(f.x(t), f.y(hi)) for t, _, hi in ci] + [(f.x(t), f.y(lo)) for t, lo, _ in reversed(ci)]
        out.append(f'<path class="ci" d="{_path(ring)} Z" fill="{BAND}" fill-opacity="0.6"/>')
    elif ci:
        t, lo, hi = ci[0]
        out.append(f'<line class="ci" x1="{f.x(t)}" x2="{f.x(t)}" y1="{f.y(lo)}" y2="{f.y(hi)}" stroke="{BAND}" '
                   f'stroke-width="8"/>')
    out.append(f'<path class="series" d="{_path([(f.x(p[0]), f.y(p[1])) for p in pts])}" fill="none" '
               f'stroke="{LINE}" stroke-width="1.6"/>')
    for (t, s, lo, hi, h), verdict in zip(pts, verdicts):
        ci_text = f" [{lo:.3f}, {hi:.3f}]" if lo is not None and hi is not None else ""
        label = f"{h.get('subject') or ''}: score {s:.3f}{ci_text}, {verdict}"
        out.append(f'<circle class="point verdict-{esc(verdict)}" cx="{f.x(t)}" cy="{f.y(s)}" r="5" '
                   f'fill="{VERDICT_COLORS.get(verdict, OTHER)}" stroke="#fff" stroke-width="1.2">'
                   f'<title>{esc(label)}</title></circle>')
    legend = [(f'<line x1="0" x2="12" y1="0" y2="0" stroke="{LINE}" stroke-width="2"/>', "score"),
              (f'<rect x="0" y="-5" width="12" height="10" fill="{BAND}"/>', "95% CI")]
    legend += [(f'<circle cx="6" cy="0" r="4.5" fill="{c}"/>', v) for v, c in VERDICT_COLORS.items() if v in verdicts]
    out += _legend(legend, f.x0, 14, f.x1)[0]
    return "".join(out) + "</svg>"


def bar_svg(items: list[tuple[str, float, str]], title: str, chart_id: str, width: int = 360,
            fmt=format_number) -> str:
    """Horizontal bars: (label, value, color) per row, the value printed at the bar's end."""
    rows = [(str(label), v, color) for label, value, color in items if (v := number(value)) is not None]
    row_h, label_w = 22, 132
    height = max(40, 12 + row_h * len(rows))
    out = _open(chart_id, width, height, title, "; ".join(f"{label}: {fmt(v)}" for label, v, _ in rows), "bars")
    if not rows:
        return _empty(out, width, height, "nothing to show")
    top = max(max(v for _, v, _ in rows), 1e-12)
    span = width - label_w - 56
    for i, (label, v, color) in enumerate(rows):
        y = 6 + i * row_h
        w = round(max(0.0, v) / top * span, 2)
        short = label if len(label) <= 20 else label[:19] + "…"
        out.append(f'<text x="{label_w - 8}" y="{y + 14}" text-anchor="end" fill="{INK}">{esc(short)}</text>')
        out.append(f'<rect class="bar" x="{label_w}" y="{y + 3}" width="{max(w, 1.5)}" height="{row_h - 8}" rx="3" '
                   f'fill="{esc(color)}"><title>{esc(label)}: {esc(fmt(v))}</title></rect>')
        out.append(f'<text x="{label_w + max(w, 1.5) + 6}" y="{y + 14}" fill="{MUTED}">{esc(fmt(v))}</text>')
    return "".join(out) + "</svg>"
