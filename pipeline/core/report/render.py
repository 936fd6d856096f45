"""Renders report data (from `build_report_data`) as one self-contained HTML page, Markdown or JSON, and signs and
verifies the HTML: with sign=True the SHA-256 of the body is written in a meta tag and the footer."""
from __future__ import annotations

import hashlib
import hmac
import json
import re
from pathlib import Path

import jinja2
from markupsafe import Markup

from ..invariants.pii_mask import for_people
from .format import FILTERS
from .svg import SEVERITY_COLORS, bar_svg, drift_svg, time_series_svg
from .values import clean, parse_time

TEMPLATES = {"default": "default.html.j2", "eu-ai-act": "eu-ai-act.html.j2"}
BODY_START, BODY_END = "<!--strata-body-start-->", "<!--strata-body-end-->"
SIGNATURE_SLOT = "@@strata-body-sha256@@"  # replaced after hashing, outside the body only
_META = re.compile(r'<meta name="strata-body-sha256" content="([0-9a-f]{64})">')
_SHOWN = re.compile(r'<code class="sha256">([0-9a-f]{64})</code>')
_ENV = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).with_name("templates")),
                          autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default=False),
                          trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
_ENV.filters.update(FILTERS)
_ENV.filters["stamp"] = lambda value: "–" if (t := parse_time(value)) is None else f"{t:%Y-%m-%d %H:%M}"  # UTC
METRIC_BAR = "#6366f1"


def render_html(data: dict, template: str = "default", sign: bool = False) -> str:
    """The report as one HTML page: inline CSS and SVG, no script, no external URL (a CSP forbids fetching any).
    sign=True: the SHA-256 of the UTF-8 bytes strictly between BODY_START and BODY_END is written in
    `<meta name="strata-body-sha256">` and the footer; `verify_report` checks it."""
    if template not in TEMPLATES:
        raise ValueError(f"unknown template {template!r}; known: {', '.join(TEMPLATES)}")
    data = for_people(data)  # PII masked, bidi controls visible: whatever the data holds
    page = _ENV.get_template(TEMPLATES[template]).render(d=data, charts=_charts(data), sign=bool(sign),
                                                        signature=SIGNATURE_SLOT, body_start=Markup(BODY_START),
                                                        body_end=Markup(BODY_END), template=template)
    head, body, tail = _split(page)
    if not sign:
        return page
    digest = hashlib.sha256(body.encode("utf-8")).hexdigest()
    return head.replace(SIGNATURE_SLOT, digest) + BODY_START + body + BODY_END + tail.replace(SIGNATURE_SLOT, digest)


def _split(page: str) -> tuple[str, str, str]:
    """(before the body, the body, after it); the markers appear once since user text is escaped (`<` → `&lt;`)."""
    if page.count(BODY_START) != 1 or page.count(BODY_END) != 1:
        raise ValueError("a report must hold exactly one body start and one body end marker")
    head, rest = page.split(BODY_START)
    body, tail = rest.split(BODY_END)
    return head, body, tail


def body_sha256(html: str) -> str | None:
    """SHA-256 (hex) of the UTF-8 bytes between the body markers, or None when the markers are not there once each."""
    try:
        _, body, _ = _split(html)
    except ValueError:
        return None
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def verify_report(html: str) -> bool:
    """True when a signed report's body still has the SHA-256 written in its meta tag and its footer."""
    if not isinstance(html, str):
        return False
    try:
        head, body, tail = _split(html)
    except ValueError:
        return False
    claimed = _META.findall(head)
    shown = _SHOWN.findall(tail)
    if len(claimed) != 1 or any(s != claimed[0] for s in shown):
        return False
    return hmac.compare_digest(hashlib.sha256(body.encode("utf-8")).hexdigest(), claimed[0])


