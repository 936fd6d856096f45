"""Branch-rate detector: the share of runs taking each workflow branch (`from->to` in the entry's branch_path) per
time bucket, against that branch's exponentially weighted past share.

A bucket is one time bucket of one drop (a drop is one batch of runs; two drops in the same hour are two buckets).
Runs taking a branch in a bucket of n runs are scored under a binomial with p = (E + 0.5) / (N + 1) (E, N: decayed
sums of past runs taking the branch and past runs), through the mid-p tail (`rates.tail_sigma`), divided by the
square root of the variance inflation: the branch's over-dispersion (the decayed mean of past squared Pearson
residuals, at least 1) times (N + 1 + n) / (N + 2), the beta-binomial predictive factor for an estimated p. The
score is in sigma like the other detectors. A branch never seen before has p = 0.5 / (N + 1); a known branch absent
from a bucket scores below. State resumes across drops (JSON: plain numbers and a dict per branch).
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy import stats

from .rates import tail_sigma

METRIC = "branch_rate"
MAX_DISPERSION_STEP = 25.0  # one shifted bucket may inflate the over-dispersion, never beyond a 5-sigma residual


def initial_state(alpha: float = 0.2, warmup_buckets: int = 1, min_runs: float = 30.0) -> dict:
    """A fresh detector: `alpha` the per-bucket decay, alerts once `warmup_buckets` buckets and `min_runs`
    (decayed) runs were learned."""
    return {"kind": METRIC, "params": {"alpha": float(alpha), "warmup_buckets": int(warmup_buckets),
                                       "min_runs": float(min_runs)},
            "n": 0, "runs": 0.0, "taken": {}, "dispersion": {}}


def bucket_counts(entries: pa.Table, rows: np.ndarray, ts_us: np.ndarray, bucket_seconds: float
                  ) -> tuple[np.ndarray, np.ndarray, list[str], np.ndarray]:
    """(bucket start in epoch seconds, runs per bucket, branch names, runs taking each branch [bucket x branch])
    for the rows with a timestamp and at least one branch decision; buckets in time order."""
    empty = (np.empty(0), np.empty(0), [], np.empty((0, 0)))
    if "branch_path" not in entries.column_names or rows.size == 0:
        return empty
    paths = entries.column("branch_path").take(pa.array(rows)).combine_chunks()
    lengths = pc.fill_null(pc.list_value_length(paths), 0).to_numpy(zero_copy_only=False)
    keep = lengths > 0
    if not keep.any():
        return empty
    rows, paths = rows[keep], paths.filter(pa.array(keep))
    tb = np.floor(ts_us[rows] / 1e6 / bucket_seconds).astype(np.int64)
    if "drop" in entries.column_names:
        drops = pc.fill_null(entries.column("drop").take(pa.array(rows)), "").combine_chunks().dictionary_encode()
        dcode = drops.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    else:
        dcode = np.zeros(rows.size, np.int64)
    tb0 = int(tb.min())
    key = dcode * (int(tb.max()) - tb0 + 1) + (tb - tb0)  # (drop, time bucket) as one integer
    firsts = pa.table({"k": key, "t": ts_us[rows]}).group_by("k").aggregate([("t", "min")]).sort_by("t_min")
    keys = firsts.column("k").to_numpy()  # buckets by their first run
    sorter = np.argsort(keys)
    bucket_of = sorter[np.searchsorted(keys, key, sorter=sorter)]  # each run's bucket, in that order
    flat = pc.list_flatten(paths)
    parents = pc.list_parent_indices(paths).to_numpy(zero_copy_only=False).astype(np.int64)
    valid = pc.is_valid(flat).to_numpy(zero_copy_only=False)
    enc = pc.fill_null(flat, "").dictionary_encode()
    codes = enc.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    names = enc.dictionary.to_pylist()
    width = max(len(names), 1)
    pair = np.sort(parents[valid] * width + codes[valid], kind="stable")  # nearly sorted: runs come in order
    pair = pair[np.concatenate(([True], pair[1:] != pair[:-1]))]  # a branch taken twice in one run counts once
    counts = np.bincount(bucket_of[pair // width] * width + pair % width,
                         minlength=keys.size * width).reshape(keys.size, width).astype(np.float64)
    runs = np.bincount(bucket_of, minlength=keys.size).astype(np.float64)
    starts = (keys % (int(tb.max()) - tb0 + 1) + tb0) * float(bucket_seconds)
    used = np.flatnonzero(counts[:, :len(names)].sum(axis=0) > 0)  # a null decision names no branch
    return starts, runs, [names[j] for j in used], counts[:, used]


def score_buckets(runs: np.ndarray, names: list[str], counts: np.ndarray, state: dict
                  ) -> tuple[np.ndarray, np.ndarray, list[str], dict]:
    """Signed sigma and expected share per (bucket, branch) over the branches seen now or before (NaN while warming
    up), the branch names of the columns, and the new state. Buckets are few: the loop is over buckets, the
    arithmetic over branches is numpy."""
    params = state["params"]
    keep = 1.0 - params["alpha"]
    known = list(state["taken"])
    labels = known + [b for b in names if b not in state["taken"]]
    col = {b: i for i, b in enumerate(labels)}
    x_all = np.zeros((runs.size, len(labels)))
    if names:
        x_all[:, [col[b] for b in names]] = counts
    taken = np.array([state["taken"].get(b, 0.0) for b in labels])
    disp = np.array([state["dispersion"].get(b, 1.0) for b in labels])
    seen = np.array([b in state["taken"] for b in labels])
    n_buckets, total = int(state["n"]), float(state["runs"])
    scores, expected = np.full(x_all.shape, np.nan), np.full(x_all.shape, np.nan)
    for i, n in enumerate(runs):
        x = x_all[i]
        p = (taken + 0.5) / (total + 1.0)
        expected[i] = p
        inflation = (total + 1.0 + n) / (total + 2.0)  # p is estimated: the beta-binomial predictive variance
        if n_buckets >= params["warmup_buckets"] and total >= params["min_runs"] and n > 0:
            scores[i] = tail_sigma(stats.binom(int(n), p), x) / np.sqrt(np.maximum(disp, 1.0) * inflation)
        if n > 0 and n_buckets > 0:  # over-dispersion is learned from buckets scored against a past
            z2 = np.minimum((x - n * p) ** 2 / np.maximum(n * p * (1 - p) * inflation, 1e-12), MAX_DISPERSION_STEP)
            disp = np.where(seen, keep * disp + (1 - keep) * z2, disp)
        taken = x + keep * taken
        total = n + keep * total
        seen |= x > 0
        n_buckets += 1
    new = {**state, "n": n_buckets, "runs": float(total), "taken": dict(zip(labels, taken.tolist())),
           "dispersion": dict(zip(labels, disp.tolist()))}
    return scores, expected, labels, new


def bucket_word(bucket_seconds: float) -> str:
    return {3600.0: "hour", 86400.0: "day", 60.0: "minute"}.get(float(bucket_seconds),
                                                             f"{bucket_seconds / 60:g}-minute bucket")


def explanation(branch: str, share: float, expected: float, score: float, taken: int, runs: int, word: str) -> str:
    """'human_review taken in 31% of runs in this hour, expected 8% (3.4σ above; triage->human_review, 62 of 200
    runs) (branch_rate)'."""
    target = branch.rsplit("->", 1)[-1] or branch
    side = "above" if score >= 0 else "below"
    return (f"{target} taken in {share:.0%} of runs in this {word}, expected {expected:.0%} ({abs(score):.1f}σ "
            f"{side}; {branch}, {taken:,} of {runs:,} runs) ({METRIC})")


