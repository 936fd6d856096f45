"""The one evaluator against plain per-row Python references, kind by kind."""
from __future__ import annotations

import json
import math
import re
from collections import Counter, defaultdict

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.core.invariants.evaluator import Evaluator, evaluate, known_kinds, register_check_kind
from pipeline.core.invariants.model import CheckResult
from pipeline.core.invariants.sql_checks import TYPE_PATTERNS
from pipeline.core.invariants.stats import share_confidence, wilson_interval
from pipeline.core.invariants.text_scan import HABIT_PATTERNS

from .helpers import entries

WS = " \t\n\r"


def py_json_type(value) -> str:
    if isinstance(value, dict):
        return "OBJECT"
    if isinstance(value, list):
        return "ARRAY"
    if isinstance(value, str):
        return "STRING"
    if isinstance(value, bool):
        return "BOOLEAN"
    if value is None:
        return "NULL"
    return "NUMBER"


def _no_constant(name):
    raise ValueError(f"{name} is not JSON")


def parse(s):
    """Strict JSON (RFC 8259): NaN and Infinity are not values."""
    try:
        return True, json.loads(s, parse_constant=_no_constant)
    except ValueError:
        return False, None


def reference(check: dict, rows: list[dict]) -> tuple[int, int]:
    """(support, total) of a row-kind check, one row at a time."""
    kind, f = check["kind"], check["field"]
    support = total = 0
    for r in rows:
        v = r.get(f)
        if v is None:
            continue
        if kind == "not_empty":
            applies, holds = True, v.strip(WS) != ""
        elif kind == "length_between":
            applies, holds = True, check["min"] <= len(v) <= check["max"]
        elif kind == "json_valid":
            applies, holds = True, parse(v)[0]
        elif kind == "json_type":
            ok, val = parse(v)
            applies, holds = ok, ok and py_json_type(val) == check["type"]
        elif kind == "json_keys":
            ok, val = parse(v)
            applies = ok and isinstance(val, dict)
            holds = applies and set(check.get("required", [])) <= set(val) and set(val) <= set(check.get("allowed", val))
        elif kind == "in_set":
            applies = True
            holds = all(x in check["values"] for x in v) if isinstance(v, list) else v in check["values"]
        elif kind == "type_is":
            applies, holds = True, re.fullmatch(TYPE_PATTERNS[check["type"]].strip("^$"), v) is not None
        elif kind == "min_value":
            applies, holds = True, v >= check["min"]
        elif kind in ("regex_absent", "regex_present"):
            hit = re.search(HABIT_PATTERNS[check["pattern"]], v, re.ASCII) is not None
            applies, holds = True, (not hit if kind == "regex_absent" else hit)
        elif kind == "prefix_in":
            applies, holds = True, any(v.lstrip(WS).startswith(p) for p in check["values"])
        elif kind == "length_ratio_min":
            other = r.get(check["other"])
            applies = other is not None and len(other) > 0
            holds = applies and len(v) >= check["min"] * len(other)
        else:
            raise KeyError(kind)
        total += applies
        support += applies and holds
    return support, total