def _charts(data: dict) -> dict:
    """Inline SVG of every chart, as markup the templates insert (the SVG builders escape all text themselves)."""
    anomalies, drift, summary = data.get("anomalies") or {}, data.get("drift") or {}, data.get("summary") or {}
    version = drift.get("version") or {}
    inv = summary.get("invariants") or {}
    status_colors = {"holds": "#16a34a", "degraded": "#f59e0b", "violated": "#dc2626", "unknown": "#94a3b8",
                     "unchecked": "#cbd5e1"}
    return {
        # a metric without anomalies is context, not news: a shorter chart
        "metrics": [Markup(time_series_svg(c, f"chart-metric-{i}", height=250 if c.get("markers") else 190))
                    for i, c in enumerate(anomalies.get("charts", []))],
        "drift": Markup(drift_svg(drift.get("history", []), "chart-drift")) if drift.get("history") else None,
        "by_metric": Markup(bar_svg([(m, n, METRIC_BAR) for m, n in (anomalies.get("by_metric") or {}).items()][:10],
                                    "Anomalies per metric", "chart-by-metric")) if anomalies.get("by_metric") else None,
        "by_severity": Markup(bar_svg([(s, n, SEVERITY_COLORS.get(s, "#94a3b8"))
                                       for s, n in (anomalies.get("by_severity") or {}).items()],
                                      "Anomalies by severity", "chart-by-severity")) if anomalies.get("total") else None,
        "by_status": Markup(bar_svg([(s, inv.get(s, 0), c) for s, c in status_colors.items() if inv.get(s)],
                                    "Invariants by latest status", "chart-by-status")) if inv.get("total") else None,
        "dimensions": Markup(bar_svg([(d["name"], d.get("score"), "#4f46e5" if d.get("significant") else "#94a3b8")
                                      for d in version.get("dimensions", [])[:8]], "Drift score per dimension",
                                     "chart-dimensions", width=420, fmt=lambda v: f"{v:.2f}"))
        if version.get("dimensions") else None,
    }


def render_markdown(data: dict) -> str:
    """The report as Markdown (same sections and numbers as the HTML, without charts); user text is escaped."""
    return _ENV.get_template("default.md.j2").render(d=for_people(data))


def render_json(data: dict) -> str:
    """The report as JSON. Stable schema, `"schema_version": 1`; every timestamp is ISO-8601 UTC (`...Z`), every
    number finite or null. Top-level keys:
      schema_version, title, generated_at, strata_version,
      window      {start, end, seconds}
      summary     {computed, drops, rows_read, rows_kept, rows_rejected, bytes, parse_rate, formats {name: n},
                   vendors {name: n}, first_ingested_at, last_ingested_at,
                   invariants {total, violated, degraded, unknown, holds, unchecked},
                   anomalies {total, critical, warning}, pii {findings, violations} (personal-data kinds only),
                   drift {verdict, score, subject, computed_at} | null}
      invariants  {computed, total, checked_at, families [{family, count, invariants [{id, family, description,
                   confidence, support, total, severity, status, confidence_then, confidence_now, drop_pp,
                   checked_at}]}]}
      anomalies   {computed, total, by_severity {sev: n}, by_metric {metric: n},
                   charts [{metric, unit, anomalies, series {ts [], value [], points_in, downsampled, start, end},
                            band {kind: "iqr"|"sigma", lo, mid, hi, label, computed_at} | null,
                            markers [{ts, value, score, severity, segment}], markers_total}],
                   top [{drop, ts, segment, metric, value, expected, score, severity, explanation}]}
      drift       {computed, history [{computed_at, placed_at, subject, score, ci_lo, ci_hi, verdict}],
                   latest | version: {computed_at, subject, baseline_label, current_label, score, ci_lo, ci_hi,
                   verdict, n_baseline, n_current, hypotheses [text], financial_impact {currency, per_10k_baseline,
                   per_10k_current, delta_per_10k, delta_pct, text} | null, dimensions [{name, kind, group, test,
                   statistic, p_value, p_adjusted, effect, effect_name, score, weight, significant}]} | null}
      pii         {computed, findings [{id, kind, personal_data, description, severity, status, violations, support,
                   total, checked_at, samples [redacted text], remasked}]}
      workflow    {computed, now_label, runs_before, runs_now, more, branches [{branch, before, now, delta}]}
    A section that could not be read also carries `error`."""
    return json.dumps(for_people(clean(data)), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
