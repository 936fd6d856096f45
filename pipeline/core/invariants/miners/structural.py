"""Structural invariants: output and input shape, JSON structure, and Deequ-style column rules on mapped roles."""
from __future__ import annotations

from ..model import make_invariant
from ..registry import register_miner
from ..sql_checks import TYPE_PATTERNS
from ..stats import wilson_interval
from ..text_scan import qident, sql_str
from ._common import ID_COLUMNS, IDENTIFIER_COLUMNS, NUMERIC, STRINGS, mapped, names, pct, value_counts

FAMILY = "structural"
MAX_CATEGORIES = 30
TYPE_ORDER = ("boolean", "integer", "number", "uuid", "timestamp", "semver", "hex")  # most specific first
TYPE_PHRASES = {"boolean": "a boolean", "integer": "an integer", "number": "a number", "uuid": "a UUID",
                "timestamp": "an ISO timestamp", "semver": "a version number", "hex": "a hex string"}
TYPE_SAMPLE = 20_000
REQUIRED_KEY_SHARE = 0.999


def _inv(check, description, qualifier=None, severity="warning", evidence=None):
    return make_invariant(FAMILY, check, description, qualifier=qualifier, severity=severity, evidence=evidence)


def _text_shape(ctx, field: str, label: str) -> list:
    lo, hi = ctx.sql(f"SELECT min(length({qident(field)})), max(length({qident(field)})) FROM {{t}}")[0]
    return [
        _inv({"kind": "not_empty", "field": field}, f"{label} is never empty"),
        _inv({"kind": "length_between", "field": field, "min": int(lo), "max": int(hi)},
             f"{label} length stays between {lo} and {hi} characters", evidence={"observed_min": lo, "observed_max": hi}),
    ]


def _json_shape(ctx) -> list:
    type_col, keys_col = (qident(c) for c in ctx.evaluator.json_columns("output"))
    valid = {"kind": "json_valid", "field": "output"}
    found = [_inv(valid, "Output is always valid JSON")]
    total, support, _ = ctx.evaluator.counts([valid])[0]
    if not total or support / total < ctx.min_confidence:  # mostly free text: JSON shape says nothing
        return found
    types = ctx.sql(f"SELECT {type_col}, count(*) FROM {{t}} WHERE {type_col} IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1")
    if not types:
        return found
    top_type, n_obj = types[0]
    found.append(_inv({"kind": "json_type", "field": "output", "type": top_type},
                      f"Output JSON is always of type {top_type.lower()}"))
    if top_type != "OBJECT":
        return found
    rows = ctx.sql(f"SELECT k, count(*) FROM (SELECT unnest({keys_col}) AS k FROM {{t}}) GROUP BY k ORDER BY 2 DESC, k")
    if not rows:
        return found
    shares = {k: c / n_obj for k, c in rows}
    required = [k for k, s in shares.items() if s >= REQUIRED_KEY_SHARE]
    optional = {k: round(s, 4) for k, s in shares.items() if s < REQUIRED_KEY_SHARE}
    if required:
        found.append(_inv({"kind": "json_keys", "field": "output", "required": required},
                          f"Output JSON always has keys {names(required)}", qualifier="required",
                          evidence={"key_shares": {k: round(s, 4) for k, s in shares.items()}}))
    if len(shares) <= 200:
        sometimes = f" ({', '.join(f'{k} in {pct(s)}' for k, s in list(optional.items())[:5])} sometimes)" if optional else ""
        found.append(_inv({"kind": "json_keys", "field": "output", "allowed": list(shares)},
                          f"Output JSON has no keys other than {names(list(shares))}{sometimes}", qualifier="allowed",
                          evidence={"always_present": required, "sometimes_present": optional}))
    return found


def _completeness(ctx, columns, counts) -> list:
    found = []
    for c in columns:
        lo, _ = wilson_interval(counts[c], ctx.n)
        found.append(_inv({"kind": "completeness", "field": c, "min": round(lo, 6)},
                          f"{c} is present in at least {pct(lo)} of rows (seen in {pct(counts[c] / ctx.n)})",
                          evidence={"observed": counts[c] / ctx.n}))
    return found


