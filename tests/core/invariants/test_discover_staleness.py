"""Discovery (custom miners, families, deduplication), staleness at the 10/30 pp boundaries, compare, baseline files."""
from __future__ import annotations

import json

import pytest

from pipeline.core.invariants import (Invariant, check_staleness, compare, deduplicate, discover, load_baseline,
                                      make_invariant, register_miner, save_baseline, unregister_miner)
from pipeline.core.invariants.baseline_io import FORMAT_VERSION
from pipeline.core.invariants.model import invariant_id
from pipeline.core.invariants.staleness import classify

from .helpers import entries


def inv(id_="x", kind="in_set", confidence=1.0, severity="warning", family="structural", **check):
    return Invariant(id=id_, family=family, description=id_, confidence=confidence, support=1, total=1,
                     severity=severity, check={"kind": kind, "field": "model", **check})


def test_ids_are_stable():
    assert invariant_id("statistical", "latency_ms", "max_quantile", "p95") == "statistical:latency_ms:max_quantile:p95"
    rows = entries([{"output": "hello", "model": "a"}] * 20)
    first = [i.to_dict() for i in discover(rows, families=["structural", "pii"])]
    second = [i.to_dict() for i in discover(rows, families=["structural", "pii"])]
    assert first == second


def test_custom_miner_shows_up_in_discover():
    @register_miner("answers_are_short")
    def answers_are_short(table):
        return [make_invariant("custom", {"kind": "length_between", "field": "output", "min": 0, "max": 10},
                               "Outputs are at most 10 characters", qualifier="short")]

    try:
        rows = entries([{"output": "hi"}, {"output": "hello"}, {"output": "a" * 40}])
        found = {i.id: i for i in discover(rows, min_confidence=0.5, families=["custom"])}
        mine = found["custom:output:length_between:short"]
        assert (mine.support, mine.total) == (2, 3) and mine.confidence == pytest.approx(2 / 3)  # measured by the evaluator
        everything = {i.id for i in discover(rows, min_confidence=0.5)}  # all families: built-in and custom
        assert "custom:output:length_between:short" in everything and "structural:output:json_valid" not in everything
    finally:
        unregister_miner("answers_are_short")


def test_failing_custom_miner_is_named():
    @register_miner("broken_for_tests")
    def broken(table):
        raise ZeroDivisionError("boom")

    try:
        with pytest.raises(RuntimeError, match="broken_for_tests"):
            discover(entries([{"output": "x"}]), families=["custom"])
    finally:
        unregister_miner("broken_for_tests")


def test_deduplicate_keeps_tighter_and_drops_subsumed():
    wide = inv("a", "length_between", min=1, max=500)
    tight = inv("b", "length_between", min=3, max=200)
    empty = inv("c", "not_empty")
    full = inv("d", "in_set", values=["x", "y"])
    top = inv("e", "in_set", confidence=1.0, values=["y", "x"], min_confidence=0.99)
    for i in (wide, tight, empty):
        i.check["field"] = "output"
    kept = {i.id for i in deduplicate([wide, tight, empty, full, top])}
    assert kept == {"b", "d"}
    loose_empty = inv("f", "not_empty", confidence=1.0)
    weaker_bound = inv("g", "length_between", confidence=0.9, min=1, max=9)
    assert {i.id for i in deduplicate([loose_empty, weaker_bound])} == {"f", "g"}  # the bound holds less often


@pytest.mark.parametrize("bad, status", [(0, "holds"), (10, "holds"), (11, "degraded"), (30, "degraded"), (31, "violated")])
def test_staleness_boundaries(bad, status):
    baseline = [inv("models", values=["a"])]
    rows = entries([], model=["b"] * bad + ["a"] * (100 - bad))
    (res,) = check_staleness(baseline, rows)
    assert res.status == status and res.confidence_now == pytest.approx(1 - bad / 100) and res.drop_pp == pytest.approx(bad)


def test_staleness_pii_missing_and_examples():
    pii = inv("pii:email", "regex_absent", severity="critical", family="pii", pattern="email")
    pii.check["field"] = "output"
    rows = entries([], output=["fine"] * 999 + ["write to jane.doe@example.com"], model=[None] * 1000)
    res = {r.id: r for r in check_staleness([pii, inv("models", values=["a"])], rows)}
    assert res["pii:email"].status == "violated" and res["pii:email"].drop_pp == pytest.approx(0.1)
    assert res["pii:email"].evidence["examples"] == [{"entry_id": "e000999", "line": 1000, "match": "email"}]
    assert res["models"].status == "missing"  # model all null
    assert classify(inv(confidence=0.95), 0.85, 0, False) == "holds"  # 10 pp exactly, despite float rounding
    assert classify(inv(confidence=0.95), 0.6499, 0, False) == "violated"


def test_compare_categories():
    a = [inv("same", confidence=0.99), inv("gone"), inv("better", confidence=0.80), inv("worse", confidence=0.99),
         inv("p95", "max_quantile", q=0.95, max=1000.0), inv("p99", "max_quantile", q=0.99, max=1000.0)]
    b = [inv("same", confidence=0.985), inv("fresh"), inv("better", confidence=0.95), inv("worse", confidence=0.85),
         inv("p95", "max_quantile", q=0.95, max=1400.0), inv("p99", "max_quantile", q=0.99, max=800.0)]
    result = compare(a, b)
    got = {i: result.category_of(i) for i in ("same", "gone", "fresh", "better", "worse", "p95", "p99")}
    assert got == {"same": "stable", "gone": "removed", "fresh": "new", "better": "improved", "worse": "degraded",
                   "p95": "degraded", "p99": "improved"}
    assert json.dumps(result.to_dict())


def test_baseline_round_trip(tmp_path):
    rows = entries([{"output": json.dumps({"a": i}), "latency_ms": float(i), "model": "m"} for i in range(50)])
    found = discover(rows)
    path = save_baseline(found, tmp_path / "nightly", metadata={"rows": 50})
    assert path.endswith("nightly.strata.json")
    doc = json.loads((tmp_path / "nightly.strata.json").read_text())
    assert doc["format_version"] == FORMAT_VERSION and doc["metadata"] == {"rows": 50}
    loaded = load_baseline(path)
    assert [i.to_dict() for i in loaded] == [i.to_dict() for i in found]
    assert all(r.status == "holds" for r in check_staleness(loaded, rows))
    doc["format_version"] = FORMAT_VERSION + 1
    (tmp_path / "future.strata.json").write_text(json.dumps(doc))
    with pytest.raises(ValueError, match="format_version"):
        load_baseline(tmp_path / "future.strata.json")
    (tmp_path / "other.strata.json").write_text("{}")
    with pytest.raises(ValueError, match="not a Strata baseline"):
        load_baseline(tmp_path / "other.strata.json")
