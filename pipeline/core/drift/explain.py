"""Plain-English reasons for a drift (one per significant dimension, ranked by its weighted score) and what the
change costs per 10,000 runs."""
from __future__ import annotations

import math

import numpy as np
import pyarrow as pa

from ..entry_schema import CANONICAL_SCHEMA
from ..ingest.pricing import PriceTable, fill_costs
from .branches import NAME as BRANCH_DIMENSION, branch_sentence
from .fingerprint import OTHER
from .model import Dimension, DimensionResult, Hypothesis

ARROW = "→"
RUNS = 10_000
SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}
OUTCOME_NOUNS = {
    "escalated": "Escalation", "escalation": "Escalation", "resolved": "Resolution", "abandoned": "Abandonment",
    "failed": "Failure", "failure": "Failure", "error": "Error", "success": "Success", "succeeded": "Success",
    "timeout": "Timeout", "refused": "Refusal", "cancelled": "Cancellation", "canceled": "Cancellation",
    "completed": "Completion", "handoff": "Handoff", "handed_off": "Handoff",
}
# Continuous dimensions: subject, which statistics to report (first one that moved), and the sentence shape:
# "level" reads "p95 latency up 4970 → 6684 ms (+34%)", "relative" reads "Cost per run up 30% (mean $a → $b)".
CONTINUOUS_TEXT = {
    "latency_ms": ("latency", ("p95", "p50", "mean"), "level"),
    "latency_per_token_ms": ("latency per output token", ("p95", "p50", "mean"), "level"),
    "ttft_ms": ("time to first token", ("p95", "p50", "mean"), "level"),
    "time_to_first_tool_ms": ("time to first tool call", ("p95", "p50", "mean"), "level"),
    "output_chars": ("Outputs", ("p50", "mean", "p95"), ("longer", "shorter")),
    "verbosity_ratio": ("Outputs", ("p50", "mean", "p95"),
                        ("more verbose for their input", "less verbose for their input"), "output/input ratio"),
    "cost_usd": ("Cost per run", ("mean", "p50", "p95"), "relative"),
    "prompt_tokens": ("Prompt tokens per run", ("mean", "p50", "p95"), "relative"),
    "completion_tokens": ("Completion tokens per run", ("mean", "p50", "p95"), "relative"),
    "tool_call_count": ("Tool calls per run", ("mean", "p50", "p95"), "relative"),
    "loop_depth": ("Longest same-tool run per entry", ("mean", "p95", "p50"), "relative"),
    "retry_count": ("Retries per session", ("mean", "p95", "p50"), "relative"),
}
STAT_NAMES = {"p95": "p95", "p50": "median", "mean": "mean"}
RATE_SUBJECTS = {"error_rate": "Error rate", "retry_rate": "Retry rate",
                 "pii_rate": "Share of outputs leaking PII (e-mail, phone, SSN, card, IP, IBAN)"}
EVENT_DIMS = ("tool_usage", "tool_sequence", "error_types", "json_keys")  # where appearing/vanishing is the news


def hypotheses(results: list[DimensionResult], dims: list[Dimension], *, limit: int = 10) -> list[Hypothesis]:
    """One sentence per dimension with a score above zero, largest contribution (weight x score) first."""
    by_name = {d.name: d for d in dims}
    out = []
    for r in results:
        if not (r.score > 0):  # also skips NaN
            continue
        dim = by_name.get(r.name)
        text = describe(dim) if dim is not None else None
        out.append(Hypothesis(text or f"`{r.name}` changed ({r.effect_name} {_num(r.effect)})", r.name,
                              float(r.weight * r.score)))
    out.sort(key=lambda h: -h.contribution)
    return out[:limit]


