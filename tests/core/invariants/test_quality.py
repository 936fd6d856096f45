"""Quality: mine a realistic 20k-row baseline, then staleness must flag every planted change and nothing else."""
from __future__ import annotations

import pytest

from pipeline.core.invariants import check_staleness, discover
from pipeline.core.invariants.synthetic import Drift, generate_entries

N = 20_000
PII = ("email", "phone", "ssn", "credit_card", "ipv4", "iban")

# planted change -> (invariants that must catch it, with their status; other invariants it may also move)
PLANTED = {
    "PII leaks in ~0.3% of outputs": (
        {f"pii:output:regex_absent:{k}": "violated" for k in PII}, set()),
    # a ceiling's confidence is bound / current quantile: 1/1.4 = 0.71, right at the 30 pp line, so either status
    "latency +40%": (
        {f"statistical:latency_ms:max_quantile:p{q}": "degraded|violated" for q in (50, 95, 99)}, set()),
    "tool lookup_order disappears": (
        {"statistical:tool_calls:share_between:share=lookup_order": "violated"}, set()),
    "output JSON gains a key": (
        {"structural:output:json_keys:allowed": "violated"},
        {"structural:output:length_between", "statistical:completion_tokens:max_quantile:p95",
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


@pytest.fixture(scope="module")
def baseline():
    return discover(generate_entries(N, seed=0))


def flagged(results) -> dict[str, str]:
    return {r.id: r.status for r in results if r.status != "holds"}


def test_baseline_is_rich(baseline):
    families = {i.family for i in baseline}
    assert families == {"structural", "statistical", "pii", "relational", "semantic", "temporal", "session"}
    assert all(i.confidence >= 0.8 for i in baseline)


def test_drift_flags_every_planted_change_and_nothing_else(baseline):
    got = flagged(check_staleness(baseline, generate_entries(N, seed=2, drift=Drift())))
    allowed = set()
    for change, (catchers, related) in PLANTED.items():
        for iid, status in catchers.items():
            assert got.get(iid, "holds") in status.split("|"), f"{change}: {iid} should be {status}, got {got.get(iid, 'holds')}"
        allowed |= set(catchers) | related
    unrelated = {iid: s for iid, s in got.items() if iid not in allowed}
    assert not unrelated, f"flagged without a planted cause: {unrelated}"


def test_each_change_alone_is_caught_by_its_invariants(baseline):
    off = dict(pii_rate=0.0, latency_factor=1.0, removed_tool=None, added_json_key=None, model_switch=None,
               escalation_factor=1.0)
    singles = {"PII leaks in ~0.3% of outputs": {"pii_rate": 0.003}, "latency +40%": {"latency_factor": 1.4},
               "tool lookup_order disappears": {"removed_tool": "lookup_order"},
               "output JSON gains a key": {"added_json_key": "lang"},
               "gpt-4o replaced by gpt-4.1 for the last 20%": {"model_switch": ("gpt-4o", "gpt-4.1")},
               "escalations x3": {"escalation_factor": 3.0}}
    for change, knobs in singles.items():
        got = flagged(check_staleness(baseline, generate_entries(N, seed=2, drift=Drift(**{**off, **knobs}))))
        catchers, related = PLANTED[change]
        assert set(catchers) <= set(got), f"{change}: missed {set(catchers) - set(got)}"
        assert set(got) <= set(catchers) | related, f"{change}: also flagged {set(got) - set(catchers) - related}"


def test_same_process_other_seed_flags_nothing(baseline):
    results = check_staleness(baseline, generate_entries(N, seed=1))
    assert flagged(results) == {}
    assert max(r.drop_pp for r in results) < 5
