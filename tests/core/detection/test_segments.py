"""Segments by operation and LLM-aware latency: a log with a JSON triage call and a free-text answer gets JSON
invariants for triage and latency ceilings per operation; latency per output token is judged, not raw latency."""
from __future__ import annotations

import json

import numpy as np
import pytest

from pipeline.core.invariants import check_staleness, discover

from ..invariants.helpers import entries


def two_call_types(n: int, seed: int, extra_key: bool = False, slow_short: int = 0, long_answers: int = 0):
    """28% JSON triage calls (keys category, urgency), 72% free-text answers; latency = TTFT + per-token time."""
    rng = np.random.default_rng(seed)
    triage = rng.random(n) < 0.28
    tokens = np.where(triage, rng.integers(15, 30, n), rng.integers(30, 300, n))
    latency = rng.lognormal(np.log(400), 0.2, n) + tokens * rng.lognormal(np.log(20), 0.15, n)
    rows = []
    for i in range(n):
        if triage[i]:
            doc = {"category": "billing", "urgency": "low"} | ({"lang": "en"} if extra_key else {})
            out, op = json.dumps(doc), "triage"
        else:
            out, op = "Thanks for reaching out. " * int(1 + tokens[i] // 6), "answer"
        rows.append({"output": out, "operation": op, "latency_ms": float(latency[i]),
                     "completion_tokens": int(tokens[i]), "model": "m"})
    short = np.flatnonzero(~triage & (tokens < 80))[:slow_short]
    for i in short:  # x10 on short answers: 40 tokens in ~10 s
        rows[i]["latency_ms"] *= 10
    long = np.flatnonzero(~triage)[:long_answers]
    for i in long:  # long answers: 1,500 tokens in ~30 s, slow in raw terms but normal per token
        rows[i]["completion_tokens"] = 1500
        rows[i]["latency_ms"] = 400 + 1500 * 20.0
    return entries(rows)


@pytest.fixture(scope="module")
def baseline():
    return {i.id: i for i in discover(two_call_types(3000, 0), families=["structural", "statistical"])}


def test_json_shape_is_mined_for_the_json_operation(baseline):
    assert "structural:output:json_valid" not in baseline  # JSON is 28% of all outputs: nothing overall
    keys = baseline["structural:output:json_keys:operation=triage:required"]
    assert keys.description == "Output of triage is always JSON with keys category, urgency"
    assert keys.check["where"] == {"field": "operation", "value": "triage"} and keys.total == pytest.approx(840, rel=0.1)
    assert "structural:output:json_keys:operation=answer:required" not in baseline
    res = {r.id: r.status for r in check_staleness(list(baseline.values()), two_call_types(3000, 1, extra_key=True))}
    assert res["structural:output:json_keys:operation=triage:allowed"] == "violated"  # a new JSON key fails
    clean = {r.id: r.status for r in check_staleness(list(baseline.values()), two_call_types(3000, 2))}
    assert {k: v for k, v in clean.items() if "operation=" in k and v != "holds"} == {}


def test_latency_ceilings_per_operation_and_per_output_token(baseline):
    assert "statistical:latency_ms:max_quantile:p95:operation=triage" in baseline
    per_token = baseline["statistical:latency_ms:max_quantile:p95:per_output_token"]
    assert per_token.check["measure"] == "per_output_token" and 20 < per_token.check["max"] < 60
    # long answers: slow in raw terms, normal per token -> the per-token ceiling holds
    long = {r.id: r.status for r in check_staleness(list(baseline.values()), two_call_types(3000, 3, long_answers=300))}
    assert long["statistical:latency_ms:max_quantile:p95:per_output_token"] == "holds"
    assert long["statistical:latency_ms:max_quantile:p95"] == "violated"  # the raw ceiling is fooled
    # x10 on 10% of rows, all short answers: per token, a clear regression
    slow = {r.id: r.status for r in check_staleness(list(baseline.values()), two_call_types(3000, 4, slow_short=300))}
    assert slow["statistical:latency_ms:max_quantile:p95:per_output_token"] == "violated"


def test_compare_reports_a_new_json_key_of_one_operation(baseline):
    from pipeline.core.invariants import compare

    after = discover(two_call_types(3000, 5, extra_key=True), families=["structural", "statistical"])
    result = compare(list(baseline.values()), after)
    allowed = "structural:output:json_keys:operation=triage:allowed"
    (item,) = [c for c in result.degraded if c.id == allowed]
    assert item.regression and item.detail == "new keys: lang"
    quiet = compare(list(baseline.values()), discover(two_call_types(3000, 6), families=["structural", "statistical"]))
    assert quiet.regressions() == []