def describe(dim: Dimension) -> str | None:
    """The sentence for one dimension, from its summary facts; None when the summary has nothing to say."""
    s = dim.summary
    if dim.kind == "continuous":
        return _continuous(dim.name, s, dim.unit)
    if dim.kind == "rate":
        if s.get("rate_a") is None or s.get("rate_b") is None:
            return None
        subject = RATE_SUBJECTS.get(dim.name, dim.name.replace("_", " ").capitalize())
        ra, rb = _rate_pair(s["rate_a"], s["rate_b"])
        return f"{subject} {_direction(s['rate_a'], s['rate_b'])} from {ra} to {rb}"
    if dim.name == BRANCH_DIMENSION:
        return branch_sentence(s)
    return _categorical(dim.name, s)


def _continuous(name: str, s: dict, unit: str) -> str | None:
    subject, stats, shape, *measure = CONTINUOUS_TEXT.get(
        name, (name.replace("_", " ").capitalize(), ("mean", "p50", "p95"), "relative"))
    usable = [k for k in stats if s.get(f"{k}_a") is not None and s.get(f"{k}_b") is not None]
    if not usable:
        return None
    stat = next((k for k in usable if s[f"{k}_a"] != s[f"{k}_b"]), usable[0])
    a, b = s[f"{stat}_a"], s[f"{stat}_b"]
    fa, fb = _money_pair(a, b) if unit == "USD" else _pair(a, b)
    suffix = f" {unit}" if unit not in ("", "USD") else ""
    change = _change(a, b)
    if shape == "level":
        lead = STAT_NAMES[stat] if stat == "p95" else STAT_NAMES[stat].capitalize()
        return f"{lead} {subject} {_direction(a, b)} {fa} {ARROW} {fb}{suffix}" + \
            (f" ({change})" if change else "")
    size = f"{change.lstrip('+-')} " if change else ""
    facts = f"({' '.join([STAT_NAMES[stat], *measure])} {fa} {ARROW} {fb}{suffix})"
    if isinstance(shape, tuple):
        return f"{subject} {size}{shape[0] if b > a else shape[1] if b < a else 'unchanged'} {facts}"
    return f"{subject} {_direction(a, b)} {size}{facts}"


def _categorical(name: str, s: dict) -> str | None:
    per_object = name == "json_keys" and "object_shares_a" in s
    moves = _moves(s.get("object_shares_a" if per_object else "shares_a", {}),
                   s.get("object_shares_b" if per_object else "shares_b", {}), prefer_events=name in EVENT_DIMS)
    if not moves:
        return None
    label, a, b = moves[0]
    sa, sb = _share_pair(a, b)
    if name == "tool_usage":
        if b == 0:
            return f"Tool `{label}` dropped out of the call graph ({sa} of calls {ARROW} 0%)"
        if a == 0:
            return f"New tool `{label}` in the call graph (0% {ARROW} {sb} of calls)"
        return f"Tool `{label}` {_direction(a, b)} from {sa} to {sb} of calls"
    if name == "tool_sequence":
        what = f"Tool sequence `{label}`" + (" (no tool calls)" if label == "^>$" else "")
        if b == 0:
            return f"{what} disappeared ({sa} of tool-sequence steps {ARROW} 0%)"
        if a == 0:
            return f"New {what[0].lower()}{what[1:]} (0% {ARROW} {sb} of tool-sequence steps)"
        return f"{what} {_direction(a, b)} from {sa} to {sb} of tool-sequence steps"
    if name == "outcome":
        noun = OUTCOME_NOUNS.get(label.lower().strip())
        ra, rb = _rate_pair(a, b)
        return f"{f'{noun} rate' if noun else f'Outcome `{label}` rate'} {_direction(a, b)} from {ra} to {rb}"
    if name == "error_types":
        if b == 0:
            return f"Error `{label}` no longer seen ({sa} of errors {ARROW} 0%)"
        if a == 0:
            return f"New error type `{label}` (0% {ARROW} {sb} of errors)"
        return f"Error `{label}` {_direction(a, b)} from {sa} to {sb} of errors"
    if name == "json_keys":
        if b == 0:
            return f"JSON key `{label}` removed from outputs ({sa} {ARROW} 0% of JSON outputs)"
        if a == 0:
            return f"JSON key `{label}` added to outputs (0% {ARROW} {sb} of JSON outputs)"
        return f"JSON key `{label}` present in {sa} {ARROW} {sb} of JSON outputs"
    shown = [m for m in moves[:3] if abs(m[2] - m[1]) >= abs(b - a) / 4]  # the big movers, not the noise
    shown.sort(key=lambda m: m[2] - m[1])  # what lost share, then what took it
    listed = ", ".join(f"{k} {_share(x)} {ARROW} {_share(y)}" for k, x, y in shown)
    switched = any(x == 0 or y == 0 for _, x, y in shown)
    if name == "model":
        return f"Model {'switched' if switched else 'mix changed'}: {listed}"
    if name == "output_kind":
        return f"Output kind mix changed: {listed}"
    return f"{name.replace('_', ' ').capitalize()} mix changed: {listed}"