TEXT = st.one_of(
    st.text(alphabet='{}[]":,ab1 \n#*-()tfnul', max_size=14),
    st.recursive(st.none() | st.booleans() | st.integers(-5, 99) | st.text("abc", max_size=3),
                 lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.sampled_from(["a", "b", "c"]), kids, max_size=3),
                 max_leaves=6).map(json.dumps),
    st.sampled_from(["# Title\ntext", "see **this**", "- item", "[x](http://a.b)", "I'm sorry, I can't help", "ok"]),
)
ROW = st.fixed_dictionaries({
    "output": st.one_of(st.none(), TEXT), "input": st.one_of(st.none(), st.text(alphabet="ab ", max_size=6)),
    "model": st.one_of(st.none(), st.sampled_from(["m1", "m2", "m3", "42", "true", "1.5"])),
    "latency_ms": st.one_of(st.none(), st.floats(-5, 100, allow_nan=False)),
    "tool_calls": st.one_of(st.none(), st.lists(st.sampled_from(["t1", "t2", "t3"]), max_size=3)),
})
ROW_CHECKS = [
    {"kind": "not_empty", "field": "output"},
    {"kind": "length_between", "field": "output", "min": 2, "max": 9},
    {"kind": "json_valid", "field": "output"},
    {"kind": "json_type", "field": "output", "type": "OBJECT"},
    {"kind": "json_type", "field": "output", "type": "NUMBER"},
    {"kind": "json_keys", "field": "output", "required": ["a"]},
    {"kind": "json_keys", "field": "output", "allowed": ["a", "b"]},
    {"kind": "in_set", "field": "model", "values": ["m1", "m2"]},
    {"kind": "in_set", "field": "tool_calls", "values": ["t1", "t2"]},
    {"kind": "type_is", "field": "model", "type": "integer"},
    {"kind": "type_is", "field": "model", "type": "number"},
    {"kind": "type_is", "field": "model", "type": "boolean"},
    {"kind": "min_value", "field": "latency_ms", "min": 0},
    {"kind": "regex_absent", "field": "output", "pattern": "markdown"},
    {"kind": "regex_present", "field": "output", "pattern": "refusal"},
    {"kind": "prefix_in", "field": "output", "values": ["{", "#"]},
    {"kind": "length_ratio_min", "field": "output", "other": "input", "min": 1.5},
]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ROW, min_size=1, max_size=30))
def test_row_kinds_match_reference(rows):
    ev = Evaluator(entries(rows))
    try:
        results = ev.evaluate_many(ROW_CHECKS)
    finally:
        ev.close()
    for check, res in zip(ROW_CHECKS, results):
        support, total = reference(check, rows)
        if total == 0:
            assert res.missing, check
            continue
        assert (res.support, res.total) == (support, total), check
        assert res.confidence == pytest.approx(support / total)
        assert res.holds == (support == total)
        assert len(res.evidence["examples"]) == min(5, total - support)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ROW, min_size=1, max_size=40))
def test_share_kinds_match_reference(rows):
    t = entries(rows)
    checks = [
        {"kind": "completeness", "field": "model", "min": 0.7},
        {"kind": "share_between", "field": "model", "value": "m1", "min": 0.2, "max": 0.4},
        {"kind": "share_between", "field": "tool_calls", "value": "t1", "max": 0.3},
        {"kind": "share_between", "field": "output", "pattern": "refusal", "max": 0.1},
        {"kind": "share_between", "field": "input"},
    ]
    results = Evaluator(t).evaluate_many(checks)
    n = len(rows)
    present = sum(r["model"] is not None for r in rows)
    if present:
        lo, hi = wilson_interval(present, n)
        assert results[0].support == present and results[0].total == n
        assert results[0].confidence == pytest.approx(min(1.0, hi / 0.7))
    m = [r["model"] for r in rows if r["model"] is not None]
    if m:
        hits = sum(x == "m1" for x in m)
        assert (results[1].support, results[1].total) == (hits, len(m))
        assert results[1].confidence == pytest.approx(share_confidence(hits, len(m), 0.2, 0.4))
    tools = [r["tool_calls"] for r in rows if r["tool_calls"] is not None]
    if tools:
        hits = sum("t1" in x for x in tools)
        assert (results[2].support, results[2].total) == (hits, len(tools))
    outs = [r["output"] for r in rows if r["output"] is not None]
    if outs:
        hits = sum(re.search(HABIT_PATTERNS["refusal"], o, re.ASCII) is not None for o in outs)
        assert (results[3].support, results[3].total) == (hits, len(outs))
    assert (results[4].support, results[4].total) == (sum(r["input"] is not None for r in rows), n)


def test_max_quantile_against_reference():
    rng = np.random.default_rng(1)
    lat = list(np.round(rng.lognormal(6, 0.5, 400), 1))
    t = entries([], latency_ms=lat)
    bound = float(np.quantile(lat, 0.95))
    res = evaluate({"kind": "max_quantile", "field": "latency_ms", "q": 0.95, "max": bound}, t)
    assert res.support == sum(v <= bound for v in lat) and res.total == 400 and res.confidence == 1.0
    slower = entries([], latency_ms=[v * 1.5 for v in lat])
    res = evaluate({"kind": "max_quantile", "field": "latency_ms", "q": 0.95, "max": bound, "z": 0}, slower)
    assert res.confidence == pytest.approx(bound / float(np.sort([v * 1.5 for v in lat])[math.floor(400 * 0.95)]))
    assert not res.holds and len(res.evidence["examples"]) == 5
    assert res.evidence["examples"][0]["value"] == max(v * 1.5 for v in lat)


