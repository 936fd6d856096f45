"""Sigma-equivalent scores. A detector whose spread comes from few points (a 64-point window, an EWMA, a z-score
early in its life) gives Student-t-like scores: its "3" is several times likelier than a normal 3. The ensemble maps
each raw score to the normal quantile with the same tail probability, so one threshold means one false-alarm rate
for every detector. CUSUM scores are not t-ratios and pass through unchanged."""
from __future__ import annotations

import math

import numpy as np

# Asymptotic efficiency of MAD and of the IQR as estimators of a normal sigma (both about 37% of the sample std's):
# a 64-point window's scale is as certain as a sample std from about 24 points.
ROBUST_SCALE_EFFICIENCY = 0.37
# Variance of the centre in units of sigma^2 / m: mean 1, median pi/2, midhinge (q25 + q75) / 2 about 1.24.
CENTRE_VARIANCE = {"zscore": 1.0, "mad": math.pi / 2, "iqr": 1.24}


def sigma_equivalent(t: np.ndarray, dof: np.ndarray | float) -> np.ndarray:
    """The normal quantile with the tail probability of Student's t with `dof` degrees of freedom at t (sign kept),
    by Wallace's (1959) approximation: z = (8v + 1) / (8v + 3) * sqrt(v * log(1 + t^2 / v)); for v >= 10 and
    |t| <= 20 within 0.7% of scipy's exact norm.isf(t.sf(t, v)) (0.04 sigma at most), never above |t|.
    NaN stays NaN."""
    t = np.asarray(t, dtype=np.float64)
    v = np.maximum(np.asarray(dof, dtype=np.float64), 1.0)
    with np.errstate(invalid="ignore", over="ignore"):
        z = np.log1p(t * t / v)
        z *= v
        np.sqrt(z, out=z)
        z *= (8.0 * v + 1.0) / (8.0 * v + 3.0)
    return np.copysign(z, t, out=z)


def seen_before(values: np.ndarray, n0: int) -> np.ndarray:
    """How many finite points a detector (which had learned n0) has learned before each point."""
    finite = np.isfinite(values)
    return n0 + np.cumsum(finite) - finite


def calibration(state: dict, seen: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(degrees of freedom, predictive spread factor) of a detector's score before each point, or None when its
    score is not a t-ratio (CUSUM). The factor sqrt(1 + var(centre) / sigma^2) accounts for the centre's own error."""
    kind, p = state["kind"], state["params"]
    if kind == "zscore":
        m = np.maximum(seen, 2.0)
        return m - 1.0, np.sqrt(1.0 + 1.0 / m)
    if kind == "ewma":  # an EWMA of weight a averages about (2 - a) / a points, in its level and its variance
        m = np.clip(seen, 2.0, (2.0 - p["alpha"]) / p["alpha"])
        return m - 1.0, np.sqrt(1.0 + 1.0 / m)
    if kind in ("mad", "iqr"):
        m = np.clip(seen, 2.0, p["window"])
        return ROBUST_SCALE_EFFICIENCY * m, np.sqrt(1.0 + CENTRE_VARIANCE[kind] / m)
    return None


def calibrate_scores(scores: np.ndarray, values: np.ndarray, state: dict) -> np.ndarray:
    """One detector's raw scores over `values` (run from `state`, the state before them) in sigma-equivalent units."""
    cal = calibration(state, seen_before(values, int(state.get("n", 0))).astype(np.float64))
    if cal is None:
        return scores
    dof, factor = cal
    return sigma_equivalent(scores / factor, dof)
