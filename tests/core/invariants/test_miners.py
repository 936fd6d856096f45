"""Each miner family on small hand-built tables whose invariants are known in advance."""
from __future__ import annotations

import json
from datetime import timedelta

import numpy as np
import pytest

from pipeline.core.invariants import discover, discover_with_findings
from pipeline.core.invariants.stats import wilson_interval

from .helpers import T0, entries


def by_id(invariants):
    return {i.id: i for i in invariants}


def test_structural():
    rows = []
    for i in range(200):
        obj = {"answer": "a" * (i % 7 + 1), "score": i % 3}
        if i % 4 == 0:
            obj["note"] = "n"
        rows.append({
            "output": json.dumps(obj), "input": f"question {i}", "model": ["m1", "m2"][i % 2] if i < 190 else "m3",
            "request_id": f"{i:08x}-0000-4000-8000-{i:012x}", "latency_ms": float(i),
            "trace_id": None if i % 10 == 0 else f"t{i}", "status": "ok",
        })
    inv = by_id(discover(entries(rows), families=["structural"]))
    out_lengths = [len(r["output"]) for r in rows]
    bound = inv["structural:output:length_between"].check
    assert (bound["min"], bound["max"]) == (min(out_lengths), max(out_lengths))
    assert "structural:output:not_empty" not in inv  # subsumed by min length >= 1
    assert inv["structural:input:not_empty"].confidence == 1.0
    assert inv["structural:output:json_valid"].confidence == 1.0
    assert inv["structural:output:json_type"].check["type"] == "OBJECT"
    assert inv["structural:output:json_keys:required"].check["required"] == ["answer", "score"]
    assert inv["structural:output:json_keys:allowed"].check["allowed"] == ["answer", "score", "note"]
    assert inv["structural:output:json_keys:allowed"].evidence["sometimes_present"] == {"note": 0.25}
    assert inv["structural:model:in_set:full"].check["values"] == ["m1", "m2", "m3"]
    top = inv["structural:model:in_set:top"]
    assert top.check["values"] == ["m1", "m2"] and top.confidence == pytest.approx(0.95)
    assert top.check["min_confidence"] == pytest.approx(wilson_interval(190, 200)[0], abs=1e-6)
    assert inv["structural:trace_id:completeness"].check["min"] == pytest.approx(wilson_interval(180, 200)[0], abs=1e-6)
    assert inv["structural:request_id:type_is"].check["type"] == "uuid"
    assert inv["structural:request_id:unique"].confidence == 1.0
    assert inv["structural:trace_id:unique"].support == 180
    assert inv["structural:latency_ms:min_value"].check == {"kind": "min_value", "field": "latency_ms", "min": 0}
    assert "structural:status:in_set:top" not in inv  # a one-value domain needs no top-values variant
    assert "structural:model:unique" not in inv and "structural:input:completeness" in inv


