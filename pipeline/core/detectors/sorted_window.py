"""Compiled helpers (numba) for one sorted sliding window shared by the MAD and IQR detectors of fused.py: learn a
value (the oldest one out), the MAD by one binary search, an O(1) lower bound of the MAD. The same
values as window.py's sorts (the window holds the same numbers; a value is placed among its equals)."""
from __future__ import annotations

import numpy as np

from .base import MAD_TO_SIGMA, MEANAD_TO_SIGMA
from .compiled import njit


def _count_less(s, c, x):
    """How many of s[:c] are below x: a branch-free scan, faster than a binary search for windows this small."""
    n = 0
    for t in range(c):
        n += 1 if s[t] < x else 0
    return n


def slide_in(s, ring, c, w, head, x):
    """Learn x into the window (sorted s[:c], chronological ring); returns (count, head)."""
    if c < w:
        j = _count_less(s, c, x)
        for t in range(c, j, -1):
            s[t] = s[t - 1]
        s[j] = x
        ring[c] = x
        return c + 1, head
    old = ring[head]
    ring[head] = x
    head = head + 1 if head + 1 < w else 0
    j = p = 0  # where the oldest value sits, where x goes once it is out: one branch-free scan
    for t in range(c):
        j += 1 if s[t] < old else 0
        p += 1 if s[t] < x else 0
    if old < x:
        p -= 1
        for t in range(j, p):
            s[t] = s[t + 1]
    else:
        for t in range(j, p, -1):
            s[t] = s[t - 1]
    s[p] = x
    return c, head


def _mad(s, c, med):
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


def mad_lower_bound(s, c, med):
    """A lower bound of the MAD in O(1): of the k + 1 smallest deviations (k = (c - 1) // 2) at least k // 2 + 1
    come from one run, so the k-th is at least min(A[k // 2], B[k // 2])."""
    h = c >> 1
    m = ((c - 1) >> 1) >> 1
    return min(med - s[h - 1 - m], s[h + m] - med)


def mad_sigma(s, c, med):
    """1.4826 x MAD, or 1.2533 x the mean absolute deviation when the MAD is 0."""
    mad = _mad(s, c, med)
    return MAD_TO_SIGMA * mad if mad > 0 else MEANAD_TO_SIGMA * mean_abs_dev(s, c, med)


def mean_abs_dev(s, c, med):
    """Mean absolute deviation from med over s[:c], summed in sorted order (as window.py does)."""
    total = 0.0
    for j in range(c):
        total += abs(s[j] - med)
    return total / c


if njit is not None:
    _count_less = njit(cache=True, nogil=True)(_count_less)
    slide_in = njit(cache=True, nogil=True)(slide_in)
    _mad = njit(cache=True, nogil=True)(_mad)
    mad_lower_bound = njit(cache=True, nogil=True)(mad_lower_bound)
    mean_abs_dev = njit(cache=True, nogil=True)(mean_abs_dev)
    mad_sigma = njit(cache=True, nogil=True)(mad_sigma)
