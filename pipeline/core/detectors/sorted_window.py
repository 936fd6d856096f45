"""Compiled helpers (numba) for one sorted sliding window shared by the MAD and IQR detectors of fused.py: learn a
value (the oldest one out), an O(1) lower bound of the MAD and the MAD in sigma units. The same
values as window.py's sorts (the window holds the same numbers; a value is placed among its equals)."""
from __future__ import annotations

from .base import MAD_TO_SIGMA, MEANAD_TO_SIGMA
from .compiled import mean_abs_dev, njit, window_mad


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


def mad_lower_bound(s, c, med):
    """A lower bound of the MAD in O(1): of the k + 1 smallest deviations (k = (c - 1) // 2) at least k // 2 + 1
    come from one run, so the k-th is at least min(A[k // 2], B[k // 2])."""
    h = c >> 1
    m = ((c - 1) >> 1) >> 1
    return min(med - s[h - 1 - m], s[h + m] - med)


def mad_sigma(s, c, med):
    """1.4826 x MAD, or 1.2533 x the mean absolute deviation when the MAD is 0."""
    mad = window_mad(s, c, med)
    return MAD_TO_SIGMA * mad if mad > 0 else MEANAD_TO_SIGMA * mean_abs_dev(s, c, med)


if njit is not None:
    _count_less = njit(cache=True, nogil=True)(_count_less)
    slide_in = njit(cache=True, nogil=True)(slide_in)
    mad_lower_bound = njit(cache=True, nogil=True)(mad_lower_bound)
    mad_sigma = njit(cache=True, nogil=True)(mad_sigma)
