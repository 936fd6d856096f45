"""A drift result (its JSON dict) as a compact terminal summary, Markdown for PR comments, or a standalone HTML page."""
from __future__ import annotations

import json

import jinja2

SIG_FIRST = lambda d: (not d["significant"], -(d["score"] or 0) * (d["weight"] or 0), -(d["raw_score"] or 0))  # noqa: E731
VERDICT_COLORS = {"SHIP": "#1a7f37", "MONITOR": "#9a6700", "REVIEW": "#bc4c00", "BLOCK": "#cf222e"}


def _p(p) -> str:
    if p is None:
        return "-"
    return "<1e-300" if p < 1e-300 else f"{p:.1e}" if p < 1e-3 else f"{p:.3f}"


def _f(v, digits: int = 3) -> str:
    if v is None:
        return "-"
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.{digits}g}"


def _effect(d: dict) -> str:
    short = {"wasserstein_norm": "W", "js_distance": "JS", "cohens_h": "h"}.get(d["effect_name"], d["effect_name"] or "")
    return f"{short} {_f(d['effect'])}" if d["effect"] is not None else "-"


def dimensions_sorted(report: dict) -> list[dict]:
    return sorted(report["dimensions"], key=SIG_FIRST)


def to_json(report: dict) -> str:
    return json.dumps(report, indent=2, allow_nan=False)


def to_text(report: dict, limit: int = 12) -> str:
    ci = report["ci"]
    lines = [
        f"Drift  {report['baseline_label']} -> {report['current_label']}  "
        f"({report['n_baseline']:,} vs {report['n_current']:,} entries)",
        f"Score  {report['score']:.3f}  95% CI [{ci[0]:.3f}, {ci[1]:.3f}]    Verdict  {report['verdict']}",
    ]
    if report["hypotheses"]:
        lines.append("Why")
        lines += [f"  {i}. {h['text']}" for i, h in enumerate(report["hypotheses"], 1)]
    else:
        lines.append("Why    no dimension changed beyond chance and the practical floor")
    if (fi := report.get("financial_impact") or {}).get("text"):
        lines.append(f"Cost   {fi['text']}")
    lines.append("")
    head = f"  {'dimension':<22} {'test':<6} {'statistic':>10} {'p adj':>8} {'effect':>11} {'score':>6} {'weight':>6}"
    lines.append(head)
    for d in dimensions_sorted(report)[:limit]:
        mark = "*" if d["significant"] else " "
        lines.append(f"{mark} {d['name']:<22} {d['test']:<6} {_f(d['statistic']):>10} {_p(d['p_adjusted']):>8} "
                     f"{_effect(d):>11} {(d['score'] or 0):>6.2f} {(d['weight'] or 0):>6.1f}")
    rest = len(report["dimensions"]) - limit
    if rest > 0:
        lines.append(f"  ... {rest} more (--format json shows all)")
    lines.append("  * significant after Benjamini-Hochberg and above the practical floor")
    return "\n".join(lines)


def to_markdown(report: dict) -> str:
    ci = report["ci"]
    out = [f"### Strata drift: {_md(report['baseline_label'])} → {_md(report['current_label'])} — **{report['verdict']}**", "",
           f"Score **{report['score']:.3f}** (95% CI {ci[0]:.3f}–{ci[1]:.3f}) over {report['n_baseline']:,} vs "
           f"{report['n_current']:,} entries.", ""]
    if report["hypotheses"]:
        out += [f"{i}. {_md(h['text'])}" for i, h in enumerate(report["hypotheses"], 1)] + [""]
    if (fi := report.get("financial_impact") or {}).get("text"):
        out += [f"**Cost:** {_md(fi['text'])}", ""]
    out += ["| dimension | test | statistic | p (adj.) | effect | score | weight |", "|---|---|---:|---:|---:|---:|---:|"]
    for d in dimensions_sorted(report):
        name = f"**{d['name']}**" if d["significant"] else d["name"]
        out.append(f"| {name} | {d['test']} | {_f(d['statistic'])} | {_p(d['p_adjusted'])} | {_effect(d)} | "
                   f"{(d['score'] or 0):.2f} | {(d['weight'] or 0):.1f} |")
    return "\n".join(out) + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


_HTML = jinja2.Environment(autoescape=True).from_string("""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Strata drift: {{ r.baseline_label }} → {{ r.current_label }}</title>
<style>
body{font:14px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1f2328;max-width:980px;margin:2rem auto;padding:0 1rem}
h1{font-size:1.4rem;margin:0 0 .3rem}.badge{display:inline-block;padding:.15rem .6rem;border-radius:1rem;color:#fff;font-weight:600}
.cards{display:flex;gap:1rem;margin:1rem 0}.card{border:1px solid #d0d7de;border-radius:8px;padding:.6rem 1rem;min-width:8rem}
.card b{display:block;font-size:1.3rem}table{border-collapse:collapse;width:100%;margin-top:1rem}
th,td{padding:.3rem .5rem;border-bottom:1px solid #d0d7de;text-align:right}th:first-child,td:first-child{text-align:left}
tr:nth-child(even){background:#f6f8fa}tr.sig td:first-child{font-weight:600}ol{padding-left:1.3rem}
</style></head><body>
<h1>Drift: {{ r.baseline_label }} → {{ r.current_label }}</h1>
<span class="badge" style="background:{{ color }}">{{ r.verdict }}</span>
<div class="cards"><div class="card">score<b>{{ "%.3f"|format(r.score) }}</b></div>
<div class="card">95% CI<b>{{ "%.3f"|format(r.ci[0]) }}–{{ "%.3f"|format(r.ci[1]) }}</b></div>
<div class="card">entries<b>{{ "{:,}".format(r.n_baseline) }} / {{ "{:,}".format(r.n_current) }}</b></div></div>
{% if r.hypotheses %}<h2>Why</h2><ol>{% for h in r.hypotheses %}<li>{{ h.text }}</li>{% endfor %}</ol>{% endif %}
{% if r.financial_impact and r.financial_impact.text %}<p><b>Cost:</b> {{ r.financial_impact.text }}</p>{% endif %}
<table><tr><th>dimension</th><th>test</th><th>statistic</th><th>p (adj.)</th><th>effect</th><th>score</th><th>weight</th></tr>
{% for d in dims %}<tr class="{{ 'sig' if d.significant }}"><td>{{ d.name }}</td><td>{{ d.test }}</td><td>{{ f(d.statistic) }}</td>
<td>{{ p(d.p_adjusted) }}</td><td>{{ e(d) }}</td><td>{{ "%.2f"|format(d.score or 0) }}</td><td>{{ "%.1f"|format(d.weight or 0) }}</td></tr>
{% endfor %}</table></body></html>
""")


def to_html(report: dict) -> str:
    return _HTML.render(r=report, dims=dimensions_sorted(report), color=VERDICT_COLORS.get(report["verdict"], "#57606a"),
                        f=_f, p=_p, e=_effect)


RENDERERS = {"text": to_text, "md": to_markdown, "json": to_json, "html": to_html}
