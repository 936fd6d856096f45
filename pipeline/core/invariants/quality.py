"""The invariant quality bar: planted changes on the synthetic corpus, the invariants that must catch each, and a scorer."""
from __future__ import annotations

from .staleness import check_staleness
from .synthetic import Drift, generate_entries

PII = ("email", "phone", "ssn", "credit_card", "ipv4", "iban")

# planted change -> (invariants that must catch it, with their status; other invariants it may also move)
PLANTED = {
    "PII leaks in ~0.3% of outputs": (
        {f"pii:output:regex_absent:{k}": "violated" for k in PII}, set()),
    # a ceiling is violated when its interval lies above the bound by 10% or more: +40% is clear at every quantile
    "latency +40%": (
        {**{f"statistical:latency_ms:max_quantile:p{q}": "violated" for q in (50, 95, 99)},
         "statistical:latency_ms:max_quantile:p95:per_output_token": "violated"}, set()),
    "tool lookup_order disappears": (
        {"statistical:tool_calls:share_between:share=lookup_order": "violated"}, set()),
    "output JSON gains a key": (
        {"structural:output:json_keys:allowed": "violated"},
        # latency grows with output tokens here, so a longer JSON is measurably (a few %) slower: related
        {"structural:output:length_between", "statistical:completion_tokens:max_quantile:p95",
         "statistical:latency_ms:max_quantile:p50", "statistical:latency_ms:max_quantile:p95",
         "statistical:latency_ms:max_quantile:p99",
         "statistical:cost_usd:max_quantile:p95", "semantic:output:centroid_similarity",
         "semantic:output:semantic_outlier_rate", "semantic:output:near_duplicate_rate", "relational:output:length_ratio_min"}),
    "gpt-4o replaced by gpt-4.1 for the last 20%": (
        {"statistical:model:share_between:share=gpt-4o": "degraded", "temporal:model:two_sample": "violated"},
        {"structural:model:in_set:full", "structural:model:in_set:top", "statistical:model:consistent_within:per_session",
         "statistical:cost_usd:max_quantile:p95"}),
    "escalations x3": (
        {"statistical:outcome:share_between:share=escalated": "violated"},
        {"statistical:outcome:share_between:share=resolved", "statistical:outcome:share_between:share=abandoned",
         "structural:outcome:in_set:top"}),
}

# each planted change alone, as Drift knobs on top of "no drift"
NO_DRIFT = dict(pii_rate=0.0, latency_factor=1.0, removed_tool=None, added_json_key=None, model_switch=None,
                escalation_factor=1.0)
SINGLES = {"PII leaks in ~0.3% of outputs": {"pii_rate": 0.003}, "latency +40%": {"latency_factor": 1.4},
           "tool lookup_order disappears": {"removed_tool": "lookup_order"},
           "output JSON gains a key": {"added_json_key": "lang"},
           "gpt-4o replaced by gpt-4.1 for the last 20%": {"model_switch": ("gpt-4o", "gpt-4.1")},
           "escalations x3": {"escalation_factor": 3.0}}


def flagged(results) -> dict[str, str]:
    return {r.id: r.status for r in results if r.status != "holds"}


def score_drift(baseline, n: int, seed: int = 2) -> dict:
    """Check a corpus carrying every planted change: which changes were caught, and what was flagged without cause."""
    got = flagged(check_staleness(baseline, generate_entries(n, seed=seed, drift=Drift())))
    caught, missed, allowed = {}, {}, set()
    for change, (catchers, related) in PLANTED.items():
        ok = {iid: got.get(iid, "holds") for iid in catchers}
        bad = {iid: s for iid, s in ok.items() if s not in catchers[iid].split("|")}
        (missed if bad else caught)[change] = bad or ok
        allowed |= set(catchers) | related
    return {"caught": caught, "missed": missed, "unrelated": {i: s for i, s in got.items() if i not in allowed}}


def score_clean(baseline, n: int, seed: int = 1) -> dict:
    """Check a corpus from the same process with another seed: everything flagged is a false alarm."""
    results = check_staleness(baseline, generate_entries(n, seed=seed))
    return {"false_alarms": flagged(results), "max_drop_pp": max((r.drop_pp for r in results), default=0.0)}
