"""Statistical invariants: latency, token and cost quantile ceilings, error rate, model consistency and mixes."""
from __future__ import annotations

import numpy as np

from ..model import make_invariant
from ..registry import register_miner
from ..stats import quantile_se, wilson_interval
from ._common import mapped, num, pct, value_counts

FAMILY = "statistical"
QUANTILES = {"latency_ms": (0.5, 0.95, 0.99), "ttft_ms": (0.5, 0.95), "prompt_tokens": (0.95,), "completion_tokens": (0.95,), "cost_usd": (0.95,)}
MIN_MIX_SHARE = 0.01  # values rarer than this get no mix invariant: their share is mostly noise
MIX_FIELDS = ("model", "outcome", "tool_calls")


def _quantiles(ctx) -> list:
    found = []
    for field in mapped(ctx, QUANTILES):
        _, vals = ctx.evaluator.values(field)
        if len(vals) == 0:
            continue
        for q in QUANTILES[field]:
            bound = float(np.quantile(vals, q))
            label = f"p{round(q * 100):d}"
            # se: the bound's own sampling error, so a later sample is judged against it with both errors counted
            found.append(make_invariant(
                FAMILY, {"kind": "max_quantile", "field": field, "q": q, "max": bound,
                         "se": round(quantile_se(vals, q), 9)},
                f"{label} of {field} stays at or below {num(bound)}", qualifier=label,
                evidence={"observed": bound, "n": len(vals)}))
    return found + _per_token(ctx)


def _per_token(ctx) -> list:
    """Latency judged against output length: the p95 of milliseconds per output token (a 10 s answer of 40 tokens
    is an incident, a 10 s answer of 1,500 tokens is not)."""
    if not {"latency_ms", "completion_tokens"} <= ctx.present():
        return []
    _, vals = ctx.evaluator.values("latency_ms", "per_output_token")
    if len(vals) < 20:
        return []
    bound = float(np.quantile(vals, 0.95))
    return [make_invariant(
        FAMILY, {"kind": "max_quantile", "field": "latency_ms", "measure": "per_output_token", "q": 0.95,
                 "max": bound, "se": round(quantile_se(vals, 0.95), 9)},
        f"p95 of latency per output token stays at or below {num(bound)} ms", qualifier="p95:per_output_token",
        evidence={"observed": bound, "n": len(vals)})]


def _error_rate(ctx) -> list:
    if "status" in ctx.present():
        check = {"kind": "share_between", "field": "status", "value": "error"}
    elif "error" in ctx.entries.column_names:
        check = {"kind": "share_between", "field": "error"}  # rows with an error message
    else:
        return []
    n, hits, _ = ctx.evaluator.counts([check])[0]
    if not n:
        return []
    hi = wilson_interval(hits, n)[1]
    return [make_invariant(FAMILY, {**check, "max": round(hi, 6)},
                           f"Error rate stays at or below {pct(hi)} (baseline {pct(hits / n)})",
                           qualifier="error_rate", evidence={"observed": hits / n, "n": n})]


def _mixes(ctx) -> list:
    """Each common value's share (rows calling a tool, for tool lists) stays within its binomial interval."""
    found = []
    for field in mapped(ctx, MIX_FIELDS):
        counts = value_counts(ctx, field, limit=50)
        if len(counts) > 40 or len(counts) < (1 if field == "tool_calls" else 2):
            continue
        checks = [{"kind": "share_between", "field": field, "value": value} for value, _ in counts]
        for check, (n, k, _) in zip(checks, ctx.evaluator.counts(checks)):
            if not n or k / n < MIN_MIX_SHARE:
                continue
            lo, hi = wilson_interval(k, n)
            value = check["value"]
            what = f"rows calling {value}" if field == "tool_calls" else f"rows with {field} = {value}"
            found.append(make_invariant(
                FAMILY, {**check, "min": round(lo, 6), "max": round(hi, 6)},
                f"Share of {what} stays between {pct(lo)} and {pct(hi)}", qualifier=f"share={value}",
                evidence={"observed": k / n, "n": n}))
    return found


@register_miner("statistical", FAMILY, context=True)
def mine_statistical(ctx) -> list:
    found = _quantiles(ctx) + _error_rate(ctx) + _mixes(ctx)
    if {"model", "session_id"} <= ctx.present():
        found.append(make_invariant(FAMILY, {"kind": "consistent_within", "field": "model", "group": "session_id"},
                                    "Each session uses a single model", qualifier="per_session"))
    return found
