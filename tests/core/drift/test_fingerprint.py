"""The drift fingerprint: exact samples, counts and summaries on hand-built tables, adversarial inputs, and the
planted changes of drift_corpus showing up in the right dimensions."""
from __future__ import annotations

import json
import math
from datetime import timedelta

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.core.drift.fingerprint import OTHER, fingerprint_dimensions
from pipeline.core.drift.synthetic import CHANGES, drift_corpus
from pipeline.core.entry_schema import CANONICAL_SCHEMA
from tests.core.invariants.helpers import T0, entries

EMPTY = CANONICAL_SCHEMA.empty_table()


def dims_of(a: pa.Table, b: pa.Table | None = None, **kw) -> dict:
    return {d.name: d for d in fingerprint_dimensions(a, EMPTY if b is None else b, **kw)}


def counts(dim, side: str = "a") -> dict:
    return {k: int(c) for k, c in zip(dim.labels, dim.a_counts if side == "a" else dim.b_counts) if c}


def assert_clean(dims) -> None:
    """No NaN or inf anywhere a consumer could read it."""
    def walk(v):
        if isinstance(v, dict):
            for x in v.values():
                walk(x)
        elif isinstance(v, float):
            assert math.isfinite(v)
    for d in dims:
        for arr in (d.a, d.b, d.a_counts, d.b_counts):
            if arr is not None:
                assert np.all(np.isfinite(arr))
        walk(d.summary)


# --- exact values on hand-built tables ---

def test_tool_counts_loop_depth_usage_and_ngrams_with_markers():
    a = entries([], tool_calls=[["search", "search", "lookup"], [], None, ["lookup", None, "lookup"]])
    b = entries([], tool_calls=[["x"]])
    d = dims_of(a, b)
    assert d["tool_call_count"].a.tolist() == [3.0, 0.0, 2.0]  # null list missing, null name dropped
    assert d["loop_depth"].a.tolist() == [2.0, 0.0, 2.0]
    assert d["tool_call_count"].b.tolist() == [1.0] and d["loop_depth"].b.tolist() == [1.0]
    assert d["tool_usage"].labels == ["lookup", "search", "x"]
    assert counts(d["tool_usage"]) == {"lookup": 3, "search": 2} and counts(d["tool_usage"], "b") == {"x": 1}
    assert counts(d["tool_sequence"]) == {"^>search": 1, "search>search": 1, "search>lookup": 1, "lookup>$": 2,
                                          "^>$": 1, "^>lookup": 1, "lookup>lookup": 1}
    assert counts(d["tool_sequence"], "b") == {"^>x": 1, "x>$": 1}
    assert d["tool_usage"].summary["shares_a"] == {"lookup": 0.6, "search": 0.4, "x": 0.0}
    assert d["tool_usage"].summary["shares_b"] == {"lookup": 0.0, "search": 0.0, "x": 1.0}
    assert (d["tool_usage"].group, d["tool_sequence"].kind, d["loop_depth"].unit) == ("tools", "categorical", "")


def test_ngram_length_is_a_parameter_and_short_sequences_count_whole():
    a = entries([], tool_calls=[["s", "s", "l"], []])
    assert counts(dims_of(a, ngram=3)["tool_sequence"]) == {"^>s>s": 1, "s>s>l": 1, "s>l>$": 1, "^>$": 1}
    assert counts(dims_of(a, ngram=1)["tool_sequence"]) == {"^": 2, "s": 2, "l": 1, "$": 2}
    assert counts(dims_of(a, ngram=6)["tool_sequence"]) == {"^>s>s>l>$": 1, "^>$": 1}
    with pytest.raises(ValueError):
        fingerprint_dimensions(a, a, ngram=0)


