"""Invariants whose population is one operation (endpoint, route, span, prompt or agent name): a log mixing a JSON
triage call with a free-text answer gets "Output of triage is always JSON with keys ...", and latency ceilings per
operation instead of one ceiling over two populations. The overall invariants are mined as before."""
from __future__ import annotations

import numpy as np

from ..model import make_invariant
from ..registry import register_miner
from ..stats import quantile_se
from ..text_scan import qident, sql_str
from ._common import names, num

SEGMENT_FIELD = "operation"
MAX_SEGMENTS = 20  # more distinct operations than this are not a small set of call types
MIN_ROWS = 50  # a segment with fewer rows gets no invariants of its own
REQUIRED_KEY_SHARE = 0.999
QUANTILES = (0.5, 0.95)


def segments(ctx) -> list[tuple[str, int]]:
    """(operation, rows) for the operations with at least MIN_ROWS rows, when there are 2..MAX_SEGMENTS of them."""
    if SEGMENT_FIELD not in ctx.present():
        return []
    rows = ctx.sql(f"SELECT {qident(SEGMENT_FIELD)}::VARCHAR, count(*) FROM {{t}} WHERE {qident(SEGMENT_FIELD)} "
                   f"IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT {MAX_SEGMENTS + 1}")
    if not 2 <= len(rows) <= MAX_SEGMENTS:
        return []
    return [(str(v), int(n)) for v, n in rows if n >= MIN_ROWS]


def _json_shape(ctx, op: str, where: dict) -> list:
    type_col, keys_col = (qident(c) for c in ctx.evaluator.json_columns("output"))
    seg = f"{qident(SEGMENT_FIELD)}::VARCHAR = {sql_str(op)} AND output IS NOT NULL"
    n, objects = ctx.sql(f"SELECT count(*), count(*) FILTER (WHERE {type_col} = 'OBJECT') FROM {{t}} WHERE {seg}")[0]
    if not n or objects / n < ctx.min_confidence:
        return []
    found = [make_invariant("structural", {"kind": "json_type", "field": "output", "type": "OBJECT", "where": where},
                            f"Output of {op} is always a JSON object", qualifier=f"{SEGMENT_FIELD}={op}")]
    keys = ctx.sql(f"SELECT k, count(*) FROM (SELECT unnest({keys_col}) AS k FROM {{t}} WHERE {seg}) "
                   f"GROUP BY k ORDER BY 2 DESC, k")
    shares = {k: c / objects for k, c in keys}
    required = [k for k, s in shares.items() if s >= REQUIRED_KEY_SHARE]
    if required:
        found.append(make_invariant(
            "structural", {"kind": "json_keys", "field": "output", "required": required, "where": where},
            f"Output of {op} is always JSON with keys {names(required)}", qualifier=f"{SEGMENT_FIELD}={op}:required",
            evidence={"segment": {SEGMENT_FIELD: op}, "key_shares": {k: round(s, 4) for k, s in shares.items()}}))
    if shares and len(shares) <= 200:
        found.append(make_invariant(
            "structural", {"kind": "json_keys", "field": "output", "allowed": list(shares), "where": where},
            f"Output of {op} is JSON with no keys other than {names(list(shares))}",
            qualifier=f"{SEGMENT_FIELD}={op}:allowed", evidence={"segment": {SEGMENT_FIELD: op}}))
    return found


@register_miner("segment_structure", "structural", context=True)
def mine_segment_structure(ctx) -> list:
    if "output" not in ctx.present():
        return []
    found = []
    for op, _ in segments(ctx):
        found += _json_shape(ctx, op, {"field": SEGMENT_FIELD, "value": op})
    return found


@register_miner("segment_statistics", "statistical", context=True)
def mine_segment_statistics(ctx) -> list:
    """Latency (and, where logged, time to first token) ceilings per operation, with their standard errors."""
    found = []
    fields = [f for f in ("latency_ms", "ttft_ms") if f in ctx.present()]
    for op, _ in segments(ctx):
        where = {"field": SEGMENT_FIELD, "value": op}
        for field in fields:
            _, vals = ctx.evaluator.values(field, None, where)
            if len(vals) < MIN_ROWS:
                continue
            for q in QUANTILES:
                bound = float(np.quantile(vals, q))
                label = f"p{round(q * 100):d}"
                found.append(make_invariant(
                    "statistical", {"kind": "max_quantile", "field": field, "q": q, "max": bound,
                                    "se": round(quantile_se(vals, q), 9), "where": where},
                    f"{label} of {field} for {op} stays at or below {num(bound)}",
                    qualifier=f"{label}:{SEGMENT_FIELD}={op}", evidence={"observed": bound, "n": len(vals),
                                                                         "segment": {SEGMENT_FIELD: op}}))
    return found
