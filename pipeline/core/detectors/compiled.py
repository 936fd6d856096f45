"""Compiled kernels (numba, the optional `fast` extra) for the two detector parts numpy does worst: the window order
statistics of window.py, as one sorted window slid along the series (the oldest point swapped for the new one in
place) with the MAD found by a binary search over the two sorted runs of deviations — same formulas and summation
order, so bit-identical; and the CUSUM path with reset on alarm, as the reference's own recursion."""
from __future__ import annotations

import numpy as np

try:
    from numba import njit
except ImportError:  # numba is optional: window.py falls back to numpy
    njit = None


def _stats(s, c, do_mad, do_q, k, med_out, meanad_out, mad_out, q25_out, q75_out):
    lo, hi = (c - 1) // 2, c // 2
    med = (s[lo] + s[hi]) / 2
    med_out[k] = med
    degenerate = False
    if do_mad:
        mad = window_mad(s, c, med)
        mad_out[k] = mad
        degenerate = degenerate or mad == 0
    if do_q:
        q25_out[k] = quantile(s, c, 0.25)
        q75_out[k] = quantile(s, c, 0.75)
        degenerate = degenerate or q25_out[k] == q75_out[k]
    if degenerate:
        meanad_out[k] = mean_abs_dev(s, c, med)


def window_mad(s, c, med):
    """Median of |s - med| over the sorted s[:c]: the deviations are two ascending runs, A_t = med - s[h-1-t]
    and B_t = s[h+t] - med (h = c // 2); one binary search finds the lower middle one, the upper is next."""
    h = c >> 1
    n_a, n_b = h, c - h
    k = (c - 1) >> 1
    lo_i, hi_i = max(0, k + 1 - n_b), min(k + 1, n_a)
    while lo_i < hi_i:
        i = (lo_i + hi_i) >> 1
        if med - s[h - 1 - i] < s[h + k - i] - med:
            lo_i = i + 1
        else:
            hi_i = i
    i = lo_i  # the k + 1 smallest deviations: i from A, k + 1 - i from B
    last_a = med - s[h - i] if i > 0 else -np.inf
    last_b = s[h + k - i] - med if i <= k else -np.inf
    lower = max(last_a, last_b)
    if c & 1:
        return lower
    next_a = med - s[h - 1 - i] if i < n_a else np.inf
    next_b = s[h + k + 1 - i] - med if k + 1 - i < n_b else np.inf
    return (lower + min(next_a, next_b)) / 2


def mean_abs_dev(s, c, med):
    """Mean absolute deviation from med over s[:c], summed in sorted order (as window.py does)."""
    total = 0.0
    for j in range(c):
        total += abs(s[j] - med)
    return total / c


def quantile(s, c, p):
    pos = (c - 1) * p
    i = int(np.floor(pos))
    frac = pos - i
    x0, x1 = s[i], s[min(i + 1, c - 1)]
    return x0 + frac * (x1 - x0) if frac > 0 else x0


def _insert(s, c, x):
    j = c  # shift the larger values up one place, from the top
    while j > 0 and s[j - 1] > x:
        s[j] = s[j - 1]
        j -= 1
    s[j] = x


def _replace(s, c, x_out, x_in):
    """Swap x_out (in the window) for x_in, keeping s[:c] sorted: only the values between the two move."""
    lo, hi = 0, c
    while lo < hi:  # an index holding x_out
        mid = (lo + hi) // 2
        if s[mid] < x_out:
            lo = mid + 1
        else:
            hi = mid
    j = lo
    while j + 1 < c and s[j + 1] < x_in:
        s[j] = s[j + 1]
        j += 1
    while j > 0 and s[j - 1] > x_in:
        s[j] = s[j - 1]
        j -= 1
    s[j] = x_in


def _slide(buf, start, window, do_mad, do_q, med_out, meanad_out, mad_out, q25_out, q75_out):
    s = np.empty(window + 1)
    c = 0
    for j in range(max(0, start - window), start):
        _insert(s, c, buf[j])
        c += 1
    for i in range(start, len(buf)):
        if c > 0:
            _stats(s, c, do_mad, do_q, i - start, med_out, meanad_out, mad_out, q25_out, q75_out)
        if c == window:
            _replace(s, c, buf[i - window], buf[i])
        else:
            _insert(s, c, buf[i])
            c += 1


def _cusum(z, k, h, hi, lo, his, los):
    for t in range(z.size):
        hi = max(0.0, hi + (z[t] - k))
        lo = max(0.0, lo + (-z[t] - k))
        his[t], los[t] = hi, lo
        if hi >= h or lo >= h:
            hi, lo = 0.0, 0.0
    return hi, lo


if njit is not None:
    _cusum = njit(cache=True, nogil=True)(_cusum)
    window_mad = njit(cache=True, nogil=True)(window_mad)
    mean_abs_dev = njit(cache=True, nogil=True)(mean_abs_dev)
    quantile = njit(cache=True, nogil=True)(quantile)
    _stats = njit(cache=True, nogil=True)(_stats)
    _insert = njit(cache=True, nogil=True)(_insert)
    _replace = njit(cache=True, nogil=True)(_replace)
    _slide = njit(cache=True, nogil=True)(_slide)


def cusum_path_fast(z: np.ndarray, k: float, h: float, hi: float, lo: float):
    """vectorized.cusum_path, compiled: both sides after each point (before any reset) and the final (hi, lo)."""
    z = np.ascontiguousarray(z, dtype=np.float64)
    his, los = np.empty_like(z), np.empty_like(z)
    hi, lo = _cusum(z, float(k), float(h), float(hi), float(lo), his, los)
    return his, los, float(hi) + 0.0, float(lo) + 0.0


def window_order_stats_fast(buf: np.ndarray, start: int, window: int, *, mad: bool = False,
                            quartiles: bool = False) -> dict[str, np.ndarray]:
    """window.window_order_stats, compiled (call only when numba is installed)."""
    m = len(buf) - start
    names = ["median", "meanad"] + (["mad"] if mad else []) + (["q25", "q75"] if quartiles else [])
    out = {k: np.full(m, np.nan) for k in ("median", "meanad", "mad", "q25", "q75")}
    _slide(np.ascontiguousarray(buf, dtype=np.float64), int(start), int(window), bool(mad), bool(quartiles),
           out["median"], out["meanad"], out["mad"], out["q25"], out["q75"])
    return {k: out[k] for k in names}
