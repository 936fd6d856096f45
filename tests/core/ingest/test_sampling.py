"""Sampling: sizes, determinism, subsets, stratum proportions, rare-row retention and re-weighting."""
from __future__ import annotations

import functools

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.core.entry_schema import CANONICAL_SCHEMA, TS_TYPE
from pipeline.core.ingest.sampling import METHODS, sample_entries, strata

T0_US = 1_717_200_000_000_000


def entries(rows: int, seed: int = 0, rare: int = 0, span_hours: float = 72.0, null_outputs: float = 0.05) -> pa.Table:
    """Canonical entries with varied output lengths, models, statuses, latencies and timestamps; `rare` rows of a rare model."""
    rng = np.random.default_rng(seed)
    cols = {f.name: pa.nulls(rows, f.type) for f in CANONICAL_SCHEMA}
    cols["entry_id"] = pa.array([f"e{i}" for i in range(rows)], pa.string())
    words = np.array(["x" * k for k in range(1000)], dtype=object)
    out = words[rng.lognormal(4.0, 0.8, rows).astype(np.int64).clip(0, 999)]
    out[rng.random(rows) < null_outputs] = None
    cols["output"] = pa.array(out, pa.string())
    cols["output_kind"] = pa.array(np.where(pd_null(out), "null", "text"), pa.string())
    model = np.where(rng.random(rows) < 0.5, "gpt-4o", "claude-3").astype(object)
    model[rng.choice(rows, size=rare, replace=False)] = "rare-model"
    cols["model"] = pa.array(model, pa.string())
    cols["status"] = pa.array(np.where(rng.random(rows) < 0.05, "error", "ok"), pa.string())
    cols["latency_ms"] = pa.array(rng.lognormal(6.5, 0.6, rows))
    ts = T0_US + (rng.random(rows) * span_hours * 3.6e9).astype(np.int64)
    cols["ts"] = pa.array(ts, pa.int64()).cast(TS_TYPE)
    return pa.table(cols, schema=CANONICAL_SCHEMA)


def pd_null(a: np.ndarray) -> np.ndarray:
    return np.array([x is None for x in a], dtype=bool)


tables = st.builds(entries, rows=st.integers(1, 400), seed=st.integers(0, 10_000))


@settings(max_examples=60, deadline=None)
@given(table=tables, n=st.integers(0, 450), seed=st.integers(0, 2**32 - 1), method=st.sampled_from(METHODS))
def test_size_subset_no_duplicates_and_determinism(table, n, seed, method):
    out, info = sample_entries(table, n, method, seed)
    again, info2 = sample_entries(table, n, method, seed)
    assert out.equals(again) and info == info2
    assert out.num_rows == min(n, table.num_rows) == info.rows_out and info.rows_in == table.num_rows
    ids = out.column("entry_id").to_pylist()
    assert len(set(ids)) == len(ids) and set(ids) <= set(table.column("entry_id").to_pylist())
    assert info.sampled == (n < table.num_rows)
    if info.sampled:
        w = out.column("sample_weight").to_numpy()
        assert np.all(w >= 1.0 - 1e-9) and np.all(np.isfinite(w))
        assert out.drop_columns(["sample_weight"]).schema == table.schema
        assert f"of {table.num_rows:,} rows" in info.note and f"seed {seed}" in info.note
    else:
        assert out is table and "sample_weight" not in out.column_names


@settings(max_examples=40, deadline=None)
@given(table=st.builds(entries, rows=st.integers(50, 600), seed=st.integers(0, 10_000)), frac=st.floats(0.02, 0.9),
       seed=st.integers(0, 1000))
def test_stratified_counts_within_one_of_proportional(table, frac, seed):
    n = max(1, int(frac * table.num_rows))
    bins = strata(table)
    nonempty = np.unique(bins)
    sizes = np.bincount(bins, minlength=bins.max() + 1)
    target = n * sizes / table.num_rows
    # "at least one per bin" and "within one of proportional" can only both hold when this many rows suffice
    lowest = np.maximum(1, np.ceil(target[nonempty] - 1 - 1e-9)).sum()
    if n < lowest or n >= table.num_rows:
        return
    out, info = sample_entries(table, n, "stratified", seed)
    ids = np.array([int(x[1:]) for x in out.column("entry_id").to_pylist()])
    got = np.bincount(bins[ids], minlength=bins.max() + 1)
    assert np.all(got[nonempty] >= 1)
    assert np.all(np.abs(got - target) <= 1.0 + 1e-9)
    assert out.column("sample_weight").to_numpy().sum() == pytest.approx(table.num_rows)
    assert f"by output length ({len(nonempty)} bins)" in info.note


@functools.lru_cache(maxsize=None)
def rare_table(data_seed: int) -> pa.Table:
    return entries(10_000, data_seed, rare=10)  # 0.1% of rows


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31), data_seed=st.integers(0, 3))
def test_importance_keeps_every_row_of_a_rare_category(seed, data_seed):
    table = rare_table(data_seed)
    out, info = sample_entries(table, 500, "importance", seed)
    assert out.column("model").to_pylist().count("rare-model") == 10
    assert "kept whole" in info.note


def test_importance_oversamples_latency_outliers():
    table = entries(20_000, 4)
    lat = table.column("latency_ms").to_numpy().copy()
    lat[:20] = 1e6  # twenty pathological latencies
    table = table.set_column(table.schema.get_field_index("latency_ms"), "latency_ms", pa.array(lat))
    out, _ = sample_entries(table, 1000, "importance", 3)
    kept = sum(int(x[1:]) < 20 for x in out.column("entry_id").to_pylist())
    assert kept >= 15  # uniform sampling would keep about one


@pytest.mark.parametrize("method", ["random", "stratified", "importance", "time"])
def test_sample_weight_sums_to_rows_in(method):
    table = entries(20_000, 11, rare=20, span_hours=48.0)  # two half-lives for `time`
    totals = [sample_entries(table, 1000, method, s)[0].column("sample_weight").to_numpy().sum() for s in range(12)]
    assert np.mean(totals) == pytest.approx(20_000, rel=0.05)
    assert all(t == pytest.approx(20_000, rel=0.25) for t in totals)


def test_time_sampling_prefers_recent_rows():
    table = entries(20_000, 5, span_hours=240.0)
    out, info = sample_entries(table, 1000, "time", 1, half_life_hours=12.0)
    ts = table.column("ts").cast(pa.int64()).to_numpy()
    got = out.column("ts").cast(pa.int64()).to_numpy()
    last_day = ts.max() - 24 * 3.6e9
    assert (got >= last_day).mean() > 0.7 > (ts >= last_day).mean()
    assert "half-life 12 h" in info.note


def test_notes_and_errors():
    table = entries(1_000, 2)
    _, info = sample_entries(table, 100, "stratified", 7)
    assert info.note == "stratified sample of 100 of 1,000 rows by output length (%d bins), seed 7" % len(np.unique(strata(table)))
    _, info = sample_entries(table, 100, "random", 7)
    assert info.note == "random sample of 100 of 1,000 rows uniformly at random, seed 7"
    assert info.to_dict() == {"method": "random", "rows_in": 1000, "rows_out": 100, "seed": 7, "sampled": True, "note": info.note}
    _, info = sample_entries(table, 5_000, "importance", 0)
    assert (info.sampled, info.rows_out) == (False, 1000)
    with pytest.raises(ValueError):
        sample_entries(table, 10, "reservoir")
    a, _ = sample_entries(table, 100, "random", 1)
    b, _ = sample_entries(table, 100, "random", 2)
    assert not a.equals(b)
