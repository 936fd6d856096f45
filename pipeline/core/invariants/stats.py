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


def quantile_se(values: np.ndarray, q: float) -> float:
    """Standard error of a quantile from its one-sigma order-statistic interval (0 for fewer than 2 values)."""
    if len(values) < 2:
        return 0.0
    _, lo, hi = quantile_interval(values, q, 1.0)
    return max(0.0, (hi - lo) / 2.0)


GATE_Z = 3.0  # a ceiling is exceeded "with confidence" when the excess is at least this many standard errors
GATE_MIN_EFFECT = 0.10  # ... and violated only when it is also at least this large relative to the bound


def ceiling_gate(value: float, bound: float, se_now: float, se_then: float = 0.0, z: float = GATE_Z,
                 min_effect: float = GATE_MIN_EFFECT) -> tuple[str, float]:
    """(verdict, z-score) of a statistic against its ceiling, counting the sampling error of both the current
    statistic and the baseline bound: "violated" when the interval of the excess lies above zero at `z` and the
    excess is at least `min_effect` of the bound, "degraded" when it lies above zero but is smaller, else "holds"."""
    if not (math.isfinite(value) and math.isfinite(bound)):
        return "holds", 0.0
    excess = value - bound
    se = math.hypot(se_now, se_then)
    score = excess / se if se > 0 else (math.inf if excess > 0 else 0.0)
    if score < z or excess <= 0:
        return "holds", float(score)
    big = excess >= min_effect * abs(bound) if bound != 0 else True
    return ("violated" if big else "degraded"), float(score)


def two_proportion_z(k1: int, n1: int, k2: int, n2: int) -> float:
    """Pooled two-proportion z statistic, positive when the second share is higher; 0 without data."""
    if n1 <= 0 or n2 <= 0:
        return 0.0
    p = (k1 + k2) / (n1 + n2)
    se = math.sqrt(p * (1 - p) * (1 / n1 + 1 / n2))
    diff = k2 / n2 - k1 / n1
    return diff / se if se > 0 else (math.inf if diff > 0 else -math.inf if diff < 0 else 0.0)


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
