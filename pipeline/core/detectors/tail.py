"""Tail-aware confirmation of upward point alerts on a heavy-tailed metric (latency). Queueing gives LLM latency a
Pareto-like right tail that is part of normal traffic: a request that waited 5 s in a queue is rare, not an incident.
Each segment keeps the TAIL_K largest values its detectors have seen and how many values it has seen. An upward
point alert stands only when the value is also beyond that segment's own tail, by peaks over threshold (Pickands;
Siffer et al. 2017, "SPOT"): the excesses over the segment's top TAIL_SHARE (in the metric's units, not logs) follow
a generalized Pareto distribution, and the alert stands when the posterior predictive probability of a value at
least this large is below TAIL_P per request (the policy's own false-alarm rate on Gaussian noise).

Why predictive, not plug-in: TAIL_P is far beyond the data (1 in 30,000 from a few thousand values), where the
shape is known only to about +-0.3 from 20-100 peaks. A fitted shape that comes out low makes the tail too thin and
the queue's own waits alert: a plug-in fit (probability-weighted moments) was measured to let through 1.6-9x TAIL_P
on Pareto-like tails. The predictive probability averages the GPD survival over the posterior of (shape, scale)
given the peaks (flat prior on the shape in [0, MAX_SHAPE): from an exponential tail to the heaviest with a finite
mean; scale-invariant prior on the scale), on a fixed grid. Measured on 1,000-5,000 values (docs/detection-quality.md):
0.25-0.9x TAIL_P for shapes up to 0.4, 1.2-1.5x at 0.7; far less for lighter tails (normal, lognormal, exponential),
where the threshold it sets is conservative.

Never filtered: downward alerts, alerts raised by a sustained-shift detector, and segments with fewer than
MIN_TAIL_HISTORY values. Each alert is judged on the values before it, so the same log batched differently keeps the
same alerts. The sample is SPOT's: every value except the alerts that stand (else each spike would make the next look
normal). A value the detectors flag but the tail explains joins it, and alerts raised before the tail is trusted are
held out and judged once it is: withholding every flagged value (each queue wait past ~2x its expected latency) kept
the largest values of the queue tail out of its own sample and fitted it too thin. When the tail is first trusted,
its largest values are screened the same way (`screened`): a spike nothing could judge must not fatten it for good."""
from __future__ import annotations

import math

import numpy as np

TAIL_SUFFIX = "_tail"  # a segment's tail state is kept under the metric's name + this
TAIL_K = 100  # the largest values kept per segment
TAIL_SHARE = 0.02  # the peaks: the largest 2% of the values seen ...
MIN_K = 20  # ... at least this many, at most TAIL_K
MIN_TAIL_HISTORY = 1_000  # values a segment must have seen before its tail is trusted
# An upward point alert stands when a value this large is rarer than this per request: the rate at which the alert
# policy raises upward alerts on Gaussian noise (about 1 in 30,000, tested in test_tail.py), so a heavy-tailed metric
# alerts no more often than one the sigma-equivalent scores are exact for (calibration.py: one threshold, one rate).
TAIL_P = 3e-5
MAX_SHAPE = 1.0  # the shape's prior: uniform on [0, MAX_SHAPE), never lighter than exponential, a finite mean
SHAPES = (np.arange(100) + 0.5) / 100 * MAX_SHAPE  # the shape grid: midpoints of 100 equal cells
LOG_SCALES = np.linspace(-2.5, 2.5, 81)  # the log-scale grid, around the scale each shape gives the peaks' median


def initial_tail() -> dict:
    """{"peaks": {"n": values in the sample, "top": its TAIL_K largest, largest first, "held": alerts raised before
    the tail was trusted, not judged yet, "trusted": whether an alert was judged since}} (nested like a detector
    state)."""
    return {"peaks": {"n": 0, "top": [], "held": [], "trusted": False}}


def top_k(values: np.ndarray, k: int = TAIL_K) -> np.ndarray:
    """The k largest finite values, largest first."""
    v = values[np.isfinite(values)]
    if v.size > k:
        v = np.partition(v, v.size - k)[v.size - k:]
    return np.sort(v)[::-1]


