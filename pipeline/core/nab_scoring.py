"""The Numenta Anomaly Benchmark scorer (NAB v1.x sweeper/optimizer/normalizer) re-implemented with numpy:
label windows, scaled-sigmoid weighting of detections, cost profiles, one detection threshold optimized over
the whole corpus, and the normalized score (null detector = 0, perfect = 100)."""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

PROBATION_PERCENT = 0.15


@dataclass(frozen=True)
class CostMatrix:
    tp: float
    fp: float
    fn: float
    tn: float = 1.0


PROFILES = {  # NAB config/profiles.json
    "standard": CostMatrix(tp=1.0, fp=0.11, fn=1.0),
    "reward_low_FP_rate": CostMatrix(tp=1.0, fp=0.22, fn=1.0),
    "reward_low_FN_rate": CostMatrix(tp=1.0, fp=0.11, fn=2.0),
}


def load_profiles(path: str | Path) -> dict[str, CostMatrix]:
    doc = json.loads(Path(path).read_text())
    return {name: CostMatrix(**{k[:-6]: float(v) for k, v in p["CostMatrix"].items()}) for name, p in doc.items()}


def scaled_sigmoid(y: np.ndarray) -> np.ndarray:
    """2 / (1 + e^(5y)) - 1, and -1 beyond y = 3: about +0.987 at a window's left edge (y = -1), 0 at its right."""
    y = np.asarray(y, dtype=np.float64)
    with np.errstate(over="ignore"):
        return np.where(y > 3.0, -1.0, 2.0 / (1.0 + np.exp(5.0 * np.minimum(y, 3.0))) - 1.0)


def probation_length(n_rows: int, percent: float = PROBATION_PERCENT) -> int:
    """Rows at the start of a file that are never scored: min(floor(15% of the rows), 750)."""
    return int(min(math.floor(percent * n_rows), percent * 5000))


class LabeledFile(NamedTuple):
    name: str
    n_rows: int
    windows: list[tuple[int, int]]  # first and last row of each anomaly window (inclusive)
    probation: int


def window_rows(timestamps: np.ndarray, windows: list[tuple[str, str]]) -> list[tuple[int, int]]:
    """Row indices of each [start, end] window; both ends must be timestamps of the file (as NAB requires)."""
    ts = np.asarray(timestamps, dtype="datetime64[us]")
    out = []
    for start, end in windows:
        a, b = (int(np.searchsorted(ts, np.datetime64(t.replace(" ", "T"), "us"))) for t in (start, end))
        if a >= ts.size or b >= ts.size or ts[a] != np.datetime64(start.replace(" ", "T"), "us") or \
                ts[b] != np.datetime64(end.replace(" ", "T"), "us"):
            raise ValueError(f"window {start} .. {end} does not start and end on rows of the file")
        out.append((a, b))
    return out


def sweep(file: LabeledFile, cost: CostMatrix) -> tuple[np.ndarray, np.ndarray]:
    """Per row: what a detection there is worth, and its window (-1 outside windows, -2 in probation).
    Inside a window [L, R] a detection at i earns tp * sigmoid(-(R - i + 1) / (R - L + 1)) / sigmoid(-1);
    outside, fp * sigmoid(distance past the previous window's end in units of (its width - 1)), or -fp when
    no window precedes it (NAB sweeper.calcSweepScore)."""
    i = np.arange(file.n_rows)
    value = np.full(file.n_rows, -1.0 * cost.fp)
    window = np.full(file.n_rows, -1, dtype=np.int64)
    max_tp = float(scaled_sigmoid(-1.0))
    for w, (left, right) in enumerate(file.windows):
        width = float(right - left + 1)
        inside = i[left:right + 1]
        value[left:right + 1] = scaled_sigmoid(-(right - inside + 1) / width) * cost.tp / max_tp
        window[left:right + 1] = w
        nxt = file.windows[w + 1][0] if w + 1 < len(file.windows) else file.n_rows
        after = i[right + 1:nxt]
        with np.errstate(divide="ignore"):
            value[right + 1:nxt] = scaled_sigmoid(np.abs(right - after) / (width - 1)) * cost.fp
    window[: file.probation] = -2
    return value, window


class FileScore(NamedTuple):
    score: float
    tp: int
    tn: int
    fp: int
    fn: int
    total: int
    contributions: np.ndarray  # per row, as NAB's S(t) columns: FPs where they occur, each window at its first row


def score_file(file: LabeledFile, anomaly_scores: np.ndarray, threshold: float, cost: CostMatrix) -> FileScore:
    """A file's raw NAB score when rows with anomaly_score >= threshold are detections (NAB scorer)."""
    value, window = sweep(file, cost)
    hit = (np.asarray(anomaly_scores, dtype=np.float64) >= threshold) & (window != -2)
    outside, inside = window == -1, window >= 0
    contributions = np.where(hit & outside, value, 0.0)
    for w, (left, _) in enumerate(file.windows):
        detected = value[hit & (window == w)]
        contributions[left] = max(-cost.fn, detected.max()) if detected.size else -cost.fn
    tp, fp = int((hit & inside).sum()), int((hit & outside).sum())
    return FileScore(float(contributions.sum()), tp, int(outside.sum()) - fp, fp, int(inside.sum()) - tp,
                     file.n_rows, contributions)


