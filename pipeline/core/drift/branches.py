"""The `branch_path` drift dimension: how many runs take each workflow branch (`from->to`), baseline vs current.

A categorical dimension (chi-square + Jensen-Shannon distance, like the other mixes) whose counts are runs taking
each branch (a branch taken twice in a run counts once); its summary also holds, per branch, the share of runs
taking it on each side and a pooled two-proportion z, from which the hypothesis names the branch that moved most:
"human_review taken in 31% of runs, was 8% (triage->human_review, z = 5.2)".
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..invariants.pii_mask import for_people
from .model import Dimension
from .stats import two_proportion_z

NAME, GROUP = "branch_path", "workflow"
OTHER = "(other)"


def branch_runs(t: pa.Table) -> tuple[dict[str, int], int]:
    """({branch: runs taking it}, runs with at least one branch decision) of one side."""
    if "branch_path" not in t.column_names or t.num_rows == 0:
        return {}, 0
    col = t.column("branch_path")
    if not pa.types.is_list(col.type) and not pa.types.is_large_list(col.type):
        return {}, 0
    paths = col.combine_chunks()
    runs = int(pc.sum(pc.greater(pc.fill_null(pc.list_value_length(paths), 0), 0)).as_py() or 0)
    flat = pc.list_flatten(paths)
    if len(flat) == 0:
        return {}, runs
    parents = pc.list_parent_indices(paths).to_numpy(zero_copy_only=False).astype(np.int64)
    valid = pc.is_valid(flat).to_numpy(zero_copy_only=False)
    enc = pc.fill_null(flat, "").dictionary_encode()
    codes = enc.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    width = max(len(enc.dictionary), 1)
    pair = np.sort(parents[valid] * width + codes[valid], kind="stable")  # nearly sorted: runs come in order
    pair = pair[np.concatenate(([True], pair[1:] != pair[:-1]))]  # a branch taken twice in one run counts once
    counts = np.bincount(pair % width, minlength=width)
    return {k: int(c) for k, c in zip(enc.dictionary.to_pylist(), counts.tolist()) if c}, runs


def branch_dimension(a: pa.Table, b: pa.Table, max_labels: int = 50) -> Dimension | None:
    """The dimension, or None when neither side has a branch decision."""
    (ca, runs_a), (cb, runs_b) = branch_runs(a), branch_runs(b)
    if not runs_a and not runs_b:
        return None
    order = sorted(set(ca) | set(cb), key=lambda k: (-(ca.get(k, 0) + cb.get(k, 0)), k))
    keep, rest = order[:max_labels], order[max_labels:]
    labels = keep + ([OTHER] if rest else [])
    counts = [np.array([c.get(k, 0) for k in keep] + ([sum(c.get(k, 0) for k in rest)] if rest else []), np.int64)
              for c in (ca, cb)]
    shares_a = {k: (ca.get(k, 0) / runs_a if runs_a else 0.0) for k in keep}
    shares_b = {k: (cb.get(k, 0) / runs_b if runs_b else 0.0) for k in keep}
    z = {k: float(two_proportion_z([runs_a - ca.get(k, 0), ca.get(k, 0)], [runs_b - cb.get(k, 0), cb.get(k, 0)]).statistic)
         for k in keep}
    summary = {"shares_a": shares_a, "shares_b": shares_b, "runs_a": runs_a, "runs_b": runs_b, "z": z,
               "n_a": int(counts[0].sum()), "n_b": int(counts[1].sum())}
    return Dimension(NAME, "categorical", GROUP, labels=labels, a_counts=counts[0], b_counts=counts[1],
                     summary=summary)


def _pct(x: float) -> str:
    return f"{x:.0%}" if x == 0 or x >= 0.01 else f"{x:.1%}"


def branch_sentence(summary: dict) -> str | None:
    """The hypothesis for the branch whose share of runs moved most (largest |z|)."""
    z = summary.get("z") or {}
    if not z:
        return None
    key = max(z, key=lambda k: (abs(z[k]), k))
    a, b = summary["shares_a"].get(key, 0.0), summary["shares_b"].get(key, 0.0)
    branch = str(for_people(key))  # the sentence is written for people
    target = branch.rsplit("->", 1)[-1] or branch
    if a == 0 and b > 0:
        return f"New branch {branch}: {target} taken in {_pct(b)} of runs, never before"
    if b == 0 and a > 0:
        return f"Branch {branch} no longer taken (was {_pct(a)} of runs)"
    return f"{target} taken in {_pct(b)} of runs, was {_pct(a)} ({branch}, z = {z[key]:.1f})"