def _moves(shares_a: dict, shares_b: dict, prefer_events: bool = False) -> list[tuple[str, float, float]]:
    """Labels that moved, largest move first; on a tie a label that appeared or vanished, then one that grew.
    (other) comes last: it names no one thing. With `prefer_events`, a label that appeared or vanished leads
    when its move is at least half the largest (a tool vanishing says more than the others taking its share)."""
    labels = list(dict.fromkeys([*shares_a, *shares_b]))
    moves = [(k, float(shares_a.get(k, 0.0)), float(shares_b.get(k, 0.0))) for k in labels]
    moves = [m for m in moves if m[1] != m[2] and math.isfinite(m[1]) and math.isfinite(m[2])]
    event = lambda m: m[1] == 0 or m[2] == 0  # noqa: E731
    moves.sort(key=lambda m: (m[0] == OTHER, -round(abs(m[2] - m[1]), 9), not event(m), m[2] < m[1]))
    top = abs(moves[0][2] - moves[0][1]) if moves else 0.0
    if prefer_events:
        lead = next((m for m in moves if m[0] != OTHER and event(m) and abs(m[2] - m[1]) >= top / 2), None)
        if lead is not None:
            moves.remove(lead)
            moves.insert(0, lead)
    return moves


def _direction(a: float, b: float) -> str:
    return "up" if b > a else "down" if b < a else "unchanged"


def _change(a: float, b: float) -> str:
    if not a or not math.isfinite(a) or not math.isfinite(b):
        return ""
    pct = (b - a) / abs(a) * 100
    if not math.isfinite(pct):
        return ""
    return f"{pct:+.1f}%" if abs(pct) < 1 else f"{pct:+.0f}%"


def _num(v: float, digits: int | None = None) -> str:
    if v is None or not math.isfinite(v):
        return "n/a"
    if v == 0:
        return "0"
    if abs(v) < 1e-6:
        return f"{v:.2g}"
    if digits is None:
        size = abs(v)
        digits = 0 if size >= 100 else 1 if size >= 10 else 2 if size >= 1 else max(2, 1 - math.floor(math.log10(size)))
    return f"{v:.{digits}f}"


def _pair(a: float, b: float) -> tuple[str, str]:
    """a and b at the coarsest precision that still tells them apart."""
    fa, fb = _num(a), _num(b)
    digits = len(fa.split(".")[1]) if "." in fa else 0
    while fa == fb and a != b and digits < 10:
        digits += 1
        fa, fb = _num(a, digits), _num(b, digits)
    return fa, fb


def _money_pair(a: float, b: float, symbol: str = "$") -> tuple[str, str]:
    fa, fb = _pair(a, b)
    return tuple(f"-{symbol}{f[1:]}" if f.startswith("-") else f"{symbol}{f}" for f in (fa, fb))


def _rate(x: float, digits: int = 1) -> str:
    return f"{x * 100:.{max(digits, 2) if 0 < x < 0.001 else digits}f}%"


