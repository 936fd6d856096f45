"""Exact order statistics (median, MAD, quartiles) of the W points before each point, for all points at once:
windows are rows of a sliding-window view sorted in chunks, then their deviations from the median sorted
again. Same values and formulas as the reference, so the results are bit-identical."""
from __future__ import annotations

import os

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .compiled import njit as _numba_available
from .compiled import window_order_stats_fast

FAST = window_order_stats_fast if _numba_available is not None and not os.environ.get("STRATA_NO_NUMBA") else None
FAST_MIN_POINTS = 256  # below this the numpy path is as fast and needs no compiled code
CHUNK_VALUES = 32_768  # windows are sorted a chunk at a time (256 KB): the follow-up passes stay in cache


def window_order_stats(buf: np.ndarray, start: int, window: int, *, mad: bool = False,
                       quartiles: bool = False) -> dict[str, np.ndarray]:
    """For every i in [start, len(buf)): statistics of buf[max(0, i - window):i] (NaN where that is empty).
    Returns median, and mad and/or q25/q75 when asked, plus meanad (mean |v - median|) where MAD or IQR is 0.
    With numba installed (the `fast` extra) the compiled sliding window computes the same values."""
    if FAST is not None and len(buf) - start > FAST_MIN_POINTS:
        return FAST(buf, start, window, mad=mad, quartiles=quartiles)
    return window_order_stats_numpy(buf, start, window, mad=mad, quartiles=quartiles)


def window_order_stats_numpy(buf: np.ndarray, start: int, window: int, *, mad: bool = False,
                             quartiles: bool = False) -> dict[str, np.ndarray]:
    """window_order_stats by sorting sliding-window views in chunks (numpy only)."""
    m = len(buf) - start
    names = ["median", "meanad"] + (["mad"] if mad else []) + (["q25", "q75"] if quartiles else [])
    out = {k: np.full(m, np.nan) for k in names}
    # Windows that are not full yet (only the first `window` points of a detector's life).
    part = np.arange(max(start, 1), min(window, len(buf)))
    if part.size:
        head = np.full(window, np.inf)
        head[: min(window, len(buf))] = buf[:window]
        rows = np.where(np.arange(window)[None, :] < part[:, None], head[None, :], np.inf)
        rows.sort(axis=1)
        _fill(out, part - start, rows, part, mad, quartiles)
    first = max(start, window)
    if first < len(buf):
        view = sliding_window_view(buf[:-1], window)  # row r is the window before buf[r + window]
        chunk = max(64, CHUNK_VALUES // window)
        for a in range(first - window, len(buf) - window, chunk):
            b = min(a + chunk, len(buf) - window)
            rows = np.sort(view[a:b], axis=1)
            _fill(out, slice(a + window - start, b + window - start), rows, window, mad, quartiles)
    return out


def _fill(out: dict, where, rows: np.ndarray, w, mad: bool, quartiles: bool) -> None:
    """Statistics of sorted rows holding w values each (then +inf padding). w is an int when every row is
    full, so fixed columns are sliced instead of gathered."""
    full = np.ndim(w) == 0
    r = slice(None) if full else np.arange(len(rows))
    lo, hi = (w - 1) // 2, w // 2
    med = (rows[r, lo] + rows[r, hi]) / 2
    out["median"][where] = med
    if mad:  # deviations from the median, sorted: same values as the reference's sorted(abs(v - median))
        if full:  # sorted rows: the first `hi` values are <= the median, the rest >= it
            dev = np.empty_like(rows)
            np.subtract(med[:, None], rows[:, :hi], out=dev[:, :hi])
            np.subtract(rows[:, hi:], med[:, None], out=dev[:, hi:])
        else:
            dev = np.abs(rows - med[:, None])
        dev.sort(axis=1)
        out["mad"][where] = (dev[r, lo] + dev[r, hi]) / 2
    if quartiles:
        for name, p in (("q25", 0.25), ("q75", 0.75)):
            pos = (w - 1) * p
            i = np.floor(pos).astype(np.int64)
            frac = pos - i
            a, b = rows[r, i], rows[r, np.minimum(i + 1, w - 1)]
            out[name][where] = np.where(frac > 0, a + frac * (b - a), a)
    degenerate = np.zeros(len(rows), bool)
    if mad:
        degenerate |= out["mad"][where] == 0
    if quartiles:
        degenerate |= out["q25"][where] == out["q75"][where]
    if degenerate.any():  # summed left to right in sorted order, like the reference
        sub, cols = rows[degenerate], np.arange(rows.shape[1])[None, :]
        counts = np.broadcast_to(w, len(rows))[degenerate]
        dev = np.where(cols < counts[:, None], np.abs(sub - med[degenerate][:, None]), 0.0)
        out["meanad"][np.arange(len(out["meanad"]))[where][degenerate]] = np.cumsum(dev, axis=1)[:, -1] / counts
