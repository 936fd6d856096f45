"""Vectorized bootstrap of drift effects and the composite score: each side of a dimension is resampled n_boot times
in one multinomial (binomial) draw over shared bins or labels, and every effect is recomputed for all rows at once."""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .stats import DimensionTest, PooledSamples, cohens_h, js_distance

MAX_BINS = 256


class Bins(NamedTuple):
    """A continuous dimension reduced to counts over at most MAX_BINS quantile bins of the pooled sample (one bin
    per distinct value when there are at most MAX_BINS). Values are in pooled.unit units, centered on A's mean."""
    values: np.ndarray  # representative of each bin: the mean of the pooled values in it
    a_counts: np.ndarray
    b_counts: np.ndarray
    a_mean: np.ndarray  # mean and mean square of A's values in each bin (0 where A has none)
    a_meansq: np.ndarray
    bin_of: np.ndarray  # the bin of each distinct pooled value


def bin_pooled(pooled: PooledSamples, max_bins: int = MAX_BINS) -> Bins:
    """Quantile bins of the pooled sample; ties collapse, so a value never straddles two bins."""
    a_counts, b_counts = pooled.a_counts, pooled.b_counts
    both = a_counts + b_counts
    x = pooled.values / pooled.unit
    x = x - (a_counts @ x) / a_counts.sum()  # centering keeps E[x^2] - E[x]^2 free of cancellation
    if len(x) <= max_bins:
        bin_of = np.arange(len(x))
    else:
        mass_before = np.cumsum(both) - both
        quantile_bin = mass_before * max_bins // both.sum()
        bin_of = np.cumsum(np.r_[0, quantile_bin[1:] != quantile_bin[:-1]])
    starts = np.flatnonzero(np.r_[True, bin_of[1:] != bin_of[:-1]])
    values = x if len(starts) == len(x) else np.add.reduceat(both * x, starts) / np.add.reduceat(both, starts)
    a_bins = np.add.reduceat(a_counts, starts)
    with np.errstate(invalid="ignore", divide="ignore"):
        a_mean = np.nan_to_num(np.add.reduceat(a_counts * x, starts) / a_bins)
        a_meansq = np.nan_to_num(np.add.reduceat(a_counts * x * x, starts) / a_bins)
    return Bins(values, a_bins, np.add.reduceat(b_counts, starts), a_mean, a_meansq, bin_of)


def binned_wasserstein(values: np.ndarray, a_counts: np.ndarray, b_counts: np.ndarray) -> np.ndarray | float:
    """W1 between two samples given as counts over the sorted bin `values`: sum |CDF_a - CDF_b| * bin gap.
    Counts may be (n_boot, k): one distance per row."""
    share_diff = (a_counts[..., :-1] / np.sum(a_counts, axis=-1, keepdims=True)
                  - b_counts[..., :-1] / np.sum(b_counts, axis=-1, keepdims=True))
    return np.abs(np.cumsum(share_diff, axis=-1)) @ np.diff(values)


def resample_continuous(pooled: PooledSamples, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """n_boot normalized Wasserstein distances of resampled A vs resampled B, over A's robust point scale (MAD:
    outliers drawn more or less often in a resample barely move it, so it is held fixed)."""
    bins = bin_pooled(pooled)
    n_a, n_b = int(bins.a_counts.sum()), int(bins.b_counts.sum())
    a_rows = rng.multinomial(n_a, bins.a_counts / n_a, size=n_boot)
    b_rows = rng.multinomial(n_b, bins.b_counts / n_b, size=n_boot)
    return binned_wasserstein(bins.values, a_rows, b_rows) / pooled.scale


def resample_categorical(a_counts: np.ndarray, b_counts: np.ndarray, n_boot: int,
                         rng: np.random.Generator) -> np.ndarray:
    """n_boot Jensen-Shannon distances of multinomial resamples of both count vectors."""
    n_a, n_b = int(a_counts.sum()), int(b_counts.sum())
    a_rows = rng.multinomial(n_a, a_counts / n_a, size=n_boot)
    b_rows = rng.multinomial(n_b, b_counts / n_b, size=n_boot)
    return js_distance(a_rows, b_rows)


def resample_rate(a_counts: np.ndarray, b_counts: np.ndarray, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """n_boot |Cohen's h| of binomial resamples of two [no, yes] count pairs."""
    n_a, n_b = int(a_counts.sum()), int(b_counts.sum())
    yes_a = rng.binomial(n_a, a_counts[1] / n_a, size=n_boot)
    yes_b = rng.binomial(n_b, b_counts[1] / n_b, size=n_boot)
    return cohens_h(yes_a / n_a, yes_b / n_b)


def resample_effects(test: DimensionTest, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """The dimension's effect on n_boot resamples (zeros for an insufficient dimension: nothing to resample)."""
    if test.test == "ks":
        return resample_continuous(test.support, n_boot, rng)
    if test.test == "chi2":
        return resample_categorical(*test.support, n_boot, rng)
    if test.test == "z_prop":
        return resample_rate(*test.support, n_boot, rng)
    return np.zeros(n_boot)


def resample_composite(tests: list[DimensionTest], weights: np.ndarray, saturations: np.ndarray,
                       significant: np.ndarray, n_boot: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(composite per resample, effects per dimension x resample). The gates are fixed at the point estimate:
    only `significant` dimensions score, and the denominator is the weight of every sufficient dimension.
    Each dimension draws from its own child of SeedSequence(seed), so one seed always gives the same rows."""
    effects = np.zeros((len(tests), n_boot))
    for i, (test, rng_seed) in enumerate(zip(tests, np.random.SeedSequence(seed).spawn(len(tests)))):
        if test.test != "insufficient":
            effects[i] = resample_effects(test, n_boot, np.random.default_rng(rng_seed))
    sufficient = np.array([t.test != "insufficient" for t in tests], dtype=bool)
    total = float(np.sum(weights[sufficient])) if len(tests) else 0.0
    if total <= 0:
        return np.zeros(n_boot), effects
    gated = np.where(significant, weights, 0.0)
    scores = np.minimum(1.0, effects / saturations[:, None])
    return np.clip(gated @ scores / total, 0.0, 1.0), effects


def percentile_interval(samples: np.ndarray, level: float, point: float) -> tuple[float, float]:
    """The central `level` percentile interval of `samples`, widened to contain `point`: the point estimate is
    the exact (scipy) value while resamples of a continuous dimension use binned data, so it may sit a hair
    outside; an interval that excludes its own estimate would only confuse."""
    if len(samples) == 0:
        return float(point), float(point)
    tail = (1.0 - level) / 2.0
    lo, hi = np.quantile(samples, [tail, 1.0 - tail])
    return float(min(lo, point)), float(max(hi, point))