class ThresholdSweep(NamedTuple):
    thresholds: np.ndarray  # 1.1 (nothing detected), then every distinct anomaly score, descending
    scores: np.ndarray  # raw score when rows >= threshold are detections
    tp: np.ndarray
    fp: np.ndarray


def score_by_threshold(anomaly_scores: np.ndarray, value: np.ndarray, window: np.ndarray,
                       cost: CostMatrix) -> ThresholdSweep:
    """The raw score at every possible threshold in one pass (NAB sweeper.calcScoreByThreshold): rows sorted by
    anomaly score, false positives summed, each window keeping its best (earliest) detection, -fn until one."""
    keep = window != -2
    s, v, w = np.asarray(anomaly_scores, np.float64)[keep], value[keep], window[keep]
    order = np.argsort(-s, kind="stable")
    s, v, w = s[order], v[order], w[order]
    gain = np.where(w == -1, v, 0.0)
    for win in np.unique(w[w >= 0]):  # each window's score only rises to its running best
        at = np.flatnonzero(w == win)
        best = np.maximum.accumulate(np.maximum(v[at], -cost.fn))
        gain[at] = np.diff(best, prepend=-cost.fn)
    n_windows = np.unique(w[w >= 0]).size
    total = np.concatenate(([0.0], np.cumsum(gain))) - cost.fn * n_windows
    tp = np.concatenate(([0], np.cumsum(w >= 0)))
    fp = np.concatenate(([0], np.cumsum(w == -1)))
    last_of_run = np.flatnonzero(np.concatenate((s[1:] != s[:-1], [True]))) if s.size else np.empty(0, int)
    take = np.concatenate(([0], last_of_run + 1))
    return ThresholdSweep(np.concatenate(([1.1], s[last_of_run])), total[take], tp[take], fp[take])


def optimize_threshold(files: list[LabeledFile], anomaly_scores: list[np.ndarray],
                       cost: CostMatrix) -> tuple[float, float]:
    """(threshold, raw corpus score): the one threshold maximizing the summed score over all files
    (NAB optimizer: every file's rows pooled; on ties the highest threshold)."""
    values, windows, offset = [], [], 0
    for file in files:
        v, w = sweep(file, cost)
        values.append(v)
        windows.append(np.where(w >= 0, w + offset, w))
        offset += len(file.windows)
    result = score_by_threshold(np.concatenate(anomaly_scores), np.concatenate(values), np.concatenate(windows),
                                cost)
    best = int(np.argmax(result.scores))
    return float(result.thresholds[best]), float(result.scores[best])


def normalize(raw: float, n_windows: int, cost: CostMatrix) -> float:
    """100 * (raw - null) / (perfect - null): null detects nothing (-fn per window), perfect = one per window."""
    null = -cost.fn * n_windows
    return 100.0 * (raw - null) / (n_windows - null)


def load_corpus(nab_dir: str | Path, labels: str = "labels/combined_windows.json") -> dict[str, tuple]:
    """{relative path: (LabeledFile, timestamps, values)} for every data file named in the label file."""
    import pyarrow.csv as pcsv

    root = Path(nab_dir)
    corpus = {}
    for name, wins in sorted(json.loads((root / labels).read_text()).items()):
        table = pcsv.read_csv(root / "data" / name, convert_options=pcsv.ConvertOptions(
            column_types={"timestamp": "timestamp[us]", "value": "float64"}))
        ts = table["timestamp"].to_numpy()
        values = table["value"].to_numpy()
        file = LabeledFile(name, len(ts), window_rows(ts, wins), probation_length(len(ts)))
        corpus[name] = (file, ts, values)
    return corpus


def score_corpus(corpus: dict[str, tuple], anomaly_scores: dict[str, np.ndarray],
                 profiles: dict[str, CostMatrix] = PROFILES) -> dict[str, dict]:
    """Per profile: optimized threshold, raw and normalized score, and per-file results, as NAB reports them."""
    names = sorted(corpus)
    files = [corpus[n][0] for n in names]
    n_windows = sum(len(f.windows) for f in files)
    out = {}
    for profile, cost in profiles.items():
        threshold, raw = optimize_threshold(files, [anomaly_scores[n] for n in names], cost)
        per_file = {n: score_file(f, anomaly_scores[n], threshold, cost) for n, f in zip(names, files)}
        out[profile] = {"threshold": threshold, "raw": raw, "score": normalize(raw, n_windows, cost),
                        "files": per_file}
    return out
