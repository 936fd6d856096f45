"""Drift explanations: the sentences for hand-built results carry the right numbers, ranking follows weight x score,
and the cost per 10,000 runs equals a hand sum."""
from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.core.drift.explain import describe, financial_impact, hypotheses
from pipeline.core.drift.fingerprint import fingerprint_dimensions
from pipeline.core.drift.model import Dimension, DimensionResult
from pipeline.core.drift.synthetic import drift_corpus
from pipeline.core.entry_schema import CANONICAL_SCHEMA
from pipeline.core.ingest.pricing import PriceTable
from tests.core.invariants.helpers import entries

KINDS = {"tool_usage": "categorical", "tool_sequence": "categorical", "outcome": "categorical", "model": "categorical",
         "json_keys": "categorical", "output_kind": "categorical", "error_types": "categorical",
         "error_rate": "rate", "retry_rate": "rate"}
UNITS = {"latency_ms": "ms", "output_chars": "chars", "cost_usd": "USD", "prompt_tokens": "tokens",
         "time_to_first_tool_ms": "ms"}


def dim(name: str, **summary) -> Dimension:
    return Dimension(name, KINDS.get(name, "continuous"), "g", unit=UNITS.get(name, ""), summary=summary)


def result(name: str, score: float = 0.5, weight: float = 1.0) -> DimensionResult:
    return DimensionResult(name, KINDS.get(name, "continuous"), "g", "ks", 1.0, 1e-9, 1e-9, 0.4, "js_distance",
                           score, score, weight, score > 0, 100, 100)


def cont(**stats) -> dict:
    base = {f"{k}_{s}": None for k in ("mean", "p50", "p95") for s in "ab"}
    return {**base, **stats, "n_a": 10, "n_b": 10}


@pytest.mark.parametrize("d, text", [
    (dim("tool_usage", shares_a={"search_kb": 0.6, "lookup_order": 0.25, "create_ticket": 0.15},
         shares_b={"search_kb": 0.8, "lookup_order": 0.0, "create_ticket": 0.2}),
     "Tool `lookup_order` dropped out of the call graph (25% of calls → 0%)"),
    (dim("tool_usage", shares_a={"a": 1.0, "b": 0.0}, shares_b={"a": 0.88, "b": 0.12}),
     "New tool `b` in the call graph (0% → 12% of calls)"),
    (dim("tool_usage", shares_a={"a": 0.7, "b": 0.3}, shares_b={"a": 0.4, "b": 0.6}),
     "Tool `b` up from 30% to 60% of calls"),
    (dim("outcome", shares_a={"resolved": 0.8, "escalated": 0.05, "abandoned": 0.15},
         shares_b={"resolved": 0.7, "escalated": 0.152, "abandoned": 0.148}),
     "Escalation rate up from 5.0% to 15.2%"),
    (dim("outcome", shares_a={"won": 0.5, "lost": 0.5}, shares_b={"won": 0.2, "lost": 0.8}),
     "Outcome `lost` rate up from 50.0% to 80.0%"),
    (dim("error_rate", rate_a=0.01, rate_b=0.04), "Error rate up from 1.0% to 4.0%"),
    (dim("retry_rate", rate_a=0.0294, rate_b=0.0291), "Retry rate down from 2.94% to 2.91%"),
    (dim("latency_ms", **cont(p95_a=4970.0, p95_b=6684.0, p50_a=900.0, p50_b=1000.0)),
     "p95 latency up 4970 → 6684 ms (+34%)"),
    (dim("latency_ms", **cont(p95_a=800.0, p95_b=800.0, p50_a=500.0, p50_b=400.0)),
     "Median latency down 500 → 400 ms (-20%)"),
    (dim("output_chars", **cont(p50_a=412.0, p50_b=536.0)), "Outputs 30% longer (median 412 → 536 chars)"),
    (dim("cost_usd", **cont(mean_a=0.0041, mean_b=0.00533)), "Cost per run up 30% (mean $0.0041 → $0.0053)"),
    (dim("prompt_tokens", **cont(mean_a=152.81, mean_b=152.77)),
     "Prompt tokens per run down 0.0% (mean 152.81 → 152.77 tokens)"),
    (dim("retry_count", **cont(mean_a=0.0, mean_b=0.12)), "Retries per session up (mean 0 → 0.12)"),
    (dim("model", shares_a={"gpt-4o": 0.5, "gpt-4o-mini": 0.5},
         shares_b={"gpt-4o": 0.1, "gpt-4.1": 0.4, "gpt-4o-mini": 0.5}),
     "Model switched: gpt-4o 50% → 10%, gpt-4.1 0% → 40%"),
    (dim("model", shares_a={"m1": 0.6, "m2": 0.4}, shares_b={"m1": 0.3, "m2": 0.7}),
     "Model mix changed: m1 60% → 30%, m2 40% → 70%"),
    (dim("json_keys", shares_a={"answer": 1.0}, shares_b={"answer": 0.5, "lang": 0.5},
         object_shares_a={"answer": 1.0, "lang": 0.0}, object_shares_b={"answer": 1.0, "lang": 1.0}),
     "JSON key `lang` added to outputs (0% → 100% of JSON outputs)"),
    (dim("json_keys", object_shares_a={"answer": 1.0, "sources": 0.995}, object_shares_b={"answer": 1.0}),
     "JSON key `sources` removed from outputs (99.5% → 0% of JSON outputs)"),
    (dim("output_kind", shares_a={"json": 1.0}, shares_b={"json": 0.6, "text": 0.4}),
     "Output kind mix changed: json 100% → 60%, text 0% → 40%"),
    (dim("tool_sequence", shares_a={"^>search_kb": 0.5, "search_kb>lookup_order": 0.15, "lookup_order>$": 0.35},
         shares_b={"^>search_kb": 0.5, "search_kb>$": 0.5}),
     "New tool sequence `search_kb>$` (0% → 50% of tool-sequence steps)"),
    (dim("tool_sequence", shares_a={"^>$": 0.2, "^>a": 0.8}, shares_b={"^>$": 0.35, "^>a": 0.65}),
     "Tool sequence `^>$` (no tool calls) up from 20% to 35% of tool-sequence steps"),
    (dim("tool_sequence", shares_a={"^>a": 0.6, "a>$": 0.3, "a>b": 0.1}, shares_b={"^>a": 0.5, "a>$": 0.5}),
     "Tool sequence `a>b` disappeared (10% of tool-sequence steps → 0%)"),
    (dim("tool_usage", shares_a={"a": 0.5, "b": 0.49, "c": 0.01}, shares_b={"a": 0.9, "b": 0.1}),
     "Tool `a` up from 50% to 90% of calls"),  # c vanishing is too small a move to lead
    (dim("error_types", shares_a={"upstream timeout": 1.0}, shares_b={"upstream timeout": 0.7, "rate limited": 0.3}),
     "New error type `rate limited` (0% → 30% of errors)"),
])
def test_sentences_carry_the_numbers(d, text):
    assert describe(d) == text


