"""Array versions of the reference detectors: same scores, computed over a whole series with cumulative sums,
scipy.signal.lfilter, the Lindley recursion in closed form and sliding windows. Each takes the values and a
detector state (as reference.X().state() gives) and returns Scored(scores, expected, new_state)."""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy.signal import lfilter

from .base import IQR_TO_SIGMA, MAD_TO_SIGMA, MEANAD_TO_SIGMA, Scored, sigma_floor_array
from .compiled import cusum_path_fast
from .window import FAST, FAST_MIN_POINTS, window_order_stats


def _split(values) -> tuple[np.ndarray, np.ndarray]:
    """The finite values (the only ones detectors see) and where they sit."""
    x = np.asarray(values, dtype=np.float64)
    valid = np.isfinite(x)
    return valid, x[valid]


def _scatter(valid: np.ndarray, *arrays: np.ndarray) -> list[np.ndarray]:
    if valid.all():
        return list(arrays)
    out = []
    for arr in arrays:
        full = np.full(valid.shape, np.nan)
        full[valid] = arr
        out.append(full)
    return out


def _floor(p: dict, level: np.ndarray) -> np.ndarray:
    return sigma_floor_array(level, p["abs_floor"], p["rel_floor"])


def welford_prefix(xv: np.ndarray, state: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(n, mean, m2) before each point and after the last (length m + 1), from cumulative sums of the values
    shifted by the starting mean (which keeps the sum of squares free of cancellation)."""
    n0, mean0, m20 = int(state["n"]), float(state["mean"]), float(state["m2"])
    shift = mean0 if n0 > 0 else (float(xv[0]) if xv.size else 0.0)
    d = xv - shift
    s1 = np.cumsum(np.concatenate(([n0 * (mean0 - shift)], d)))
    d *= d
    s2 = np.cumsum(np.concatenate(([m20 + n0 * (mean0 - shift) ** 2], d)))
    n = np.arange(n0, n0 + xv.size + 1, dtype=np.float64)
    n[0] = max(n0, 1)  # no division by zero before the first point
    mean = s1 / n
    mean += shift
    s1 *= s1
    s1 /= n
    m2 = np.maximum(s2 - s1, 0.0, out=s2)
    if n0 == 0:
        mean[0], m2[0] = 0.0, 0.0
    n[0] = n0
    return n, mean, m2


class Standardized(NamedTuple):
    """A series against its running (Welford) mean and std, as ZScore and CUSUM see it."""

    n: np.ndarray  # points seen before each value
    mean: np.ndarray  # running mean before each value
    z: np.ndarray  # (x - mean) / max(std, floor)
    end: dict  # n, mean, m2 after the last value


def standardize(xv: np.ndarray, state: dict) -> Standardized:
    p = state["params"]
    n, mean, m2 = welford_prefix(xv, state)
    end = {"n": int(n[-1]), "mean": float(mean[-1]), "m2": float(m2[-1])}
    m2 /= np.maximum(n - 1.0, 1.0)  # the variance; m2 is 0 while n <= 1
    sigma = np.maximum(np.sqrt(m2[:-1]), _floor(p, mean[:-1]))
    z = xv - mean[:-1]
    z /= sigma
    return Standardized(n[:-1], mean[:-1], z, end)


def long_run_floor(xv: np.ndarray, state: dict, sigma: np.ndarray) -> tuple[np.ndarray, dict]:
    """sigma raised to scale_floor x the long-run std before each point (LocalBaseline), and the updated
    long-run fields of the state."""
    factor = state["params"].get("scale_floor", 0.0)
    if factor <= 0:
        return sigma, {}
    n, mean, m2 = welford_prefix(xv, {"n": state["n"], "mean": state["long_mean"], "m2": state["long_m2"]})
    std = np.sqrt(m2[:-1] / np.maximum(n[:-1] - 1.0, 1.0))  # m2 is 0 while n <= 1
    return np.where(n[:-1] > 1, np.maximum(sigma, factor * std), sigma), \
        {"long_mean": float(mean[-1]), "long_m2": float(m2[-1])}


def zscore(values, state: dict, standardized: Standardized | None = None) -> Scored:
    valid, xv = _split(values)
    st = standardized or standardize(xv, state)
    scores = st.z.copy() if standardized is not None else st.z
    scores[st.n < state["params"]["warmup"]] = np.nan
    expected = np.where(st.n > 0, st.mean, np.nan)
    return Scored(*_scatter(valid, scores, expected), {**state, **st.end})


def ewma_prior(xv: np.ndarray, state: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict]:
    """Level and variance before each point, the count before it, and the state after the last point."""
    a = state["params"]["alpha"]
    keep = 1.0 - a
    n0, mean0, var0 = int(state["n"]), float(state["mean"]), float(state["var"])
    prior_mean, prior_var = np.zeros(xv.size), np.zeros(xv.size)
    rest = xv
    if n0 == 0 and xv.size:  # the first point sets the level
        mean0, var0, rest = float(xv[0]), 0.0, xv[1:]
    k = xv.size - rest.size
    if rest.size:
        means = lfilter([a], [1.0, -keep], rest, zi=[keep * mean0])[0]
        prior_mean[k:] = np.concatenate(([mean0], means[:-1]))
        d = rest - prior_mean[k:]
        variances = lfilter([keep * a], [1.0, -keep], d * d, zi=[keep * var0])[0]
        prior_var[k:] = np.concatenate(([var0], variances[:-1]))
        mean0, var0 = float(means[-1]), float(variances[-1])
    new = {**state, "n": n0 + int(xv.size), "mean": mean0, "var": var0}
    return prior_mean, prior_var, n0 + np.arange(xv.size), new


def ewma(values, state: dict) -> Scored:
    valid, xv = _split(values)
    p = state["params"]
    prior_mean, prior_var, n_prior, new = ewma_prior(xv, state)
    sigma, long_run = long_run_floor(xv, state, np.maximum(np.sqrt(prior_var), _floor(p, prior_mean)))
    new.update(long_run)
    scores = (xv - prior_mean) / sigma
    scores[n_prior < p["warmup"]] = np.nan
    expected = np.where(n_prior > 0, prior_mean, np.nan)
    return Scored(*_scatter(valid, scores, expected), new)


def cusum_path(z: np.ndarray, k: float, h: float, hi: float, lo: float) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Both CUSUM sides after each point (before any reset) and the final (hi, lo): compiled when numba is there
    (the reference's recursion), else `cusum_path_numpy`."""
    if FAST is not None and z.size > FAST_MIN_POINTS:
        return cusum_path_fast(z, k, h, hi, lo)
    return cusum_path_numpy(z, k, h, hi, lo)


def cusum_path_numpy(z: np.ndarray, k: float, h: float, hi: float,
                     lo: float) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Both CUSUM sides after each point (before any reset) and the final (hi, lo). Each side is a Lindley
    recursion S_t = max(0, S_{t-1} + inc_t), in closed form S_t = C_t - min(-S_0, min_{s<=t} C_s) with
    C = cumsum(inc); it runs on blocks that double while quiet, and an alarm resets both sides to 0 and starts
    a shorter block after it."""
    inc = np.stack((z - k, -z - k))
    path = np.empty_like(inc)
    start = np.array([[-hi], [-lo]])  # Lindley: S = C - min(-S0, running min of C)
    pos, block = 0, 1024
    while pos < z.size:
        end = min(z.size, pos + block)
        c = np.cumsum(inc[:, pos:end], axis=1)
        s = np.minimum(c, start)
        np.minimum.accumulate(s, axis=1, out=s)
        np.subtract(c, s, out=s)
        hit = np.logical_or(s[0] >= h, s[1] >= h)
        first = int(hit.argmax())
        stop = first + 1 if hit[first] else end - pos
        path[:, pos:pos + stop] = s[:, :stop]
        if hit[first]:
            start, block = np.zeros((2, 1)), 512
        else:
            start, block = -s[:, -1:], min(block * 2, 16_384)
        pos += stop
    return path[0], path[1], float(-start[0, 0]) + 0.0, float(-start[1, 0]) + 0.0


def cusum(values, state: dict, standardized: Standardized | None = None) -> Scored:
    valid, xv = _split(values)
    p = state["params"]
    st = standardized or standardize(xv, state)
    first = int(np.searchsorted(st.n, p["warmup"]))  # n grows by one per point
    his, los, hi, lo = cusum_path(st.z[first:], p["k"], p["h"], float(state["hi"]), float(state["lo"]))
    scores = np.full(xv.size, np.nan)
    scores[first:] = p["alarm_sigma"] * np.where(his >= los, his, -los) / p["h"]
    expected = np.where(st.n > 0, st.mean, np.nan)
    return Scored(*_scatter(valid, scores, expected), {**state, **st.end, "hi": hi, "lo": lo})


def window_stats(values, state: dict, *, mad: bool = False, quartiles: bool = False) -> dict[str, np.ndarray]:
    """Order statistics of the window before each finite value (shareable between the MAD and IQR detectors)."""
    _, xv = _split(values)
    kept = np.asarray(state["values"], dtype=np.float64)
    return window_order_stats(np.concatenate((kept, xv)), kept.size, state["params"]["window"],
                              mad=mad, quartiles=quartiles)


def _window_run(values, state: dict, stats: dict, center_sigma) -> Scored:
    valid, xv = _split(values)
    p = state["params"]
    kept = list(state["values"])
    seen = len(kept) + np.arange(xv.size)
    ready = np.minimum(seen, p["window"]) >= min(p["warmup"], p["window"])
    center, sigma = center_sigma(stats, ready)
    sigma, long_run = long_run_floor(xv, state, sigma)
    scores = (xv - center) / sigma
    scores[(int(state["n"]) + np.arange(xv.size)) < p["warmup"]] = np.nan
    tail = xv[-p["window"]:].tolist()
    new = {**state, "n": int(state["n"]) + int(xv.size), "values": (kept + tail)[-p["window"]:], **long_run}
    return Scored(*_scatter(valid, scores, center), new)


def mad(values, state: dict, stats: dict | None = None) -> Scored:
    p = state["params"]
    stats = stats if stats is not None else window_stats(values, state, mad=True)
    prior = lambda key: np.nan if state[key] is None else state[key]  # noqa: E731

    def center_sigma(st, ready):
        with np.errstate(invalid="ignore"):
            own = np.where(st["mad"] > 0, MAD_TO_SIGMA * st["mad"], MEANAD_TO_SIGMA * st["meanad"])
        med = np.where(ready, st["median"], prior("prior_median"))
        sigma = np.where(ready, own, MAD_TO_SIGMA * prior("prior_mad"))
        return med, np.maximum(sigma, _floor(p, med))

    return _window_run(values, state, stats, center_sigma)


def iqr(values, state: dict, stats: dict | None = None) -> Scored:
    p = state["params"]
    stats = stats if stats is not None else window_stats(values, state, quartiles=True)
    prior = lambda key: np.nan if state[key] is None else state[key]  # noqa: E731

    def center_sigma(st, ready):
        with np.errstate(invalid="ignore"):
            own = np.where(st["q75"] > st["q25"], (st["q75"] - st["q25"]) / IQR_TO_SIGMA,
                           MEANAD_TO_SIGMA * st["meanad"])
        q25 = np.where(ready, st["q25"], prior("prior_q25"))
        q75 = np.where(ready, st["q75"], prior("prior_q75"))
        sigma = np.where(ready, own, (q75 - q25) / IQR_TO_SIGMA)
        mid = (q25 + q75) / 2
        return mid, np.maximum(sigma, _floor(p, mid))

    return _window_run(values, state, stats, center_sigma)


VECTORIZED = {"zscore": zscore, "ewma": ewma, "cusum": cusum, "mad": mad, "iqr": iqr}


def run_detectors(values, states: dict[str, dict]) -> dict[str, Scored]:
    """Run several detectors on one series, sharing work: MAD and IQR over the same window sort it once;
    z-scores and CUSUMs with the same running stats and floors standardize once."""
    windowed = [s for s in states.values() if s["kind"] in ("mad", "iqr")]
    stats = None
    if len(windowed) == 2 and windowed[0]["values"] == windowed[1]["values"] and \
            windowed[0]["params"]["window"] == windowed[1]["params"]["window"]:
        stats = window_stats(values, windowed[0], mad=True, quartiles=True)
    standardized: dict[tuple, Standardized] = {}
    out = {}
    for name, st in states.items():
        kind = st["kind"]
        if kind in ("mad", "iqr") and stats is not None:
            out[name] = VECTORIZED[kind](values, st, stats)
        elif kind in ("zscore", "cusum"):
            key = (st["n"], st["mean"], st["m2"], st["params"]["abs_floor"], st["params"]["rel_floor"])
            if key not in standardized:
                standardized[key] = standardize(_split(values)[1], st)
            out[name] = VECTORIZED[kind](values, st, standardized[key])
        else:
            out[name] = VECTORIZED[kind](values, st)
    return out