def test_correlation_against_scipy():
    from scipy.stats import spearmanr

    rng = np.random.default_rng(2)
    inputs = ["x" * int(k) for k in rng.integers(1, 60, 300)]
    outputs = ["y" * int(len(i) * 2 + rng.integers(0, 30)) for i in inputs]
    t = entries([], input=inputs, output=outputs)
    rho = spearmanr([len(i) for i in inputs], [len(o) for o in outputs]).statistic
    check = {"kind": "correlation", "x": "input", "x_measure": "length", "y": "output", "y_measure": "length",
             "sign": 1, "min_abs": 0.5}
    res = evaluate(check, t)
    assert res.evidence["rho"] == pytest.approx(rho) and res.confidence == 1.0 and res.total == 300
    res = evaluate({**check, "min_abs": 0.99}, t)
    assert res.confidence < 1.0 and not res.holds


def test_two_sample_against_scipy():
    from scipy.stats import mannwhitneyu

    rng = np.random.default_rng(3)
    early, late = rng.normal(100, 10, 200), rng.normal(130, 10, 200)
    t = entries([], latency_ms=list(early) + list(late))
    res = evaluate({"kind": "two_sample", "field": "latency_ms", "test": "mannwhitney", "min_effect": 0.147}, t)
    u = mannwhitneyu(early, late, method="asymptotic").statistic
    delta = abs(2 * u / (200 * 200) - 1)
    assert res.evidence["cliffs_delta"] == pytest.approx(delta) and res.confidence == pytest.approx(1 - delta)
    stable = entries([], latency_ms=list(rng.normal(100, 10, 400)))
    assert evaluate({"kind": "two_sample", "field": "latency_ms", "test": "mannwhitney", "min_effect": 0.147}, stable).confidence == 1.0
    models = ["a"] * 150 + ["b"] * 50 + ["a"] * 100 + ["c"] * 100
    res = evaluate({"kind": "two_sample", "field": "model", "test": "chi2", "min_effect": 0.1}, entries([], model=models))
    assert res.evidence["early"] == {"a": 0.75, "b": 0.25} and res.evidence["late"] == {"a": 0.5, "c": 0.5}
    assert res.confidence == pytest.approx(1 - res.evidence["cramers_v"]) and res.evidence["cramers_v"] > 0.5


def test_group_kinds_against_reference():
    sessions = ["s1", "s1", "s2", "s3", "s3", "s3", None, "s4"]
    models = ["a", "a", "b", "a", "b", "a", "a", None]
    users = ["u1", "u1", "u1", "u2", "u2", "u2", "u3", "u3"]
    rids = ["r1", "r2", "r3", "r3", "r4", "r5", None, "r6"]
    t = entries([], session_id=sessions, model=models, user_id=users, request_id=rids)
    counts = Counter(r for r in rids if r)
    res = evaluate({"kind": "unique", "field": "request_id"}, t)
    assert (res.support, res.total) == (sum(1 for r in rids if r and counts[r] == 1), 7)
    res = evaluate({"kind": "consistent_within", "field": "model", "group": "session_id"}, t)
    groups = defaultdict(set)
    for s, m in zip(sessions, models):
        if s and m:
            groups[s].add(m)
    ok_rows = sum(1 for s, m in zip(sessions, models) if s and m and len(groups[s]) == 1)
    assert (res.support, res.total) == (ok_rows, 6)
    res = evaluate({"kind": "group_size_between", "field": "session_id", "min": 1, "max": 2}, t)
    assert (res.support, res.total) == (3, 4)
    res = evaluate({"kind": "group_stat_between", "field": "session_id", "stat": "single_share", "min": 0.5, "max": 0.5}, t)
    assert res.evidence["share"] == 0.5 and res.confidence == 1.0
    res = evaluate({"kind": "group_stat_between", "field": "session_id", "stat": "mean_size", "min": 1.0, "max": 3.0}, t)
    assert res.evidence["mean"] == pytest.approx(7 / 4)
    res = evaluate({"kind": "group_stat_between", "field": "user_id", "other": "session_id", "stat": "returning_share",
                    "min": 0.0, "max": 1.0}, t)
    assert res.support == 1 and res.total == 3  # u1 has s1 and s2; u2 only s3; u3 only s4


