"""Request-rate and error-rate detectors over time buckets. A bucket's count is turned into sigma through its
mid-p tail probability under a Poisson (negative binomial when counts are over-dispersed) or binomial model
whose rate is exponentially weighted over past buckets; per-bucket reference classes plus vectorized twins."""
from __future__ import annotations

import math

import numpy as np
from scipy import stats
from scipy.signal import lfilter

from .base import Scored
from .reference import EWMA
from .vectorized import ewma_prior


def tail_sigma(dist, count) -> np.ndarray:
    """Signed sigma of a count under a discrete distribution, from mid-p tails: the upper tail
    P(X > c) + P(X = c)/2 through norm.isf, the lower tail likewise, whichever is smaller (keeps precision)."""
    half = 0.5 * dist.pmf(count)
    upper = dist.sf(count) + half
    lower = dist.cdf(count - 1) + half
    return np.where(upper < lower, stats.norm.isf(upper), -stats.norm.isf(lower))


def _count_model(mean, var, min_mean: float):
    """Poisson(mean), or a negative binomial with the same mean and the observed (larger) variance."""
    mu = np.maximum(mean, min_mean)
    v = np.maximum(var, mu)
    over = v > mu * (1 + 1e-9)
    r = np.where(over, mu * mu / np.where(over, v - mu, 1.0), 1.0)
    p = np.where(over, mu / v, 1.0)
    return mu, over, r, p


def request_sigma(count, mean, var, min_mean: float) -> np.ndarray:
    mu, over, r, p = _count_model(np.asarray(mean, float), np.asarray(var, float), min_mean)
    count = np.asarray(count, float)
    return np.where(over, tail_sigma(stats.nbinom(r, p), count), tail_sigma(stats.poisson(mu), count))


class RequestRate(EWMA):
    """Requests per bucket against an exponentially weighted mean and variance of past buckets' counts."""

    kind = "request_rate"

    def __init__(self, alpha: float = 0.1, warmup: int = 12, min_mean: float = 0.1):
        super().__init__(alpha=alpha, warmup=warmup)
        self.min_mean = float(min_mean)

    @property
    def params(self) -> dict:
        return {"alpha": self.alpha, "warmup": self.warmup, "min_mean": self.min_mean}

    def score_one(self, count: float) -> float:
        if self.n < self.warmup:
            return math.nan
        return float(request_sigma(count, self.mean, self.var, self.min_mean))


class ErrorRate:
    """Errors among a bucket's requests against a binomial with the exponentially weighted error rate
    p = (E + 0.5) / (N + 1) (E, N: decayed sums of past errors and requests; the 0.5/1 prior keeps p > 0).
    Buckets without requests are skipped; warm-up counts buckets with requests."""

    kind = "error_rate"

    def __init__(self, alpha: float = 0.1, warmup: int = 12):
        self.alpha, self.warmup = float(alpha), int(warmup)
        self.n, self.requests, self.errors = 0, 0.0, 0.0

    @property
    def params(self) -> dict:
        return {"alpha": self.alpha, "warmup": self.warmup}

    @property
    def expected(self) -> float:
        return (self.errors + 0.5) / (self.requests + 1.0)

    def score_one(self, requests: int, errors: int) -> float:
        if requests <= 0 or self.n < self.warmup:
            return math.nan
        return float(tail_sigma(stats.binom(int(requests), self.expected), errors))

    def learn_one(self, requests: int, errors: int) -> None:
        if requests <= 0:
            return
        keep = 1.0 - self.alpha
        self.requests = requests + keep * self.requests  # as lfilter evaluates it
        self.errors = errors + keep * self.errors
        self.n += 1

    def update(self, requests: int, errors: int) -> float:
        score = self.score_one(requests, errors)
        self.learn_one(requests, errors)
        return score

    def state(self) -> dict:
        return {"kind": self.kind, "params": self.params, "n": self.n, "requests": self.requests,
                "errors": self.errors}

    @classmethod
    def from_state(cls, state: dict) -> ErrorRate:
        det = cls(**state["params"])
        det.n, det.requests, det.errors = int(state["n"]), float(state["requests"]), float(state["errors"])
        return det


