"""Jinja filters that format report values for people: counts, shares, timestamps, durations, sigma, p-values, and
escaping for Markdown table cells."""
from __future__ import annotations

import re

from ..invariants.pii_mask import neutralize_bidi
from .svg import format_number
from .values import number, parse_time

DASH = "–"


def count(value) -> str:
    v = number(value)
    return DASH if v is None else f"{v:,.0f}"


def num(value) -> str:
    v = number(value)
    if v is None:
        return DASH
    return f"{v:,.0f}" if float(v).is_integer() and abs(v) < 1e4 else format_number(v)


def pct(value, digits: int = 2) -> str:
    v = number(value)
    return DASH if v is None else f"{v * 100:.{digits}f}%"


def conf(value) -> str:
    v = number(value)
    return DASH if v is None else f"{v:.3f}"


def sigma(value) -> str:
    v = number(value)
    return DASH if v is None else f"{v:+.1f}σ"


def pval(value) -> str:
    v = number(value)
    if v is None:
        return DASH
    return "<1e-300" if v < 1e-300 else f"{v:.1e}" if v < 1e-3 else f"{v:.3f}"


def pp(value) -> str:
    """A confidence drop in percentage points, shown as the change (a drop of 12 is −12.0 pp)."""
    v = number(value)
    if v is None:
        return DASH
    return "0.0 pp" if abs(v) < 0.05 else f"{-v:+.1f} pp".replace("-", "−")


def dt(value) -> str:
    t = parse_time(value)
    return DASH if t is None else f"{t:%Y-%m-%d %H:%M} UTC"


def day(value) -> str:
    t = parse_time(value)
    return DASH if t is None else f"{t:%b} {t.day}, {t:%Y}"


def duration(seconds) -> str:
    s = number(seconds)
    if s is None:
        return DASH
    if s >= 10 * 86400:  # long spans: whole days (a card has room for "455 days", not "455.1 days")
        return f"{s / 86400:,.0f} days"
    for unit, size in (("days", 86400), ("h", 3600), ("min", 60)):
        if s >= size:
            return f"{s / size:.1f} {unit}"
    return f"{s:.0f} s"


def money(value, currency: str | None = "USD") -> str:
    v = number(value)
    if v is None:
        return DASH
    sign = "−" if v < 0 else "+" if v > 0 else ""
    return f"{sign}${abs(v):,.2f}" if currency in (None, "USD") else f"{sign}{abs(v):,.2f} {currency}"


def slug(value) -> str:
    """A CSS class fragment: lowercase letters, digits and dashes only (anything else is dropped)."""
    return re.sub(r"[^a-z0-9-]", "", str(value).lower()) or "none"


# Inert in a PR comment: an empty HTML comment splits the text node, so GitHub/GitLab cannot turn what follows into a
# mention, an issue reference or an autolink, while the rendered text reads the same.
BREAK = "<!-- -->"
_LIVE = re.compile(r"(?<![0-9A-Za-z])([@!])(?=[0-9A-Za-z_-])|(#)(?=[0-9])|(:)(?=//)|(?<![0-9A-Za-z])(www)(?=\.)"
                   r"|\b(GH)(?=-[0-9])", re.IGNORECASE)


def _inert(match: re.Match) -> str:
    return next(g for g in match.groups() if g) + BREAK


def md(value) -> str:
    """Text safe in a Markdown table cell (and for a PR comment): pipes, angle brackets, backticks and newlines
    neutralized; `@mentions`, `#123` references, bare links and images made inert; bidi controls shown as code points."""
    if value is None:
        return DASH
    text = neutralize_bidi(str(value)).replace("\\", "\\\\").replace("|", "\\|").replace("`", "\\`")
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = re.sub(r"[\r\n]+", " ", text).replace("*", "\\*").replace("_", "\\_").replace("[", "\\[")
    return _LIVE.sub(_inert, text)


FILTERS = {"count": count, "num": num, "pct": pct, "conf": conf, "sigma": sigma, "pval": pval, "pp": pp, "dt": dt,
           "day": day, "duration": duration, "money": money, "slug": slug, "md": md}
