"""Seasonal, overdispersed request rates: a bucket's count against the mean of past buckets at the same hour of
day (weekdays and weekends apart), with quasi-Poisson dispersion (variance = phi x mean, phi from past Pearson
residuals, at least 1) scored as a negative binomial; a slot with too little history falls back to the EWMA model."""
from __future__ import annotations

import numpy as np

from .rates import request_sigma

SLOTS = 48  # hour of day x (weekday, weekend)
MIN_DAYS = 2  # days of history a slot needs before it is trusted ...
MIN_SLOT_BUCKETS = 4  # ... and never fewer buckets than this (hourly buckets: four days)


def slot_of(starts_seconds: np.ndarray) -> np.ndarray:
    """Hour of day (UTC), plus 24 on Saturdays and Sundays."""
    s = np.asarray(starts_seconds, dtype=np.float64)
    hour = (np.floor(s / 3600) % 24).astype(np.int64)
    day = (np.floor(s / 86400).astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday: 0 = Monday
    return hour + 24 * (day >= 5)


def initial_state() -> dict:
    return {"kind": "seasonal_rate", "n": [0] * SLOTS, "sum": [0.0] * SLOTS, "resid": 0.0, "resid_n": 0}


def exclusive_group_cumsum(values: np.ndarray, groups: np.ndarray, start: np.ndarray) -> np.ndarray:
    """For each position: start[group] plus the sum of `values` at earlier positions of the same group."""
    order = np.argsort(groups, kind="stable")
    g, v = groups[order], values[order]
    csum = np.cumsum(v)
    first = np.r_[True, g[1:] != g[:-1]]
    base = np.maximum.accumulate(np.where(first, np.arange(len(g)), 0))
    before = csum - v - (csum[base] - v[base])
    out = np.empty_like(before)
    out[order] = before + start[g]
    return out


def seasonal_request_scores(starts: np.ndarray, counts: np.ndarray, state: dict | None, min_mean: float = 0.1,
                            bucket_seconds: float | None = None) -> tuple[np.ndarray, np.ndarray, dict]:
    """(sigma, expected, new state) per closed bucket; sigma is NaN where the slot lacks history (the caller's
    EWMA model scores those). Every bucket's expectation uses past buckets only. `bucket_seconds` (default: the
    smallest step between `starts`) sets how many buckets MIN_DAYS of history is."""
    st = state or initial_state()
    if bucket_seconds is None:
        steps = np.diff(np.asarray(starts, dtype=np.float64))
        bucket_seconds = float(steps[steps > 0].min()) if (steps > 0).any() else 300.0
    min_buckets = max(MIN_SLOT_BUCKETS, round(MIN_DAYS * 3600 / bucket_seconds))
    x = np.asarray(counts, dtype=np.float64)
    if x.size == 0:
        return np.empty(0), np.empty(0), st
    slot = slot_of(starts)
    n0, s0 = np.asarray(st["n"], np.float64), np.asarray(st["sum"], np.float64)
    n_prior = exclusive_group_cumsum(np.ones_like(x), slot, n0)
    s_prior = exclusive_group_cumsum(x, slot, s0)
    ready = n_prior >= min_buckets
    mean = np.where(ready, s_prior / np.maximum(n_prior, 1), np.nan)
    mu = np.maximum(np.nan_to_num(mean, nan=min_mean), min_mean)
    resid = np.where(ready, (x - mu) ** 2 / mu, 0.0)  # Pearson residuals, for the dispersion
    r_prior = float(st["resid"]) + np.cumsum(resid) - resid
    k_prior = int(st["resid_n"]) + np.cumsum(ready) - ready
    phi = np.where(k_prior >= min_buckets, r_prior / np.maximum(k_prior, 1), 1.0)
    phi = np.maximum(phi, 1.0)
    sigma = np.where(ready, request_sigma(x, mu, phi * mu, min_mean), np.nan)
    new = {"kind": "seasonal_rate",
           "n": (n0 + np.bincount(slot, minlength=SLOTS)).tolist(),
           "sum": (s0 + np.bincount(slot, weights=x, minlength=SLOTS)).tolist(),
           "resid": float(st["resid"]) + float(resid.sum()), "resid_n": int(st["resid_n"]) + int(ready.sum())}
    return sigma, np.where(ready, mu, np.nan), new