def _types(ctx, columns) -> list:
    if not columns:
        return []
    exprs = [f"avg(regexp_full_match({qident(c)}::VARCHAR, {sql_str(TYPE_PATTERNS[t])})::INT)" for c in columns for t in TYPE_ORDER]
    step = max(1, ctx.n // TYPE_SAMPLE)  # an evenly spaced sample proposes the type; the evaluator measures it on all rows
    shares = ctx.sql(f"SELECT {', '.join(exprs)} FROM {{t}} WHERE _row % {step} = 0")[0]
    found = []
    for i, c in enumerate(columns):
        for j, t in enumerate(TYPE_ORDER):
            share = shares[i * len(TYPE_ORDER) + j]
            if share is not None and share >= ctx.min_confidence:
                found.append(_inv({"kind": "type_is", "field": c, "type": t}, f"{c} always looks like {TYPE_PHRASES[t]}",
                                  qualifier=None))
                break
    return found


def _domains(ctx, columns, counts, distinct) -> list:
    found = []
    for c in columns:
        if c in IDENTIFIER_COLUMNS:  # ids, versions and timestamps change by design: no set invariant on them
            continue
        if not (distinct[c] <= MAX_CATEGORIES and 2 * distinct[c] <= counts[c]):
            continue
        vc = value_counts(ctx, c, limit=MAX_CATEGORIES * 4)
        if not vc or len(vc) > MAX_CATEGORIES:
            continue
        values = [v for v, _ in vc]
        total = sum(k for _, k in vc)
        shares = {v: round(k / total, 4) for v, k in vc}
        found.append(_inv({"kind": "in_set", "field": c, "values": values}, f"{c} is always one of {names(values)}",
                          qualifier="full", evidence={"value_shares": shares}))
        covered, top = 0, []
        for v, k in vc:
            top.append(v)
            covered += k
            if covered / total >= 0.9:
                break
        if len(top) < len(values):
            lo, _ = wilson_interval(covered, total)
            found.append(_inv({"kind": "in_set", "field": c, "values": top, "min_confidence": round(lo, 6)},
                              f"{c} is one of {names(top)} in at least {pct(lo)} of rows", qualifier="top",
                              evidence={"coverage": covered / total, "value_shares": shares}))
    return found


@register_miner("structural", FAMILY, context=True)
def mine_structural(ctx) -> list:
    present = ctx.present()
    found = []
    if "output" in present:
        found += _text_shape(ctx, "output", "Output") + _json_shape(ctx)
    if "input" in present:
        found.append(_inv({"kind": "not_empty", "field": "input"}, "Input is never empty"))
    roles = [c for c in ctx.entries.column_names if c in present and c not in ("_row",)]
    # `error` is left out: its presence is the error rate, which the statistical family bounds from both sides
    role_set = set(STRINGS) | set(NUMERIC) | {"input", "output", "ts", "tool_calls"}
    columns = [c for c in roles if c in role_set]
    strings = [c for c in roles if c in STRINGS or c in ("tool_calls", "output_kind")]  # output_kind: text/json
    counts = {c: ctx.evaluator.non_null(c) for c in roles}
    aggs = [f"approx_count_distinct({qident(c)})" if c != "tool_calls" else "0" for c in strings]
    distinct = dict(zip(strings, ctx.sql(f"SELECT {', '.join(aggs)} FROM {{t}}")[0])) if aggs else {}
    if "tool_calls" in distinct:
        distinct["tool_calls"] = len(value_counts(ctx, "tool_calls", limit=MAX_CATEGORIES + 1))
    found += _completeness(ctx, columns, counts)
    found += _types(ctx, [c for c in strings if c not in ("tool_calls", "output_kind")])
    found += _domains(ctx, strings, counts, distinct)
    for c in mapped(ctx, NUMERIC):
        found.append(_inv({"kind": "min_value", "field": c, "min": 0}, f"{c} is never negative"))
    for c in mapped(ctx, ID_COLUMNS):
        found.append(_inv({"kind": "unique", "field": c}, f"{c} is unique across entries"))
    return found