def branch_rate_alerts(entries: pa.Table, rows: np.ndarray, ts_us: np.ndarray, seg_state: dict,
                       bucket_seconds: float, threshold: float, mask=None) -> list[dict]:
    """Score one segment's rows; updates seg_state[METRIC]; returns the alerts (|sigma| >= threshold) as dicts
    with ts (epoch us), metric, value (share), expected, score, branch, explanation. `mask` (text -> text) is
    applied to branch names in the explanation (PII never reaches people)."""
    starts, runs, names, counts = bucket_counts(entries, rows, ts_us, bucket_seconds)
    if runs.size == 0:
        return []
    scores, expected, labels, seg_state[METRIC] = score_buckets(
        runs, names, counts, seg_state.get(METRIC) or initial_state())
    col = {b: i for i, b in enumerate(names)}
    word = bucket_word(bucket_seconds)
    out = []
    with np.errstate(invalid="ignore"):
        hits = np.argwhere(np.abs(scores) >= threshold)
    for i, j in hits:
        branch = labels[j]
        taken = int(counts[i, col[branch]]) if branch in col else 0
        share, score, exp = taken / runs[i], float(scores[i, j]), float(expected[i, j])
        shown = mask(branch) if mask else branch
        out.append({"ts": int(starts[i] * 1_000_000), "metric": METRIC, "value": float(share), "expected": exp,
                    "score": score, "branch": shown,
                    "explanation": explanation(shown, share, exp, score, taken, int(runs[i]), word)})
    return out