def reference_tools(lists, n):
    """Plain-Python reference: calls, loop depth, usage and n-grams."""
    calls, depth, usage, grams = [], [], {}, {}
    for tools in lists:
        if tools is None:
            continue
        names = [t for t in tools if t is not None]
        calls.append(len(names))
        best, run = 0, 0
        for i, t in enumerate(names):
            run = run + 1 if i and names[i - 1] == t else 1
            best = max(best, run)
        depth.append(best)
        for t in names:
            usage[t] = usage.get(t, 0) + 1
        seq = ["^", *names, "$"]
        for g in ([seq] if len(seq) <= n else [seq[i:i + n] for i in range(len(seq) - n + 1)]):
            grams[">".join(g)] = grams.get(">".join(g), 0) + 1
    return calls, depth, usage, grams


tool_lists = st.lists(st.one_of(st.none(), st.lists(st.one_of(st.none(), st.sampled_from(["a", "b", "cé", "d"])),
                                                    max_size=7)), min_size=1, max_size=40)


@settings(max_examples=60, deadline=None)
@given(tool_lists, st.integers(1, 4))
def test_tool_dimensions_match_a_python_reference(lists, n):
    d = dims_of(entries([], tool_calls=lists), ngram=n)
    calls, depth, usage, grams = reference_tools(lists, n)
    if not calls:
        assert "tool_call_count" not in d and "tool_sequence" not in d
        return
    assert d["tool_call_count"].a.tolist() == calls and d["loop_depth"].a.tolist() == depth
    assert counts(d["tool_sequence"]) == grams
    assert counts(d["tool_usage"]) == usage if usage else "tool_usage" not in d


def test_retries_follow_time_order_within_each_session():
    rows = [  # listed out of time order on purpose
        {"session_id": "s1", "input": "q", "ts": T0 + timedelta(seconds=3)},
        {"session_id": "s1", "input": "q", "ts": T0},
        {"session_id": "s1", "input": "q", "ts": T0 + timedelta(seconds=1)},  # retry of t0
        {"session_id": "s1", "input": "r", "ts": T0 + timedelta(seconds=2)},  # so the q at t3 is no retry
        {"session_id": "s2", "input": "z", "ts": T0},
        {"session_id": "s2", "input": "z", "ts": T0},  # same ts: row order decides, still one retry
        {"session_id": "s2", "input": "z", "ts": T0 + timedelta(seconds=5)},
        {"session_id": None, "input": "q"},
        {"session_id": "s3", "input": None},
    ]
    d = dims_of(entries(rows))
    assert sorted(d["retry_count"].a.tolist()) == [1.0, 2.0]  # s1: one retry, s2: two; s3 has no input
    assert d["retry_rate"].a_counts.tolist() == [4, 3]
    assert d["retry_rate"].summary["rate_a"] == pytest.approx(3 / 7)
    assert d["retry_rate"].group == d["retry_count"].group == "errors"


def test_json_keys_counted_once_per_object_output():
    deep = '{"d": ' * 3000 + "1" + "}" * 3000
    outputs = ['{"a": 1, "b": {"c": 2}}', '{"a": 1, "a": 2}', "[1, 2]", "not json", '\n  {"z": null}', "{}", None,
               deep, '"a string"', "42", '{"ключ": "значение"}']
    d = dims_of(entries([], output=outputs))["json_keys"]
    assert counts(d) == {"a": 2, "b": 1, "z": 1, "d": 1, "ключ": 1}
    s = d.summary
    assert s["n_objects_a"] == 6 and s["object_shares_a"]["a"] == pytest.approx(2 / 6)
    assert s["shares_a"]["a"] == pytest.approx(2 / 6)  # 6 keys counted over 6 objects here
    assert (d.group, d.kind) == ("structure", "categorical")