def test_other_is_never_the_named_tool():
    d = dim("tool_usage", shares_a={"a": 0.5, "(other)": 0.5}, shares_b={"a": 0.4, "(other)": 0.6})
    assert describe(d) == "Tool `a` down from 50% to 40% of calls"


def test_hypotheses_rank_by_weight_times_score_and_skip_quiet_dimensions():
    dims = [dim("error_rate", rate_a=0.01, rate_b=0.04), dim("latency_ms", **cont(p95_a=100.0, p95_b=150.0)),
            dim("model", shares_a={"m1": 1.0}, shares_b={"m1": 0.5, "m2": 0.5}), dim("outcome", shares_a={})]
    results = [result("error_rate", 0.5, 2.0), result("latency_ms", 0.9, 2.0), result("model", 0.0, 5.0),
               result("outcome", float("nan")), result("unknown_dim", 0.2, 1.0)]
    hs = hypotheses(results, dims)
    assert [(h.dimension, h.contribution) for h in hs] == [("latency_ms", 1.8), ("error_rate", 1.0),
                                                          ("unknown_dim", 0.2)]
    assert hs[0].text == "p95 latency up 100 → 150 ms (+50%)"
    assert hs[2].text == "`unknown_dim` changed (js_distance 0.40)"
    assert [h.dimension for h in hypotheses(results, dims, limit=1)] == ["latency_ms"]
    assert hypotheses([], dims) == []


def test_a_dimension_without_facts_falls_back_to_its_effect():
    hs = hypotheses([result("latency_ms")], [dim("latency_ms", **cont())])
    assert hs[0].text == "`latency_ms` changed (js_distance 0.40)"


finite = st.floats(0, 1e6, allow_nan=False)
share_dicts = st.dictionaries(st.sampled_from(["a", "b", "(other)", "ü"]), st.floats(0, 1), max_size=4)


@settings(max_examples=80, deadline=None)
@given(st.sampled_from(["latency_ms", "output_chars", "cost_usd", "verbosity_ratio", "loop_depth", "x_custom"]),
       st.fixed_dictionaries({f"{k}_{s}": st.one_of(st.none(), finite) for k in ("mean", "p50", "p95") for s in "ab"}),
       st.sampled_from(["tool_usage", "tool_sequence", "outcome", "model", "json_keys", "error_types", "other_cat"]),
       share_dicts, share_dicts)
def test_sentences_never_show_nan_or_raise(cname, stats, catname, sa, sb):
    for d in (dim(cname, **stats), Dimension(catname, "categorical", "g", summary={
            "shares_a": sa, "shares_b": sb, "object_shares_a": sa, "object_shares_b": sb})):
        text = describe(d)
        assert text is None or ("nan" not in text.lower() and "inf" not in text.lower())


