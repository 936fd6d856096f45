"""Tail-aware confirmation of upward point alerts on a heavy-tailed metric (latency). Queueing gives LLM latency a
Pareto-like right tail that is part of normal traffic: a request that waited 5 s in a queue is rare, not an incident.
Each segment keeps the TAIL_K largest values its detectors have seen and how many values it has seen. An upward
point alert stands only when the value is also beyond that segment's own tail, by peaks over threshold (Pickands;
Siffer et al. 2017, "SPOT"): the excesses over the segment's top TAIL_SHARE (in the metric's units, not logs) are
fitted with a generalized Pareto distribution by probability-weighted moments (Hosking & Wallis 1987), and the alert
stands when a value at least this large is estimated rarer than TAIL_P per request. Never filtered: downward alerts,
alerts raised by a sustained-shift detector, and segments with fewer than MIN_TAIL_HISTORY values. Each alert is
judged on the values before it, so the same log batched differently keeps the same alerts; as in SPOT, a point
the detectors alert on never joins the tail sample (else each spike would make the next look normal)."""
from __future__ import annotations

import math

import numpy as np

TAIL_SUFFIX = "_tail"  # a segment's tail state is kept under the metric's name + this
TAIL_K = 100  # the largest values kept per segment
TAIL_SHARE = 0.02  # the peaks: the largest 2% of the values seen ...
MIN_K = 20  # ... at least this many, at most TAIL_K
MIN_TAIL_HISTORY = 1_000  # values a segment must have seen before its tail is trusted
TAIL_P = 1e-4  # an upward point alert stands when a value this large is rarer than 1 in 10,000 requests (the goal rate)
MAX_SHAPE = 0.5  # the fitted tail is never heavier than this (a variance must exist); never lighter than exponential


def initial_tail() -> dict:
    """{"peaks": {"n": values seen, "top": the TAIL_K largest, largest first}} (nested like a detector state)."""
    return {"peaks": {"n": 0, "top": []}}


def top_k(values: np.ndarray, k: int = TAIL_K) -> np.ndarray:
    """The k largest finite values, largest first."""
    v = values[np.isfinite(values)]
    if v.size > k:
        v = np.partition(v, v.size - k)[v.size - k:]
    return np.sort(v)[::-1]


def gpd_fit(excess: np.ndarray) -> tuple[float, float]:
    """(shape xi, scale sigma) of a generalized Pareto distribution fitted to positive excesses by probability-weighted
    moments; xi clipped to [0, MAX_SHAPE] (sigma refitted from the mean for the clipped xi)."""
    y = np.sort(excess)
    k = y.size
    a0 = float(y.mean())
    a1 = float(np.mean(y * (k - 1 - np.arange(k)) / max(k - 1, 1)))  # E[Y (1 - F(Y))]
    d = a0 - 2.0 * a1
    xi = 2.0 - a0 / d if d > 0 else MAX_SHAPE
    xi = min(max(xi, 0.0), MAX_SHAPE)
    return xi, a0 * (1.0 - xi)  # mean of a GPD excess: sigma / (1 - xi)


def exceedance(x: float, peaks: np.ndarray, n: int) -> float:
    """Estimated P(X >= x) per value, from the peaks (the k largest of `n` values, largest first) in the metric's
    units: (k / n) * GPD survival of x - u above the k-th largest u; k / n or more at or below u."""
    k = peaks.size
    u = float(peaks[-1])
    if x <= u or k < 2:
        return 1.0
    xi, sigma = gpd_fit(peaks[:-1] - u)
    if sigma <= 0:
        return 0.0
    z = (x - u) / sigma
    survival = math.exp(-z) if xi < 1e-9 else (1.0 + xi * z) ** (-1.0 / xi)
    return (k / n) * survival


def confirm(seen: np.ndarray, hits: np.ndarray, exempt: np.ndarray, tail: dict | None,
            log_offset: float | None = None) -> tuple[np.ndarray, dict]:
    """(which of `hits` stand, the tail state after `seen`). seen: the series the detectors saw, in order (on a log
    scale when log_offset is set: the tail is fitted back in the metric's units); hits: positions of its alerts
    (ascending); exempt: per hit, True when it is never filtered. tail: the state from earlier batches."""
    tail = tail or initial_tail()
    top, n = np.asarray(tail["peaks"]["top"], dtype=np.float64), int(tail["peaks"]["n"])
    stand = np.ones(len(hits), dtype=bool)
    start = 0
    for i, h in enumerate(hits):
        chunk = seen[start:h]
        top = top_k(np.concatenate([top, chunk]))
        n += int(np.isfinite(chunk).sum())
        start = h + 1  # an alerting point never joins the tail it is judged by (as in SPOT)
        if exempt[i] or n < MIN_TAIL_HISTORY or not math.isfinite(seen[h]):
            continue
        k = int(min(TAIL_K, max(MIN_K, math.ceil(TAIL_SHARE * n)), top.size))
        peaks, x = top[:k], float(seen[h])
        if log_offset is not None:
            peaks, x = np.exp(peaks) - log_offset, math.exp(x) - log_offset
        stand[i] = exceedance(x, peaks, n) < TAIL_P
    chunk = seen[start:]
    top = top_k(np.concatenate([top, chunk]))
    n += int(np.isfinite(chunk).sum())
    return stand, {"peaks": {"n": n, "top": top.tolist()}}