def test_output_length_and_verbosity_count_characters_not_bytes():
    rows = [{"input": "abcd", "output": "abcdefgh"}, {"input": "héllo", "output": "日本語日本語日本語日"},
            {"input": "", "output": "xyz"}, {"input": None, "output": "xy"}, {"input": "abc", "output": None},
            {"input": "ab", "output": ""}]
    d = dims_of(entries(rows))
    assert d["output_chars"].a.tolist() == [8.0, 10.0, 3.0, 2.0, 0.0]
    assert d["verbosity_ratio"].a.tolist() == [2.0, 2.0, 0.0]
    assert (d["output_chars"].unit, d["output_chars"].group, d["verbosity_ratio"].unit) == ("chars", "output", "")


def test_error_types_are_normalized_and_error_rate_reads_status_and_text():
    rows = [
        {"status": "error", "error": "Timeout after 30s on request 550e8400-e29b-41d4-a716-446655440000"},
        {"status": "error", "error": "Timeout after 45s on request 123e4567-E89B-12d3-a456-426614174000"},
        {"status": None, "error": "rate limited: retry in 12 ms (trace 0x1f3a)"},
        {"status": "ERROR", "error": "id deadbeef42 failed at   step 7"},
        {"status": "error", "error": None},
        {"status": "error", "error": "x" * 100},
        {"status": "error", "error": "code 1234567890 at\tcafe2025 ok"},
        {"status": "ok", "error": "  "},
        {"status": "ok", "error": None},
        {"status": None, "error": None},
    ]
    d = dims_of(entries(rows))
    assert counts(d["error_types"]) == {"Timeout after <n>s on request <uuid>": 2,
                                        "rate limited: retry in <n> ms (trace <hex>)": 1,
                                        "id <hex> failed at step <n>": 1, "(no message)": 1, "x" * 60: 1,
                                        "code <n> at <hex> ok": 1}
    assert d["error_rate"].labels == ["no", "yes"] and d["error_rate"].a_counts.tolist() == [3, 7]
    assert d["error_rate"].summary == {"rate_a": pytest.approx(7 / 10), "rate_b": None}


def test_continuous_summary_and_nan_dropping():
    d = dims_of(entries([], latency_ms=[100.0, 200.0, 300.0, float("nan"), None, float("inf")]),
                entries([], latency_ms=[50.0]))["latency_ms"]
    assert d.a.tolist() == [100.0, 200.0, 300.0] and d.b.tolist() == [50.0]
    assert d.summary == {"mean_a": 200.0, "mean_b": 50.0, "p50_a": 200.0, "p50_b": 50.0, "p95_a": 290.0,
                         "p95_b": 50.0, "n_a": 3, "n_b": 1}
    assert (d.kind, d.group, d.unit) == ("continuous", "latency", "ms")


def test_token_cost_outcome_model_and_output_kind():
    a = entries([], prompt_tokens=[10, None], completion_tokens=[5, 7], cost_usd=[0.01, 0.02],
                outcome=["resolved", "escalated"], model=["m1", "m1"], output_kind=["json", "text"])
    d = dims_of(a)
    assert d["prompt_tokens"].a.tolist() == [10.0] and d["completion_tokens"].a.tolist() == [5.0, 7.0]
    assert d["cost_usd"].unit == "USD" and d["cost_usd"].summary["mean_a"] == pytest.approx(0.015)
    assert counts(d["outcome"]) == {"resolved": 1, "escalated": 1} and d["outcome"].group == "outcome"
    assert d["model"].summary["shares_a"] == {"m1": 1.0}
    assert counts(d["output_kind"]) == {"json": 1, "text": 1} and d["output_kind"].group == "structure"


def test_labels_are_capped_with_the_tail_folded_into_other():
    a = entries([], model=["m1"] * 5 + ["m2"] * 3 + ["m3"] * 2 + ["m4"])
    b = entries([], model=["m4"] * 2 + ["m5"])
    d = dims_of(a, b, max_labels=2)["model"]
    assert d.labels == ["m1", "m2", OTHER]
    assert d.a_counts.tolist() == [5, 3, 3] and d.b_counts.tolist() == [0, 0, 3]
    assert d.summary["shares_b"] == {"m1": 0.0, "m2": 0.0, OTHER: 1.0}