def request_rate_scores(counts: np.ndarray, state: dict) -> Scored:
    """Vectorized RequestRate over a series of bucket counts."""
    x = np.asarray(counts, dtype=np.float64)
    prior_mean, prior_var, n_prior, new = ewma_prior(x, state)
    scores = request_sigma(x, prior_mean, prior_var, state["params"]["min_mean"]) if x.size else np.empty(0)
    scores = np.where(n_prior < state["params"]["warmup"], np.nan, scores)
    return Scored(scores, np.where(n_prior > 0, prior_mean, np.nan), new)


def error_rate_scores(requests: np.ndarray, errors: np.ndarray, state: dict) -> Scored:
    """Vectorized ErrorRate: decayed sums by lfilter over the buckets that had requests."""
    req, err = np.asarray(requests, np.float64), np.asarray(errors, np.float64)
    has = req > 0
    keep = 1.0 - state["params"]["alpha"]
    r_v, e_v = req[has], err[has]
    n0, r0, e0 = int(state["n"]), float(state["requests"]), float(state["errors"])
    sum_r = lfilter([1.0], [1.0, -keep], r_v, zi=[keep * r0])[0] if r_v.size else np.empty(0)
    sum_e = lfilter([1.0], [1.0, -keep], e_v, zi=[keep * e0])[0] if e_v.size else np.empty(0)
    prior_r, prior_e = np.concatenate(([r0], sum_r[:-1])), np.concatenate(([e0], sum_e[:-1]))
    p = (prior_e + 0.5) / (prior_r + 1.0)
    scores_v = tail_sigma(stats.binom(r_v.astype(np.int64), p), e_v) if r_v.size else np.empty(0)
    scores_v = np.where(n0 + np.arange(r_v.size) < state["params"]["warmup"], np.nan, scores_v)
    scores, expected = np.full(req.size, np.nan), np.full(req.size, np.nan)
    scores[has], expected[has] = scores_v, p
    new = {**state, "n": n0 + int(r_v.size), "requests": float(sum_r[-1]) if r_v.size else r0,
           "errors": float(sum_e[-1]) if e_v.size else e0}
    return Scored(scores, expected, new)


def bucketize(ts_seconds: np.ndarray, is_error: np.ndarray, bucket_seconds: float, open_bucket: dict | None = None,
              max_gap: int = 10_000) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict | None]:
    """Closed buckets (start seconds, requests, errors) for time-ordered events, with empty buckets in between
    (at most `max_gap` per gap); the last bucket stays open, returned as state, and is closed by a later event."""
    ts = np.asarray(ts_seconds, dtype=np.float64)
    err = np.asarray(is_error, dtype=bool)
    idx = np.floor(ts / bucket_seconds).astype(np.int64)
    if open_bucket is not None:
        idx = np.maximum(idx, int(open_bucket["index"]))  # late events count in the open bucket
        idx = np.concatenate(([int(open_bucket["index"])], idx))
        w_req = np.concatenate(([open_bucket["requests"]], np.ones(ts.size)))
        w_err = np.concatenate(([open_bucket["errors"]], err.astype(float)))
    else:
        w_req, w_err = np.ones(ts.size), err.astype(float)
    if idx.size == 0:
        return np.empty(0), np.empty(0), np.empty(0), None
    ids, inverse = np.unique(idx, return_inverse=True)
    req = np.bincount(inverse, weights=w_req, minlength=ids.size)
    errs = np.bincount(inverse, weights=w_err, minlength=ids.size)
    gaps = np.minimum(np.diff(ids) - 1, max_gap)
    # each bucket followed by its (capped) run of empty buckets
    reps = np.concatenate((gaps + 1, [1]))
    first = np.repeat(np.arange(ids.size), reps)
    offset = np.arange(first.size) - np.repeat(np.cumsum(reps) - reps, reps)
    all_ids = ids[first] + offset
    all_req = np.where(offset == 0, req[first], 0.0)
    all_err = np.where(offset == 0, errs[first], 0.0)
    open_new = {"index": int(all_ids[-1]), "requests": float(all_req[-1]), "errors": float(all_err[-1])}
    return all_ids[:-1] * float(bucket_seconds), all_req[:-1], all_err[:-1], open_new