def test_semantic_kinds_against_numpy():
    from pipeline.core.invariants.embedders import TfidfEmbedder

    outs = ["refund issued for order"] * 20 + ["password reset link sent"] * 20 + ["zebra giraffe savanna"]
    ins = ["where is my refund"] * 20 + ["reset my password"] * 20 + ["tell me about animals"]
    t = entries([], output=outs, input=ins)
    emb = TfidfEmbedder().fit(outs + ins)
    spec = {"embedder": emb.describe(), "sample": 1000, "seed": 0}
    e = TfidfEmbedder(vocabulary=spec["embedder"]["vocabulary"], idf=spec["embedder"]["idf"]).embed(outs)
    centroid = e.mean(axis=0) / np.linalg.norm(e.mean(axis=0))
    sims = e @ centroid
    ev = Evaluator(t)
    res = ev.evaluate({"kind": "centroid_similarity", "field": "output", "centroid": list(centroid), "min_mean": 0.1, **spec})
    assert res.evidence["mean_similarity"] == pytest.approx(float(sims.mean()), rel=1e-5) and res.evidence["sampled"]
    res = ev.evaluate({"kind": "semantic_outlier_rate", "field": "output", "centroid": list(centroid),
                       "min_similarity": 0.2, "max_rate": 0.5, **spec})
    assert res.support == int((sims < 0.2).sum()) == 1
    assert [e["entry_id"] for e in res.evidence["examples"]] == ["e000040"]  # the zebra row
    res = ev.evaluate({"kind": "near_duplicate_rate", "field": "output", "threshold": 0.95, "max_rate": 0.5, **spec})
    assert res.support == 40 and res.evidence["rate"] == pytest.approx(40 / 41) and res.confidence < 1
    ie = TfidfEmbedder(vocabulary=spec["embedder"]["vocabulary"], idf=spec["embedder"]["idf"]).embed(ins)
    res = ev.evaluate({"kind": "io_alignment", "field": "output", "other": "input", "min_mean": 0.0, **spec})
    assert res.evidence["mean_similarity"] == pytest.approx(float(np.sum(e * ie, axis=1).mean()), rel=1e-5, abs=1e-6)


def test_missing_fields_and_pii():
    t = entries([{"output": "mail jane.doe@example.com"}, {"output": "fine"}, {"output": None}])
    res = evaluate({"kind": "regex_absent", "field": "output", "pattern": "email"}, t)
    assert (res.support, res.total, res.holds) == (1, 2, False)
    assert res.evidence["examples"] == [{"entry_id": "e000000", "line": 1, "match": "email"}]
    assert evaluate({"kind": "in_set", "field": "model", "values": ["a"]}, t).missing
    assert evaluate({"kind": "json_valid", "field": "no_such_column"}, t).missing
    assert not evaluate({"kind": "share_between", "field": "error", "max": 0.1}, t).missing  # no errors: share 0
    with pytest.raises(ValueError, match="unknown check kind"):
        evaluate({"kind": "nope", "field": "output"}, t)


def test_every_builtin_kind_is_documented():
    from pipeline.core.invariants.evaluator import SEMANTIC_KINDS
    from pipeline.core.invariants.kinds import KIND_DOCS
    from pipeline.core.invariants.sql_checks import ROW_KINDS, SHARE_KINDS
    from pipeline.core.invariants.stat_checks import STAT_KINDS

    assert set(KIND_DOCS) == set(ROW_KINDS + SHARE_KINDS + STAT_KINDS + SEMANTIC_KINDS)


def test_custom_check_kind():
    @register_check_kind("always_true_for_tests")
    def _always(ev, check):
        return CheckResult(True, 1.0, ev.n, ev.n)

    assert "always_true_for_tests" in known_kinds()
    assert evaluate({"kind": "always_true_for_tests", "field": "output"}, entries([{"output": "x"}])).support == 1