def test_time_to_first_tool_from_numeric_attributes_only():
    attrs = ['{"time_to_first_tool_ms": 120}', '{"ttft_tool_ms": 80.5}', '{"time_to_first_tool_ms": "fast"}',
             "time_to_first_tool_ms: 5", '{"region": "eu"}', None]
    d = dims_of(entries([], attributes=attrs))
    assert sorted(d["time_to_first_tool_ms"].a.tolist()) == [80.5, 120.0]
    assert "time_to_first_tool_ms" not in dims_of(entries([], attributes=['{"region": "eu"}'], latency_ms=[1.0]))


# --- adversarial tables ---

def test_empty_tables_and_all_null_columns_give_no_dimensions():
    assert fingerprint_dimensions(EMPTY, EMPTY) == []
    assert fingerprint_dimensions(entries([{}, {}]), entries([{}])) == []


def test_missing_columns_and_odd_types_do_not_raise():
    a = pa.table({"latency_ms": pa.array(["12", "x", None]), "model": pa.array([1, 2, 2]),
                  "tool_calls": pa.array([["a"], None, []], pa.large_list(pa.large_string()))})
    b = pa.table({"entry_id": ["e1"], "output": pa.array([b"\xff\xfe"], pa.binary()),
                  "status": pa.array([{"x": 1}], pa.struct([("x", pa.int64())]))})
    d = dims_of(a, b)
    assert "latency_ms" not in d  # strings that do not all parse: treated as missing
    assert counts(d["model"]) == {"1": 1, "2": 2}
    assert d["tool_call_count"].a.tolist() == [1.0, 0.0] and len(d["tool_call_count"].b) == 0
    assert d["tool_call_count"].summary["mean_b"] is None and d["tool_call_count"].summary["n_b"] == 0
    assert "error_rate" not in d and "output_chars" not in d
    assert_clean(d.values())


def test_one_sided_data_keeps_the_dimension_with_an_empty_side():
    d = dims_of(entries([], latency_ms=[1.0, 2.0]), entries([], latency_ms=[None]))
    assert d["latency_ms"].b.size == 0 and d["latency_ms"].summary["p95_b"] is None


@settings(max_examples=40, deadline=None)
@given(st.lists(st.fixed_dictionaries({
    "latency_ms": st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True, width=64)),
    "input": st.one_of(st.none(), st.text(max_size=8)),
    "output": st.one_of(st.none(), st.text(max_size=8), st.sampled_from(["{}", "[1]", '{"k": [1, {"j": 2}]}'])),
    "tool_calls": tool_lists.map(lambda ls: ls[0]),
    "status": st.one_of(st.none(), st.sampled_from(["ok", "error", ""])),
    "error": st.one_of(st.none(), st.text(max_size=12)),
    "session_id": st.one_of(st.none(), st.sampled_from(["s1", "s2"])),
    "model": st.one_of(st.none(), st.text(max_size=3)),
}), max_size=15), st.integers(0, 15))
def test_random_tables_never_produce_nan_or_empty_dimensions(rows, cut):
    t = entries(rows) if rows else EMPTY
    dims = fingerprint_dimensions(t.slice(0, cut), t.slice(cut))
    assert_clean(dims)
    for dim in dims:
        assert dim.n_a + dim.n_b > 0
        if dim.kind != "continuous":
            assert len(dim.labels) == len(dim.a_counts) == len(dim.b_counts)
        if dim.kind == "categorical":  # a rate keeps its two labels; a category is listed only when seen
            assert all(dim.a_counts + dim.b_counts > 0)


# --- planted changes ---

@pytest.fixture(scope="module")
def planted():
    cache = {}

    def get(change):
        if change not in cache:
            cache[change] = dims_of(*drift_corpus(20_000, 11, change))
        return cache[change]
    return get


def share(dim, label, side):
    return dim.summary[f"shares_{side}"].get(label, 0.0)


