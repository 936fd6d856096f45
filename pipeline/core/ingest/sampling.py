"""Row sampling of canonical entries (random, stratified, importance, time-decayed), vectorized and seeded, with weights."""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

METHODS = ("random", "stratified", "importance", "time")
STRATA_BINS = 10


@dataclass
class SampleInfo:
    method: str
    rows_in: int
    rows_out: int
    seed: int
    sampled: bool
    note: str

    def to_dict(self) -> dict:
        return asdict(self)


def _n(x: int) -> str:
    return f"{x:,}"


def _lengths(col: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """(values as floats, valid mask): string columns by length, numeric ones as-is."""
    if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
        col = pc.utf8_length(col)
    elif not (pa.types.is_integer(col.type) or pa.types.is_floating(col.type)):
        col = pc.utf8_length(pc.cast(col, pa.string()))
    valid = col.is_valid().to_numpy(zero_copy_only=False) if len(col) else np.zeros(0, bool)
    vals = pc.fill_null(pc.cast(col, pa.float64()), 0.0).to_numpy(zero_copy_only=False)
    return vals, valid & np.isfinite(vals)


def _allocate(sizes: np.ndarray, n: int) -> np.ndarray:
    """Proportional allocation (largest remainder), at least one per non-empty stratum, never above a stratum's size."""
    target = n * sizes / sizes.sum()
    alloc = np.floor(target).astype(np.int64)
    alloc[np.argsort(-(target - alloc), kind="stable")[: n - alloc.sum()]] += 1
    need = (alloc == 0) & (sizes > 0)
    if need.sum() and (sizes > 0).sum() <= n:  # one each only fits when there are no more strata than rows to take
        alloc[need] = 1
        for _ in range(int(alloc.sum() - n)):  # give back from the strata most above their share (at most #strata steps)
            over = np.where(alloc > 1, alloc - target, -np.inf)
            alloc[int(np.argmax(over))] -= 1
    return np.minimum(alloc, sizes)


def strata(entries: pa.Table, column: str = "output", bins: int = STRATA_BINS) -> np.ndarray:
    """Stratum id per row: quantile bins of the column's length (or value, if numeric); nulls get their own stratum."""
    vals, valid = _lengths(entries.column(column))
    uniq = np.unique(vals[valid])
    if len(uniq) <= bins:  # few distinct values: one stratum each
        edges = np.concatenate([uniq, uniq[-1:]]) if len(uniq) else np.zeros(1)
    else:
        edges = np.unique(np.quantile(vals[valid], np.linspace(0, 1, bins + 1)))
    ids = np.searchsorted(edges[1:-1], vals, side="right")
    return np.where(valid, ids, len(edges)).astype(np.int64)


def _stratified(entries: pa.Table, n: int, rng: np.random.Generator, column: str) -> tuple[np.ndarray, np.ndarray, str]:
    bins = strata(entries, column)
    sizes = np.bincount(bins)
    alloc = _allocate(sizes, n)
    order = np.lexsort((rng.random(len(bins)), bins))  # random order within each stratum
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    rank = np.empty(len(bins), np.int64)
    rank[order] = np.arange(len(bins)) - starts[bins[order]]
    idx = np.flatnonzero(rank < alloc[bins])
    weight = sizes[bins[idx]] / alloc[bins[idx]]
    used = int((sizes > 0).sum())
    what = "output length" if column == "output" else column
    return idx, weight, f"by {what} ({used} bins)"


def _robust_z(x: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """|x - median| / (1.4826 MAD) on log1p(x) (latencies and lengths are right-skewed); 0 where invalid."""
    if valid.sum() < 2:
        return np.zeros(len(x))
    x = np.log1p(np.maximum(x, 0.0))
    med = np.median(x[valid])
    mad = 1.4826 * np.median(np.abs(x[valid] - med))
    if mad == 0:
        mad = np.mean(np.abs(x[valid] - med)) * 1.2533 or 1.0
    return np.where(valid, np.abs(x - med) / mad, 0.0)


def _importance_logw(entries: pa.Table) -> tuple[np.ndarray, np.ndarray, int]:
    """log weights, the mask of rows in rare combinations (<= 1% of rows) and how many such combinations there are.

    A row's weight is the inverse frequency of its (model, status, output_kind) combination times an outlier factor
    exp((z^2 - 9) / 2) beyond |z| = 3 (about the inverse normal tail odds relative to 3 sigma), capped at the row count."""
    keys = [pc.fill_null(pc.cast(entries.column(c), pa.string()), "\x00null") for c in ("model", "status", "output_kind")]
    combo = pc.binary_join_element_wise(*keys, "\x1f").combine_chunks()
    codes = pc.dictionary_encode(combo).indices.to_numpy(zero_copy_only=False)
    counts = np.bincount(codes)
    is_rare = counts <= max(1.0, 0.01 * len(codes))
    lat = entries.column("latency_ms")
    lat_v = pc.fill_null(lat, 0.0).to_numpy(zero_copy_only=False).astype(float)
    lat_ok = lat.is_valid().to_numpy(zero_copy_only=False) & np.isfinite(lat_v)
    out_v, out_ok = _lengths(entries.column("output"))
    z = np.maximum(_robust_z(lat_v, lat_ok), _robust_z(out_v, out_ok))
    outlier = np.clip((z * z - 9.0) / 2.0, 0.0, np.log(len(codes)))
    return np.log(len(codes) / counts[codes]) + outlier, is_rare[codes], int(is_rare.sum())


def _time_logw(entries: pa.Table, half_life_hours: float) -> tuple[np.ndarray, int]:
    """log weights halving every `half_life_hours` before the newest ts, and how many rows have no ts."""
    ts = entries.column("ts")
    us = pc.cast(ts, pa.int64())
    ok = us.is_valid().to_numpy(zero_copy_only=False)
    t = pc.fill_null(us, 0).to_numpy(zero_copy_only=False).astype(float)
    if not ok.any():
        return np.zeros(len(t)), len(t)
    unit = {"s": 1e6, "ms": 1e3, "us": 1.0, "ns": 1e-3}.get(getattr(ts.type, "unit", "us"), 1.0)
    age_h = (t[ok].max() - t) * unit / 3.6e9
    logw = -np.log(2.0) * age_h / half_life_hours
    return np.where(ok, logw, logw[ok].min()), int((~ok).sum())  # no timestamp: as old as the oldest


def _weighted(logw: np.ndarray, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Efraimidis-Spirakis: keep the n largest keys u**(1/w), i.e. the n smallest ranks -ln(u)/w, in log space.

    Weights are 1 / P(rank < tau), tau the (n+1)-th smallest rank: the rank-conditioning estimate of inclusion probability."""
    u = 1.0 - rng.random(len(logw))  # (0, 1]
    log_rank = np.log(-np.log(u) + 1e-300) - logw
    part = np.argpartition(log_rank, n)
    idx, tau = np.sort(part[:n]), log_rank[part[n]]
    p = -np.expm1(-np.exp(np.minimum(logw[idx] + tau, 700.0)))
    return idx, 1.0 / np.maximum(p, 1e-300)


def _importance(entries: pa.Table, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, str]:
    """Rows of rare combinations kept whole when they fit in half the budget; the rest drawn with probability half
    uniform, half proportional to the importance weight, so the bulk stays represented and re-weighting stays stable."""
    rows = entries.num_rows
    logw, rare, n_rare = _importance_logw(entries)
    whole = np.flatnonzero(rare) if rare.sum() <= n // 2 else np.zeros(0, np.int64)
    rest = np.setdiff1d(np.arange(rows), whole, assume_unique=True)
    lw = np.exp(logw[rest] - logw[rest].max())
    sub, w = _weighted(np.log(0.5 / len(rest) + 0.5 * lw / lw.sum()), n - len(whole), rng)
    idx = np.concatenate([whole, rest[sub]])
    order = np.argsort(idx, kind="stable")
    kept = f"; {_n(len(whole))} rows of {n_rare} rare model/status/output-kind combinations kept whole" if len(whole) else ""
    how = f"weighted towards rare model/status/output-kind combinations and latency or output-length outliers{kept}"
    return idx[order], np.concatenate([np.ones(len(whole)), w])[order], how


def sample_entries(
    entries: pa.Table, n: int, method: str = "random", seed: int = 0, *, strata_column: str = "output",
    half_life_hours: float = 24.0,
) -> tuple[pa.Table, SampleInfo]:
    """Sample n rows (kept in their original order); sampled rows carry `sample_weight`, about 1 / inclusion probability,
    so totals can be re-weighted. With n >= rows the table is returned unchanged (no weight column), sampled=False.

    random: uniform without replacement. stratified: quantile bins of `strata_column` length, proportional allocation
    with at least one row per non-empty bin. importance: rare (model, status, output_kind) combinations and robust
    latency / output-length outliers favoured. time: weights halving every `half_life_hours` before the newest ts."""
    if method not in METHODS:
        raise ValueError(f"unknown sampling method {method!r}; expected one of {', '.join(METHODS)}")
    if n < 0:
        raise ValueError("sample size must be >= 0")
    rows = entries.num_rows
    if n >= rows:
        return entries, SampleInfo(method, rows, rows, seed, False, f"all {_n(rows)} rows kept (sample size {_n(n)} >= rows)")
    rng = np.random.default_rng(seed)
    if n == 0:
        idx, weight, how = np.zeros(0, np.int64), np.zeros(0), ""
    elif method == "random":
        idx = np.sort(rng.choice(rows, size=n, replace=False))
        weight, how = np.full(n, rows / n), "uniformly at random"
    elif method == "stratified":
        idx, weight, how = _stratified(entries, n, rng, strata_column)
    elif method == "importance":
        idx, weight, how = _importance(entries, n, rng)
    else:
        logw, missing = _time_logw(entries, half_life_hours)
        idx, weight = _weighted(logw, n, rng)
        no_ts = f", {_n(missing)} without ts" if missing else ""
        how = f"weighted towards recent rows (half-life {half_life_hours:g} h{no_ts})"
    out = entries.take(pa.array(idx, pa.int64()))
    out = out.append_column("sample_weight", pa.array(np.asarray(weight, float), pa.float64()))
    label = {"random": "random", "stratified": "stratified", "importance": "importance", "time": "time-weighted"}[method]
    note = f"{label} sample of {_n(len(idx))} of {_n(rows)} rows{' ' + how if how else ''}, seed {seed}"
    return out, SampleInfo(method, rows, len(idx), seed, True, note)