# --- financial impact ---

def test_financial_impact_equals_a_hand_sum():
    a = entries([], cost_usd=[0.001, 0.002, 0.003], model=["gpt-4o"] * 3)
    b = entries([{"model": "gpt-4o", "prompt_tokens": 1000, "completion_tokens": 100},  # 0.0025 + 0.001
                 {"model": "gpt-4o", "cost_usd": 0.004},
                 {"model": "my-own-model", "prompt_tokens": 10, "completion_tokens": 10},  # no price
                 {"model": "gpt-4o"}])  # no tokens, no cost
    fi = financial_impact(a, b, PriceTable.default())
    assert fi["per_10k_baseline"] == pytest.approx(20.0) and fi["per_10k_current"] == pytest.approx(37.5)
    assert fi["delta_per_10k"] == pytest.approx(17.5) and fi["delta_pct"] == pytest.approx(87.5)
    assert (fi["currency"], fi["unpriced_baseline"], fi["unpriced_current"]) == ("USD", 0, 2)
    assert fi["text"] == ("Cost per 10,000 runs: $20.00 → $37.50 (+$17.50, +88%); "
                          "no price for 0 baseline and 2 current entries")


def test_financial_impact_nan_cost_falls_back_to_tokens_and_currency_is_the_tables():
    prices = PriceTable({"m": (1.0, 2.0)}, currency="EUR")
    a = entries([], cost_usd=[float("nan")], model=["m"], prompt_tokens=[1_000_000], completion_tokens=[0])
    b = entries([], cost_usd=[0.5], model=["m"])
    fi = financial_impact(a, b, prices)
    assert fi["per_10k_baseline"] == pytest.approx(10_000.0) and fi["per_10k_current"] == pytest.approx(5_000.0)
    assert fi["text"] == "Cost per 10,000 runs: €10,000.00 → €5,000.00 (-€5,000.00, -50%)"
    fi = financial_impact(a, b, PriceTable({"m": (1.0, 2.0)}, currency="CHF"))
    assert fi["text"].startswith("Cost per 10,000 runs: 10,000.00 CHF → 5,000.00 CHF (-5,000.00 CHF")


def test_financial_impact_without_data_or_columns():
    empty = CANONICAL_SCHEMA.empty_table()
    fi = financial_impact(empty, empty, PriceTable.default())
    assert fi == {"currency": "USD", "per_10k_baseline": None, "per_10k_current": None, "delta_per_10k": None,
                  "delta_pct": None, "unpriced_baseline": 0, "unpriced_current": 0, "text": ""}
    bare = pa.table({"model": ["gpt-4o", None]})
    fi = financial_impact(bare, pa.table({"cost_usd": pa.array(["x"])}), PriceTable.default())
    assert (fi["unpriced_baseline"], fi["unpriced_current"], fi["per_10k_current"]) == (2, 1, None)
    assert fi["text"] == "Cost per 10,000 runs: unknown → unknown; no price for 2 baseline and 1 current entries"
    fi = financial_impact(entries([], cost_usd=[0.0]), entries([], cost_usd=[0.01]), PriceTable.default())
    assert fi["delta_pct"] is None and fi["text"] == "Cost per 10,000 runs: $0.00 → $100.00 (+$100.00)"


@settings(max_examples=40, deadline=None)
@given(st.lists(st.one_of(st.none(), st.floats(0, 10)), min_size=1, max_size=30),
       st.lists(st.floats(0, 10), min_size=1, max_size=30))
def test_financial_impact_matches_numpy(costs_a, costs_b):
    fi = financial_impact(entries([], cost_usd=costs_a), entries([], cost_usd=costs_b), PriceTable.default())
    priced = [c for c in costs_a if c is not None]
    expected_a = np.mean(priced) * 10_000 if priced else None
    assert fi["unpriced_baseline"] == len(costs_a) - len(priced) and fi["unpriced_current"] == 0
    assert fi["per_10k_current"] == pytest.approx(np.mean(costs_b) * 10_000)
    if expected_a is None:
        assert fi["per_10k_baseline"] is None and fi["delta_per_10k"] is None
    else:
        assert fi["per_10k_baseline"] == pytest.approx(expected_a)
        assert fi["delta_per_10k"] == pytest.approx(fi["per_10k_current"] - expected_a)
    assert all(not (isinstance(v, float) and math.isnan(v)) for v in fi.values())


def test_planted_price_change_shows_in_cost_per_10k():
    a, b = drift_corpus(20_000, 5, "cost")
    fi = financial_impact(a, b, PriceTable.default())
    assert 24 < fi["delta_pct"] < 37 and fi["unpriced_baseline"] == fi["unpriced_current"] == 0
    cost = next(d for d in fingerprint_dimensions(a, b) if d.name == "cost_usd")
    assert describe(cost).startswith("Cost per run up 3")