def _rate_pair(a: float, b: float) -> tuple[str, str]:
    """Two rates with one decimal, more when one decimal would print them the same."""
    digits = 1
    while digits < 4 and a != b and _rate(a, digits) == _rate(b, digits):
        digits += 1
    return _rate(a, digits), _rate(b, digits)


def _share_pair(a: float, b: float) -> tuple[str, str]:
    """Two shares as whole percents, with decimals when whole percents would print them the same."""
    fa, fb = _share(a), _share(b)
    digits = 1
    while a != b and fa == fb and digits < 4:
        fa, fb = f"{a * 100:.{digits}f}%", f"{b * 100:.{digits}f}%"
        digits += 1
    return fa, fb


def _share(x: float) -> str:
    if x <= 0 or x >= 1:
        return f"{x * 100:.0f}%"
    if x < 0.01 or x > 0.99:
        text = f"{x * 100:.1f}%"
        return "<0.1%" if text == "0.0%" else ">99.9%" if text == "100.0%" else text
    return f"{x * 100:.0f}%"


def financial_impact(a: pa.Table, b: pa.Table, prices: PriceTable) -> dict:
    """Cost per 10,000 runs, baseline and current, from cost_usd where present and tokens x the price table
    ($ per 1M tokens) where not; entries with neither count as unpriced and are left out of the average."""
    (base, unpriced_a), (cur, unpriced_b) = _per_10k(a, prices), _per_10k(b, prices)
    delta = cur - base if base is not None and cur is not None else None
    pct = delta / abs(base) * 100 if delta is not None and base else None
    return {"currency": prices.currency, "per_10k_baseline": base, "per_10k_current": cur, "delta_per_10k": delta,
            "delta_pct": pct, "unpriced_baseline": unpriced_a, "unpriced_current": unpriced_b,
            "text": _impact_text(base, cur, delta, pct, unpriced_a, unpriced_b, prices.currency)}


def _per_10k(t: pa.Table, prices: PriceTable) -> tuple[float | None, int]:
    cols = {}
    for name in ("cost_usd", "model", "prompt_tokens", "completion_tokens"):
        typ = CANONICAL_SCHEMA.field(name).type
        try:
            cols[name] = t.column(name).cast(typ) if name in t.column_names else pa.nulls(t.num_rows, typ)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
            cols[name] = pa.nulls(t.num_rows, typ)
    cost = cols["cost_usd"].to_numpy(zero_copy_only=False).astype(np.float64)
    cols["cost_usd"] = pa.array(cost, pa.float64(), mask=~np.isfinite(cost))  # NaN is as good as missing
    filled, _ = fill_costs(pa.table(cols), prices)
    cost = filled.column("cost_usd").to_numpy(zero_copy_only=False).astype(np.float64)
    priced = np.isfinite(cost)
    return (float(cost[priced].mean() * RUNS) if priced.any() else None), int((~priced).sum())


def _money(v: float, currency: str, sign: bool = False) -> str:
    symbol = SYMBOLS.get(currency)
    body = f"{abs(v):,.2f}" if abs(v) >= 1 or v == 0 else _num(abs(v))
    lead = ("+" if v >= 0 else "-") if sign else ("-" if v < 0 else "")
    return f"{lead}{symbol}{body}" if symbol else f"{lead}{body} {currency}"


def _impact_text(base, cur, delta, pct, unpriced_a: int, unpriced_b: int, currency: str) -> str:
    if base is None and cur is None and not (unpriced_a or unpriced_b):
        return ""
    fmt = lambda v: _money(v, currency) if v is not None else "unknown"  # noqa: E731
    text = f"Cost per {RUNS:,} runs: {fmt(base)} {ARROW} {fmt(cur)}"
    if delta is not None:
        text += f" ({_money(delta, currency, sign=True)}" + (f", {_change(base, cur)})" if pct is not None else ")")
    if unpriced_a or unpriced_b:
        text += f"; no price for {unpriced_a:,} baseline and {unpriced_b:,} current entries"
    return text
