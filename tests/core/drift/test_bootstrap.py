"""The vectorized bootstrap recomputes each resample's effect exactly as scipy would on the expanded resample, and the
composite score's interval behaves: deterministic per seed, contains the estimate, excludes 0 on planted drift."""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from scipy.spatial.distance import jensenshannon

from pipeline.core.drift.bootstrap import (
    binned_wasserstein, bin_pooled, percentile_interval, resample_categorical, resample_continuous, resample_rate,
)
from pipeline.core.drift.model import Dimension
from pipeline.core.drift.scoring import score_dimensions
from pipeline.core.drift.stats import pool_samples


def _close(x, y, rtol=1e-9, atol=1e-12):
    return np.allclose(x, y, rtol=rtol, atol=atol)


@settings(max_examples=50, deadline=None, derandomize=True)
@given(st.lists(st.integers(-50, 50), min_size=5, max_size=60), st.lists(st.integers(-50, 50), min_size=5, max_size=60))
def test_binned_wasserstein_equals_scipy_when_every_value_has_its_bin(a, b):
    a, b = np.array(a, dtype=float), np.array(b, dtype=float)
    pooled = pool_samples(a, b)
    assert _close(binned_wasserstein(pooled.values, pooled.a_counts, pooled.b_counts),
                  stats.wasserstein_distance(a, b))


def test_continuous_resamples_equal_scipy_per_row():
    """Each row's effect equals scipy's W1 on that row's expanded resample over A's fixed robust scale (MAD)."""
    rng = np.random.default_rng(5)
    a, b = rng.integers(0, 40, 300).astype(float), rng.integers(5, 45, 250).astype(float)
    pooled = pool_samples(a, b)
    n_boot = 40
    got = resample_continuous(pooled, n_boot, np.random.default_rng(9))
    bins, replay = bin_pooled(pooled), np.random.default_rng(9)
    a_rows = replay.multinomial(len(a), bins.a_counts / len(a), size=n_boot)
    b_rows = replay.multinomial(len(b), bins.b_counts / len(b), size=n_boot)
    for i in range(n_boot):
        ra, rb = np.repeat(pooled.values, a_rows[i]), np.repeat(pooled.values, b_rows[i])
        scale = stats.median_abs_deviation(a, scale="normal")
        assert _close(got[i], stats.wasserstein_distance(ra, rb) / scale, rtol=1e-7)


def test_categorical_and_rate_resamples_equal_scipy_per_row():
    a_counts, b_counts = np.array([50, 30, 20]), np.array([20, 30, 50])
    got = resample_categorical(a_counts, b_counts, 30, np.random.default_rng(2))
    replay = np.random.default_rng(2)
    a_rows = replay.multinomial(100, a_counts / 100, size=30)
    b_rows = replay.multinomial(100, b_counts / 100, size=30)
    assert _close(got, [jensenshannon(x, y, base=2) for x, y in zip(a_rows, b_rows)])

    rate = resample_rate(np.array([90, 10]), np.array([70, 30]), 30, np.random.default_rng(4))
    replay = np.random.default_rng(4)
    ya, yb = replay.binomial(100, 0.1, size=30), replay.binomial(100, 0.3, size=30)
    assert _close(rate, np.abs(2 * np.arcsin(np.sqrt(yb / 100)) - 2 * np.arcsin(np.sqrt(ya / 100))))


def test_binning_above_256_values_stays_close_to_exact():
    rng = np.random.default_rng(8)
    a, b = rng.lognormal(0, 1, 20_000), rng.lognormal(0.2, 1, 20_000)
    pooled = pool_samples(a, b)
    bins = bin_pooled(pooled)
    assert len(bins.values) <= 256
    exact = stats.wasserstein_distance(a, b) / pooled.unit
    assert abs(binned_wasserstein(bins.values, bins.a_counts, bins.b_counts) - exact) / exact < 0.02


def _dims(rng, shift=0.0, n=2000):
    return [
        Dimension("latency_ms", "continuous", "latency", a=rng.lognormal(6, 0.5, n), b=rng.lognormal(6 + shift, 0.5, n)),
        Dimension("error_rate", "rate", "errors", labels=["no", "yes"], a_counts=np.array([n - 100, 100]),
                  b_counts=np.array([n - 100 - int(shift * 1000), 100 + int(shift * 1000)])),
        Dimension("model", "categorical", "model", labels=["x", "y"], a_counts=np.array([n // 2, n // 2]),
                  b_counts=np.array([n // 2, n // 2])),
    ]


def test_composite_interval_is_deterministic_contains_the_score_and_excludes_zero_on_drift():
    drifted = score_dimensions(_dims(np.random.default_rng(1), shift=0.3), n_boot=1000, seed=3)
    again = score_dimensions(_dims(np.random.default_rng(1), shift=0.3), n_boot=1000, seed=3)
    assert drifted.ci == again.ci
    lo, hi = drifted.ci
    assert 0 < lo <= drifted.score <= hi <= 1
    assert {d.name for d in drifted.dimensions if d.significant} == {"latency_ms", "error_rate"}

    same = score_dimensions(_dims(np.random.default_rng(2), shift=0.0), n_boot=1000, seed=3)
    assert same.score == 0.0 and same.ci[0] == 0.0


def test_practical_floor_keeps_trivial_differences_out_of_huge_samples():
    rng = np.random.default_rng(6)
    n = 400_000
    dims = [Dimension("latency_ms", "continuous", "latency", a=rng.normal(1000, 100, n), b=rng.normal(1003, 100, n))]
    result = score_dimensions(dims, n_boot=0)
    (d,) = result.dimensions
    assert d.p_adjusted < 1e-6 and d.effect < 0.1  # statistically significant, practically trivial
    assert not d.significant and result.score == 0.0 and result.ci == (0.0, 0.0)


def test_percentile_interval_widens_to_hold_its_point():
    lo, hi = percentile_interval(np.linspace(0.2, 0.4, 101), 0.9, 0.5)
    assert _close(lo, 0.21) and hi == 0.5
    assert percentile_interval(np.array([]), 0.95, 0.3) == (0.3, 0.3)
