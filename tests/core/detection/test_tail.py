"""tail.py: the peaks-over-threshold confirmation of upward latency alerts (GPD fit, exceedance, batching, SPOT's
exclusion of alerting points) and its effect in detect_anomalies on a heavy queue tail."""
from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
from hypothesis import given, settings, strategies as st

from pipeline.core.detectors import detect_anomalies
from pipeline.core.detectors.tail import MAX_SHAPE, confirm, exceedance, gpd_fit, initial_tail, top_k


def gpd_sample(rng, xi, sigma, n):
    u = rng.random(n)
    return sigma * np.log1p(-u) * -1 if xi == 0 else sigma / xi * ((1 - u) ** -xi - 1)


def test_gpd_fit_recovers_shape_and_scale():
    rng = np.random.default_rng(1)
    for xi, sigma in ((0.0, 2.0), (0.3, 1.0), (0.45, 5.0)):
        fx, fs = gpd_fit(gpd_sample(rng, xi, sigma, 20_000))
        assert abs(fx - xi) < 0.05 and abs(fs / sigma - 1) < 0.08, (xi, sigma, fx, fs)


def test_gpd_fit_clips_the_shape():
    rng = np.random.default_rng(2)
    assert gpd_fit(gpd_sample(rng, 0.9, 1.0, 5_000))[0] == MAX_SHAPE
    assert gpd_fit(np.linspace(0.01, 1.0, 500))[0] == 0.0  # a bounded (uniform) excess: never lighter than exponential


def test_exceedance_matches_the_exponential_tail():
    peaks = np.array([13.0, 12.0, 11.0, 10.0])  # excesses 3, 2, 1 over u = 10
    xi, sigma = gpd_fit(peaks[:-1] - 10.0)
    p = exceedance(20.0, peaks, 400)
    ref = 4 / 400 * (math.exp(-10 / sigma) if xi < 1e-9 else (1 + xi * 10 / sigma) ** (-1 / xi))
    assert p == ref
    assert exceedance(9.0, peaks, 400) == 1.0


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-50, 50, allow_nan=False), min_size=0, max_size=300), st.integers(1, 120))
def test_top_k_is_the_sorted_largest(values, k):
    v = np.array(values, dtype=float)
    assert top_k(v, k).tolist() == sorted(values, reverse=True)[:k]


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 4))
def test_batching_never_changes_the_verdicts(seed, parts):
    rng = np.random.default_rng(seed)
    x = np.log1p(rng.lognormal(3, 0.2, 3_000) + np.where(rng.random(3_000) < 0.03, rng.pareto(2.5, 3_000) * 20, 0))
    hits = np.sort(rng.choice(np.arange(1_000, 3_000), 15, replace=False))
    exempt = rng.random(15) < 0.2
    whole, state = confirm(x, hits, exempt, None, 1.0)
    cuts = np.sort(rng.choice(np.arange(1, 3_000), parts - 1, replace=False)) if parts > 1 else np.empty(0, int)
    got, tail, lo = [], initial_tail(), 0
    for hi in [*cuts.tolist(), 3_000]:
        sel = (hits >= lo) & (hits < hi)
        stand, tail = confirm(x[lo:hi], hits[sel] - lo, exempt[sel], tail, 1.0)
        got += stand.tolist()
        lo = hi
    assert got == whole.tolist() and tail == state
    assert whole[exempt].all()  # exempt alerts always stand


def test_alerting_points_never_join_the_tail():
    x = np.r_[np.zeros(1_500), 100.0, np.zeros(10)]
    _, state = confirm(x, np.array([1_500]), np.array([False]), None)
    assert max(state["peaks"]["top"]) == 0.0 and state["peaks"]["n"] == 1_510


def entries(latency, tokens, t0=1_772_409_600):
    n = latency.size
    return pa.table({"ts": pa.array(((t0 + np.arange(n) * 30.0) * 1e6).astype(np.int64)).cast(pa.timestamp("us", tz="UTC")),
                     "entry_id": [f"e{i}" for i in range(n)], "service": ["s"] * n, "model": ["m"] * n,
                     "version": ["v"] * n, "latency_ms": latency, "completion_tokens": tokens.astype(np.int64)})


def test_queue_tail_quiet_and_spikes_found():
    """detect_anomalies with the tail rule on (the default for latency): x20 spikes on requests whose latency has a
    Pareto queue tail are still found."""
    rng = np.random.default_rng(7)
    n = 8_000
    tokens = rng.integers(12, 24, n)
    latency = rng.lognormal(np.log(350), 0.25, n) + tokens * 18 + np.where(rng.random(n) < 0.03,
                                                                           rng.pareto(2.5, n) * 400, 0.0)
    spikes = np.array([5_000, 6_000, 7_000])
    latency[spikes] *= 20
    found, _ = detect_anomalies(entries(latency, tokens), rates=False)
    lat = found.filter(pa.compute.equal(found.column("metric"), "latency_ms"))
    ids = set(lat.column("entry_id").to_pylist())
    assert {f"e{i}" for i in spikes} <= ids


def test_tail_explains_queue_waits_not_spikes():
    """On a Pareto queue tail (3% of requests wait), a wait at the tail's own 99.9th percentile does not stand once
    the segment has seen 5,000 requests; a x20 value does; before MIN_TAIL_HISTORY values everything stands."""
    rng = np.random.default_rng(3)
    base = rng.lognormal(np.log(700), 0.1, 6_000)
    lat = base + np.where(rng.random(6_000) < 0.03, rng.pareto(2.5, 6_000) * 400, 0.0)
    wait = float(np.quantile(lat[:5_000], 0.999))
    x = np.log1p(np.r_[lat[:5_000], wait, 20 * 700.0, lat[5_000:]])
    stand, _ = confirm(x, np.array([5_000, 5_001]), np.array([False, False]), None, 1.0)
    assert stand.tolist() == [False, True]
    early, _ = confirm(x[:500], np.array([100]), np.array([False]), None, 1.0)
    assert early.tolist() == [True]