def test_statistical():
    n = 1000
    rows = [{"latency_ms": float(i + 1), "status": "error" if i % 50 == 0 else "ok", "session_id": f"s{i // 4}",
             "model": "a" if (i // 4) % 4 else "b", "outcome": "escalated" if i % 20 == 0 else "resolved",
             "tool_calls": ["search"] if i % 2 else []} for i in range(n)]
    inv = by_id(discover(entries(rows), families=["statistical"]))
    lat = np.arange(1, n + 1, dtype=float)
    for q in (50, 95, 99):
        assert inv[f"statistical:latency_ms:max_quantile:p{q}"].check["max"] == pytest.approx(np.quantile(lat, q / 100))
    err = inv["statistical:status:share_between:error_rate"]
    assert err.check["max"] == pytest.approx(wilson_interval(20, n)[1], abs=1e-6) and err.support == 20
    assert inv["statistical:model:consistent_within:per_session"].confidence == 1.0
    esc = inv["statistical:outcome:share_between:share=escalated"].check
    assert (esc["min"], esc["max"]) == pytest.approx(wilson_interval(50, n), abs=1e-6)
    assert inv["statistical:tool_calls:share_between:share=search"].support == 500


def test_pii_and_habits():
    rows = [{"output": f"Sure! Here is **item {i}**: https://example.com/{i}"} for i in range(100)]
    inv = by_id(discover(entries(rows), families=["pii"]))
    for kind in ("email", "phone", "ssn", "credit_card", "ipv4", "iban"):
        assert inv[f"pii:output:regex_absent:{kind}"].severity == "critical"
    assert "pii:output:regex_present:markdown" in inv and "pii:output:regex_absent:markdown" not in inv
    assert "pii:output:regex_present:url" in inv and "pii:output:regex_absent:code_block" in inv
    assert inv["pii:output:prefix_in:opener"].check["values"] == ["Sure!"]
    leaky = [{"output": "mail me at jane.doe@example.com"}] + rows[1:]
    found, findings = discover_with_findings(entries(leaky), families=["pii"])
    # a leak in the mined data is a finding, never an invariant with confidence 0.99
    assert "pii:output:regex_absent:email" not in by_id(found) and "pii:output:regex_absent:phone" in by_id(found)
    (leak,) = findings
    assert (leak["invariant_id"], leak["hits"], leak["total"]) == ("pii:output:regex_absent:email", 1, 100)
    assert leak["examples"] == [{"entry_id": "e000000", "line": 1}] and "jane" not in str(leak)


def test_relational():
    rng = np.random.default_rng(0)
    rows = []
    for i in range(300):
        k = int(rng.integers(5, 50))
        text = "I'm sorry, I can't help with that. " if i % 10 == 0 else ""
        rows.append({"input": "q" * k, "output": text + "a" * (2 * k + int(rng.integers(0, 10))),
                     "latency_ms": 10.0 * k + float(rng.integers(0, 50))})
    inv = by_id(discover(entries(rows), families=["relational"]))
    ratio = inv["relational:output:length_ratio_min"]
    assert 2.0 <= ratio.check["min"] <= 2.2 and ratio.confidence >= 0.99
    corr = inv["relational:input.length~output.length:correlation"]
    assert corr.evidence["rho"] > 0.8 and corr.check["sign"] == 1
    assert "relational:output.length~latency_ms:correlation" in inv
    refusal = inv["relational:output:share_between:refusal"]
    assert refusal.support == 30 and refusal.check["max"] == pytest.approx(wilson_interval(30, 300)[1], abs=1e-6)


def test_semantic():
    topics = ["your refund was issued to the original card", "reset your password from the login page",
              "your parcel ships within two days"]
    rows = [{"output": topics[i % 3] + f" ticket {i}", "input": topics[i % 3].split()[1] + " question"} for i in range(150)]
    inv = by_id(discover(entries(rows), families=["semantic"], semantic_sample=100, seed=3))
    cent = inv["semantic:output:centroid_similarity"]
    assert cent.evidence["sampled"] is True and cent.evidence["sample_size"] == 100 and cent.check["sample"] == 100
    assert cent.check["embedder"]["name"] == "tfidf" and len(cent.check["centroid"]) == len(cent.check["embedder"]["vocabulary"])
    assert inv["semantic:output:near_duplicate_rate"].evidence["observed_rate"] == 1.0  # three templates only
    assert inv["semantic:output:semantic_outlier_rate"].check["max_rate"] < 0.1
    assert "semantic:input~output:io_alignment" in inv
    again = by_id(discover(entries(rows), families=["semantic"], semantic_sample=100, seed=3))
    assert again["semantic:output:centroid_similarity"].check == cent.check  # deterministic sample and embedder


def test_temporal():
    rng = np.random.default_rng(4)
    rows = [{"ts": T0 + timedelta(minutes=i), "output": "x" * int(rng.integers(10, 40)),
             "latency_ms": float(rng.lognormal(6, 0.3)), "status": "error" if rng.random() < 0.05 else "ok",
             "model": "a" if rng.random() < 0.7 else "b"} for i in range(2000)]
    inv = by_id(discover(entries(rows), families=["temporal"]))
    assert set(inv) == {"temporal:output.length:two_sample", "temporal:latency_ms:two_sample",
                        "temporal:status.error:two_sample", "temporal:model:two_sample"}
    assert all(i.confidence == 1.0 for i in inv.values())
    for r in rows[1000:]:
        r["latency_ms"] *= 2
    inv = by_id(discover(entries(rows), families=["temporal"], min_confidence=0.0))
    assert inv["temporal:latency_ms:two_sample"].confidence < 0.2
    assert inv["temporal:latency_ms:two_sample"].evidence["late_median"] > 1.8 * inv["temporal:latency_ms:two_sample"].evidence["early_median"]


def test_session():
    sizes = {"s1": 1, "s2": 1, "s3": 2, "s4": 3, "s5": 3}
    users = {"s1": "u1", "s2": "u1", "s3": "u2", "s4": "u3", "s5": "u3"}
    rows = [{"session_id": s, "user_id": users[s]} for s, k in sizes.items() for _ in range(k)]
    inv = by_id(discover(entries(rows), families=["session"], min_confidence=0.5))
    turns = inv["session:session_id:group_size_between:turns"].check
    assert (turns["min"], turns["max"]) == (1, 3)
    assert inv["session:session_id:group_stat_between:mean_turns"].evidence["observed"] == pytest.approx(2.0)
    assert inv["session:session_id:group_stat_between:single_turn"].evidence["observed"] == pytest.approx(0.4)
    assert inv["session:user_id:group_stat_between:returning"].evidence["observed"] == pytest.approx(2 / 3)
