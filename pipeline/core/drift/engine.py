"""The drift diff end to end: fingerprint two entry sets, test every dimension, explain, price and give a verdict;
plus splitting one source into baseline and current by a column (version, model, prompt_version)."""
from __future__ import annotations

import math

import pyarrow as pa
import pyarrow.compute as pc

from ..config import DriftSettings, DriftVerdict
from ..ingest.pricing import PriceTable
from .explain import financial_impact, hypotheses
from .fingerprint import fingerprint_dimensions
from .model import DriftResult
from .scoring import DEFAULT_FLOORS, DEFAULT_WEIGHTS, score_dimensions

VERDICTS = ("SHIP", "MONITOR", "REVIEW", "BLOCK")


def diff_entries(a: pa.Table, b: pa.Table, settings: DriftSettings | None = None, prices: PriceTable | None = None,
                 *, baseline_label: str = "baseline", current_label: str = "current") -> DriftResult:
    """Baseline `a` against current `b`: the scored, explained DriftResult."""
    settings = settings or DriftSettings()
    dims = fingerprint_dimensions(a, b)
    result = score_dimensions(dims, {**DEFAULT_WEIGHTS, **settings.weights}, alpha=settings.alpha,
                              floors={**DEFAULT_FLOORS, **settings.floors}, n_boot=settings.bootstrap,
                              seed=settings.seed)
    result.hypotheses = hypotheses(result.dimensions, dims)
    result.financial_impact = financial_impact(a, b, prices or PriceTable.default())
    result.verdict = verdict(result, settings.verdict)
    result.n_baseline, result.n_current = a.num_rows, b.num_rows
    result.baseline_label, result.current_label = baseline_label, current_label
    return result


def verdict(result: DriftResult, rules: DriftVerdict | None = None) -> str:
    """The stricter of two readings: the composite score against monitor/review/block, and the strongest
    significant dimension against dimension_review/dimension_block (one tool vanishing should not be averaged
    away by twenty quiet dimensions). Any significant dimension means at least MONITOR."""
    rules = rules or DriftVerdict()
    s = result.score
    by_score = 3 if s >= rules.block else 2 if s >= rules.review else 1 if s >= rules.monitor else 0
    top = max((d.score for d in result.dimensions if d.significant), default=0.0)
    by_dim = 3 if top >= rules.dimension_block else 2 if top >= rules.dimension_review else 1 if top > 0 else 0
    # a release that starts leaking PII is never shipped quietly, however small the share
    leaks = any(d.name == "pii_rate" and d.significant and (d.detail.get("rate_diff") or 0) > 0
                for d in result.dimensions)
    return VERDICTS[max(by_score, by_dim, 2 if leaks else 0)]


def exceeds(verdict_name: str, fail_on: str) -> bool:
    """True when `verdict_name` is at least as severe as `fail_on` (for --fail-on)."""
    return VERDICTS.index(verdict_name) >= VERDICTS.index(fail_on)


def split_by(entries: pa.Table, column: str, baseline: str | None = None,
             current: str | None = None) -> tuple[pa.Table, pa.Table, str, str]:
    """Rows where `column` == baseline and == current. Unset values: the newest value (by its latest ts) is
    current and the one before it baseline. Errors name the column and the values that exist."""
    col = by_column(entries, column)
    if baseline is None or current is None:
        order = _values_by_recency(entries, col)
        if len(order) < 2:
            raise ValueError(f"--by {column}: need two distinct values to compare, found {order or 'none'}")
        current = current or order[-1]
        baseline = baseline or next(v for v in reversed(order) if v != current)
    out = []
    for value in (baseline, current):
        rows = entries.filter(pc.fill_null(pc.equal(col, value), False))
        if rows.num_rows == 0:
            known = sorted(v for v in pc.unique(col).to_pylist() if v is not None)[:20]
            raise ValueError(f"--by {column}: no entries with {column} = {value!r}; values are {', '.join(known)}")
        out.append(rows)
    return out[0], out[1], baseline, current


ROLE_ALIASES = {"prompt_version": "version", "app_version": "version", "release": "version",
                "model_name": "model", "service_name": "service", "env": "environment"}


def by_column(entries: pa.Table, column: str) -> pa.ChunkedArray:
    """The values to split on, as strings: a canonical column; else a top-level field of `attributes` (fields no
    role took); else the role the name usually maps to (`prompt_version` is read into `version`)."""
    if column in entries.column_names:
        return pc.cast(entries.column(column), pa.string())
    if "attributes" in entries.column_names and column.replace("_", "").isalnum():
        from ..ingest.normalize import connect

        con = connect()
        try:
            con.register("t", entries.select(["attributes"]))
            values = con.sql(f"""SELECT CASE WHEN json_valid(attributes) THEN
                                   json_extract_string(attributes, '$."{column}"') END AS v FROM t""").to_arrow_table()
        finally:
            con.close()
        if values.column("v").null_count < values.num_rows:
            return values.column("v")
    alias = ROLE_ALIASES.get(column)
    if alias in entries.column_names:
        return pc.cast(entries.column(alias), pa.string())
    raise ValueError(f"--by {column}: the entries have no such column or attribute; columns are "
                     f"{', '.join(c for c in entries.column_names if c != 'attributes')}")


def _values_by_recency(entries: pa.Table, col: pa.ChunkedArray) -> list[str]:
    t = pa.table({"v": col, "ts": entries.column("ts") if "ts" in entries.column_names else
                  pa.nulls(entries.num_rows, pa.timestamp("us", tz="UTC"))})
    g = t.filter(pc.is_valid(t.column("v"))).group_by("v").aggregate([("ts", "max"), ("v", "count")])
    rows = sorted(g.to_pylist(), key=lambda r: (r["ts_max"] is not None, r["ts_max"] or 0, r["v_count"]))
    return [r["v"] for r in rows]


def _num(v):
    if v is None:
        return None
    v = float(v)
    return v if math.isfinite(v) else None


def to_dict(result: DriftResult) -> dict:
    """The stable JSON shape (`strata diff --format json`, `drift_results.report`)."""
    return {
        "score": _num(result.score), "ci": [_num(result.ci[0]), _num(result.ci[1])], "verdict": result.verdict,
        "baseline_label": result.baseline_label, "current_label": result.current_label,
        "n_baseline": int(result.n_baseline), "n_current": int(result.n_current),
        "dimensions": [{
            "name": d.name, "kind": d.kind, "group": d.group, "test": d.test, "statistic": _num(d.statistic),
            "p_value": _num(d.p_value), "p_adjusted": _num(d.p_adjusted), "effect": _num(d.effect),
            "effect_name": d.effect_name, "raw_score": _num(d.raw_score), "score": _num(d.score),
            "weight": _num(d.weight), "significant": bool(d.significant), "psi": _num(d.psi),
            "n_a": int(d.n_a), "n_b": int(d.n_b)} for d in result.dimensions],
        "hypotheses": [{"text": h.text, "dimension": h.dimension, "contribution": _num(h.contribution)}
                       for h in result.hypotheses],
        "financial_impact": {k: (_num(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v)
                             for k, v in result.financial_impact.items()},
    }