def test_aa_pair_is_quiet(planted):
    d = planted(None)
    for name in ("tool_usage", "outcome", "model", "json_keys", "tool_sequence", "error_types"):
        for label in d[name].labels:
            assert abs(share(d[name], label, "a") - share(d[name], label, "b")) < 0.02, (name, label)
    for name in ("latency_ms", "cost_usd", "output_chars", "prompt_tokens"):
        assert d[name].summary["p50_b"] / d[name].summary["p50_a"] == pytest.approx(1, abs=0.05), name


def test_latency_change(planted):
    d = planted("latency")
    assert d["latency_ms"].summary["p50_b"] / d["latency_ms"].summary["p50_a"] == pytest.approx(1.4, abs=0.08)
    assert d["cost_usd"].summary["mean_b"] / d["cost_usd"].summary["mean_a"] == pytest.approx(1, abs=0.05)


def test_tool_removed(planted):
    d = planted("tool_removed")
    assert share(d["tool_usage"], "lookup_order", "a") == pytest.approx(0.26, abs=0.02)
    assert share(d["tool_usage"], "lookup_order", "b") == 0.0
    assert share(d["tool_sequence"], "^>lookup_order", "b") == 0.0 < share(d["tool_sequence"], "^>lookup_order", "a")
    assert d["tool_call_count"].summary["mean_b"] < d["tool_call_count"].summary["mean_a"] - 0.2


def test_escalations_triple(planted):
    d = planted("escalations")
    ratio = share(d["outcome"], "escalated", "b") / share(d["outcome"], "escalated", "a")
    assert ratio == pytest.approx(3, abs=0.45)


def test_model_switch(planted):
    d = planted("model_switch")["model"]
    assert share(d, "gpt-4.1", "a") == 0.0 and share(d, "gpt-4.1", "b") == pytest.approx(0.4, abs=0.05)
    assert share(d, "gpt-4o", "b") == pytest.approx(0.1, abs=0.04)


def test_json_key_added(planted):
    d = planted("json_key_added")["json_keys"]
    assert d.summary["object_shares_a"]["lang"] == 0.0 and d.summary["object_shares_b"]["lang"] == 1.0


def test_cost_change_at_equal_tokens(planted):
    d = planted("cost")
    assert d["cost_usd"].summary["mean_b"] / d["cost_usd"].summary["mean_a"] == pytest.approx(1.3, abs=0.07)
    assert d["prompt_tokens"].summary["mean_b"] / d["prompt_tokens"].summary["mean_a"] == pytest.approx(1, abs=0.02)


def test_drift_corpus_pairs_are_independent_samples_and_validate_the_change():
    a, b = drift_corpus(500, 3, None)
    assert a.num_rows == b.num_rows == 500 and a.schema == b.schema == CANONICAL_SCHEMA
    assert not set(a.column("entry_id").to_pylist()) & set(b.column("entry_id").to_pylist())
    assert max(a.column("ts").to_pylist()) < min(b.column("ts").to_pylist())
    a2, _ = drift_corpus(500, 3, "latency")
    assert a2.equals(a)  # the baseline does not depend on the change
    assert set(CHANGES) == {"latency", "tool_removed", "escalations", "model_switch", "json_key_added", "cost"}
    with pytest.raises(ValueError, match="unknown change"):
        drift_corpus(10, 0, "everything")


def test_synthetic_fingerprint_has_every_expected_dimension(planted):
    assert set(planted(None)) == {
        "latency_ms", "latency_per_token_ms", "prompt_tokens", "completion_tokens", "cost_usd", "output_chars",
        "verbosity_ratio", "tool_call_count", "loop_depth", "retry_count", "error_rate", "retry_rate", "pii_rate", "error_types", "outcome",
        "tool_usage", "tool_sequence", "output_kind", "json_keys", "model"}
    assert json.dumps([d.summary for d in planted(None).values()])  # summaries are plain JSON
