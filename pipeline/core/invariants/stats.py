"""Small statistics shared by miners and the evaluator: intervals, effect sizes and bound-to-confidence rules."""
from __future__ import annotations

import math

import numpy as np

Z_DEFAULT = 3.0  # interval width for "is this sample consistent with the bound": ~99.7% two-sided


def wilson_interval(hits: int, n: int, z: float = Z_DEFAULT) -> tuple[float, float]:
    """Wilson score interval for a binomial share; (0, 1) when there is no data."""
    if n <= 0:
        return 0.0, 1.0
    p = hits / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def share_confidence(hits: int, n: int, lo: float | None, hi: float | None, z: float = Z_DEFAULT) -> float:
    """1.0 when the share is statistically consistent with [lo, hi]; otherwise the smaller of the share ratio
    and the complement ratio at the interval end nearest the bound, so a rare event tripling and a common one
    shrinking both read as large drops."""
    if n <= 0:
        return 1.0
    p_lo, p_hi = wilson_interval(hits, n, z)
    if hi is not None and p_lo > hi:
        return _clamp(min(_ratio(hi, p_lo), _ratio(1 - p_lo, 1 - hi)))
    if lo is not None and p_hi < lo:
        return _clamp(min(_ratio(p_hi, lo), _ratio(1 - lo, 1 - p_hi)))
    return 1.0


def ratio_confidence(value_near: float, bound: float, at_least: bool) -> float:
    """value/bound for "value >= bound" checks, bound/value for "value <= bound", capped at 1; `value_near` is
    the end of the value's interval nearest the bound, so sampling noise alone never lowers confidence."""
    if not math.isfinite(value_near):
        return 1.0
    if at_least:
        return _clamp(_ratio(value_near, bound))
    return _clamp(_ratio(bound, value_near))


def mean_interval(values: np.ndarray, z: float = Z_DEFAULT) -> tuple[float, float, float]:
    n = len(values)
    if n == 0:
        return math.nan, math.nan, math.nan
    mean = float(np.mean(values))
    half = z * float(np.std(values, ddof=1)) / math.sqrt(n) if n > 1 else 0.0
    return mean, mean - half, mean + half


def quantile_interval(values: np.ndarray, q: float, z: float = Z_DEFAULT) -> tuple[float, float, float]:
    """Distribution-free interval for a quantile from order statistics (binomial ranks)."""
    n = len(values)
    if n == 0:
        return math.nan, math.nan, math.nan
    s = np.sort(values)
    half = z * math.sqrt(n * q * (1 - q))
    k_lo = int(max(0, math.floor(n * q - half)))
    k_hi = int(min(n - 1, math.ceil(n * q + half)))
    return float(np.quantile(s, q)), float(s[k_lo]), float(s[k_hi])


def fisher_interval(rho: float, n: int, z: float = Z_DEFAULT) -> tuple[float, float]:
    """Confidence interval of a (Spearman) correlation through Fisher's z transform."""
    if n <= 3 or not math.isfinite(rho):
        return -1.0, 1.0
    r = min(max(rho, -0.999999), 0.999999)
    centre = math.atanh(r)
    half = z * 1.06 / math.sqrt(n - 3)  # Spearman's variance is ~1.06x Pearson's
    return math.tanh(centre - half), math.tanh(centre + half)


def cliffs_delta_from_u(u: float, n1: int, n2: int) -> float:
    """Cliff's delta from the Mann-Whitney U of the first sample: P(X>Y) - P(X<Y)."""
    return 2.0 * u / (n1 * n2) - 1.0 if n1 and n2 else 0.0


def cramers_v(table: np.ndarray) -> tuple[float, float]:
    """(Cramér's V, chi-square p-value) for a contingency table; rows or columns with no counts are dropped."""
    from scipy.stats import chi2_contingency

    t = np.asarray(table, dtype=float)
    t = t[t.sum(axis=1) > 0][:, t.sum(axis=0) > 0]
    if t.shape[0] < 2 or t.shape[1] < 2:
        return 0.0, 1.0
    chi2, p, _dof, _exp = chi2_contingency(t, correction=False)
    k = min(t.shape) - 1
    return float(math.sqrt(chi2 / (t.sum() * k))), float(p)


def _ratio(a: float, b: float) -> float:
    if b <= 0:
        return 1.0 if a <= 0 else 0.0
    return a / b


def _clamp(x: float) -> float:
    return float(min(1.0, max(0.0, x)))
