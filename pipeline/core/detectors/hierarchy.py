"""Segments as a hierarchy: which columns make a segment (service|model|version, plus the operation when the log
names one), and priming of a segment that appears mid-stream from its parent (same service and operation, any
model or version), so the first requests of a new model are scored at once; the appearance is itself an event."""
from __future__ import annotations

import copy
from collections.abc import Sequence

import numpy as np
import pyarrow as pa

BASE_COLUMNS = ("service", "model", "version")
OPTIONAL_COLUMNS = ("operation",)  # a segment part only when the entries carry it
SWAPPABLE = ("model", "version")  # a parent may differ in these parts, never in the others
MIN_PARENT_ROWS = 200  # a parent must have seen this many requests before the new segment's first one


def effective_columns(entries: pa.Table, columns: Sequence[str], optional: Sequence[str] = OPTIONAL_COLUMNS
                      ) -> list[str]:
    """`columns`, plus the `optional` segment columns the entries actually fill (an operation all null adds nothing)."""
    out = list(columns)
    for c in optional:
        if c not in out and c in entries.column_names and entries.column(c).null_count < entries.num_rows:
            out.append(c)
    return [c for c in out if c in entries.column_names]


def parent_of(segment: str, candidates: Sequence[str], columns: Sequence[str]) -> str | None:
    """The candidate that matches `segment` on every non-swappable part and on the most swappable ones (ties: the
    first in `candidates`); None when no candidate shares its service and operation."""
    parts = segment.split("|")
    if len(parts) != len(columns):
        return None
    fixed = [i for i, c in enumerate(columns) if c not in SWAPPABLE]
    swap = [i for i, c in enumerate(columns) if c in SWAPPABLE]
    best, best_score = None, -1
    for cand in candidates:
        other = cand.split("|")
        if cand == segment or len(other) != len(parts) or any(other[i] != parts[i] for i in fixed):
            continue
        score = sum(other[i] == parts[i] for i in swap)
        if score > best_score:
            best, best_score = cand, score
    return best


def plan_priming(segments: list[tuple[str, np.ndarray]], ts: np.ndarray, known: dict, columns: Sequence[str]
                 ) -> dict[str, tuple[str, np.ndarray]]:
    """For each segment new to `known` (the state before this batch) that starts mid-stream: (parent, the parent's
    rows in this batch before the new segment's first request). A parent qualifies when it has state from earlier
    batches or at least MIN_PARENT_ROWS rows in this batch before that first request."""
    rows_of = dict(segments)
    plan = {}
    for name, rows in segments:
        if name in known or not len(rows):
            continue
        first = ts[rows[0]]
        eligible = []
        for cand, cand_rows in segments:
            before = cand_rows[ts[cand_rows] < first]
            if cand != name and (cand in known or len(before) >= MIN_PARENT_ROWS):
                eligible.append(cand)
        parent = parent_of(name, [c for c in known if c not in rows_of] + eligible, columns)
        if parent is not None:
            prior = rows_of.get(parent, np.empty(0, np.int64))
            plan[name] = (parent, prior[ts[prior] < first])
    return plan


def primed(parent_state: dict | None, metrics: Sequence[str]) -> dict:
    """A copy of the parent's per-request metric states (never its rate buckets: a new segment's traffic starts at
    zero by design)."""
    out = {m: copy.deepcopy(parent_state[m]) for m in metrics if parent_state and m in parent_state}
    if parent_state and parent_state.get("latency_length"):
        out["latency_length"] = copy.deepcopy(parent_state["latency_length"])
    return out


MIN_FIT_ROWS = 200  # requests with tokens a segment needs before its TTFT offset is fitted ...
FIT_ROWS = 500  # ... which is fitted on its first this-many such requests (the same k however the log is batched)


def token_offset(latency: np.ndarray, tokens: np.ndarray) -> float | None:
    """k in latency ~ b x (tokens + k), i.e. time to first token in tokens' worth of time, from the medians of the
    shorter and the longer half of the outputs (robust to a slow tail); None when it cannot be told."""
    ok = np.isfinite(latency) & np.isfinite(tokens) & (tokens > 0)
    lat, tok = latency[ok], tokens[ok]
    if lat.size < MIN_FIT_ROWS:
        return None
    cut = np.median(tok)
    low, high = tok <= cut, tok > cut
    if low.sum() < MIN_FIT_ROWS // 4 or high.sum() < MIN_FIT_ROWS // 4:
        return 0.0  # one output length: the offset does not matter
    t_lo, t_hi, l_lo, l_hi = np.median(tok[low]), np.median(tok[high]), np.median(lat[low]), np.median(lat[high])
    slope = (l_hi - l_lo) / (t_hi - t_lo) if t_hi > t_lo else 0.0
    if slope <= 0:
        return 0.0
    return float(np.clip((l_lo - slope * t_lo) / slope, 0.0, 10_000.0))


def length_adjusted(latency: np.ndarray, tokens: np.ndarray, rows: np.ndarray, seg_state: dict
                    ) -> tuple[np.ndarray | None, np.ndarray | None]:
    """(latency / (tokens + k), tokens + k) on a segment's rows, or (None, None) while k cannot be fitted (too
    few rows with tokens: raw latency is judged). k is fitted once per segment and kept in its state
    (`latency_length`); the batch that first fits it restarts the segment's latency detectors (their scale changes).
    It is fitted on the segment's first FIT_ROWS requests with tokens, so the same log batched differently gets
    the same k."""
    k = (seg_state.get("latency_length") or {}).get("fit", {}).get("k")
    if k is None:
        lat, tok = latency[rows], tokens[rows]
        usable = np.flatnonzero(np.isfinite(lat) & np.isfinite(tok) & (tok > 0))
        if usable.size < FIT_ROWS:  # raw latency until one batch brings FIT_ROWS of them
            return None, None
        k = token_offset(lat[usable[:FIT_ROWS]], tok[usable[:FIT_ROWS]])
        if k is None:
            return None, None
        seg_state["latency_length"] = {"fit": {"k": k}}
        seg_state.pop("latency_ms", None)
        seg_state.pop("latency_ms_tail", None)  # tail.py's sample was on the old scale too
    tok = tokens[rows]
    mult = np.where(tok > 0, tok + k, np.nan)
    full_mult = np.full(latency.shape, np.nan)
    full_mult[rows] = mult
    with np.errstate(invalid="ignore", divide="ignore"):
        return latency[rows] / mult, full_mult