def gpd_posterior(excess: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(shape, scale, weight) over a grid: the posterior of a generalized Pareto distribution given non-negative
    excesses, flat prior on the shape in [0, MAX_SHAPE) and on the log scale. Per shape, the scale grid is centred
    where that shape puts the excesses' median (sigma = median x xi / (2^xi - 1)), in equal log steps."""
    y = np.asarray(excess, dtype=np.float64)
    med = float(np.median(y))
    if not med > 0:
        med = float(y[y > 0].mean())
    xi = SHAPES[:, None]
    scale = med * xi / np.expm1(xi * math.log(2.0)) * np.exp(LOG_SCALES)[None, :]  # shapes x scales
    z = np.log1p((xi / scale)[:, :, None] * y[None, None, :]).sum(axis=2)
    loglik = -y.size * np.log(scale) - (1.0 + 1.0 / xi) * z
    weight = np.exp(loglik - loglik.max())
    return np.broadcast_to(xi, scale.shape), scale, weight / weight.sum()


def exceedance(x: float, peaks: np.ndarray, n: int) -> float:
    """Posterior predictive P(X >= x) per value, from the peaks (the k largest of `n` values, largest first) in the
    metric's units: (k / n) x the GPD survival of x - u above the k-th largest u, averaged over the posterior given
    the excesses of the other peaks; k / n or more at or below u."""
    k = peaks.size
    u = float(peaks[-1])
    if x <= u or k < 2:
        return 1.0
    excess = peaks[:-1] - u
    if not (excess > 0).any():  # all peaks tied: nothing above u was ever seen
        return 0.0
    xi, scale, weight = gpd_posterior(excess)
    survival = np.exp(-np.log1p(xi * (x - u) / scale) / xi)
    return (k / n) * float((weight * survival).sum())


def judged(x: float, top: np.ndarray, n: int, log_offset: float | None) -> bool:
    """True when `x` (on the detectors' scale) stands as an alert against the tail of `top` (the largest of `n`)."""
    k = int(min(TAIL_K, max(MIN_K, math.ceil(TAIL_SHARE * n)), top.size))
    peaks = top[:k]
    if log_offset is not None:
        peaks, x = np.exp(peaks) - log_offset, math.exp(x) - log_offset
    return exceedance(x, peaks, n) < TAIL_P


def screened(top: np.ndarray, n: int, log_offset: float | None) -> tuple[np.ndarray, int]:
    """The sample without its largest values that the rest of it puts beyond TAIL_P, largest first, stopping at the
    first the rest explains: values from before the tail was trusted, which nothing judged (an early spike, scored
    before the detectors had a history, would otherwise make the tail heavy for good)."""
    while top.size > MIN_K and judged(float(top[0]), top[1:], n - 1, log_offset):
        top, n = top[1:], n - 1
    return top, n


def confirm(seen: np.ndarray, hits: np.ndarray, exempt: np.ndarray, tail: dict | None,
            log_offset: float | None = None) -> tuple[np.ndarray, dict]:
    """(which of `hits` stand, the tail state after `seen`). seen: the series the detectors saw, in order (on a log
    scale when log_offset is set: the tail is fitted back in the metric's units); hits: positions of its alerts
    (ascending); exempt: per hit, True when it is never filtered. tail: the state from earlier batches.
    Before the tail is trusted, alerts stand and are held out of the sample. The first alert judged once it is
    trusted first screens the sample (`screened`) and judges the held values: those the tail explains join it, the
    others are dropped. Both happen at a point of the stream, never where a batch ends."""
    tail = tail or initial_tail()
    top, n = np.asarray(tail["peaks"]["top"], dtype=np.float64), int(tail["peaks"]["n"])
    held = list(tail["peaks"].get("held", []))
    trusted = bool(tail["peaks"].get("trusted", n >= MIN_TAIL_HISTORY))  # a state saved before this was trusted
    stand = np.ones(len(hits), dtype=bool)
    start = 0
    for i, h in enumerate(hits):
        chunk = seen[start:h]
        top = top_k(np.concatenate([top, chunk]))
        n += int(np.isfinite(chunk).sum())
        start = h + 1  # an alert that stands never joins the tail it is judged by (as in SPOT) ...
        if exempt[i] or not math.isfinite(seen[h]):
            continue
        if n < MIN_TAIL_HISTORY:
            held = sorted(held + [float(seen[h])])[:TAIL_K]  # ... nor does one raised before the tail is trusted, yet
            continue
        if not trusted:
            top, n = screened(top, n, log_offset)
            explained = np.array([v for v in held if not judged(v, top, n, log_offset)])
            top, n, held, trusted = top_k(np.concatenate([top, explained])), n + explained.size, [], True
        stand[i] = judged(float(seen[h]), top, n, log_offset)
        if not stand[i]:
            start = h  # ... while a value the tail explains joins it: it is part of the tail
    chunk = seen[start:]
    top = top_k(np.concatenate([top, chunk]))
    n += int(np.isfinite(chunk).sum())
    return stand, {"peaks": {"n": n, "top": top.tolist(), "held": held, "trusted": trusted}}
