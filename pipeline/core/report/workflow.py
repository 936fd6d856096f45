"""The report's workflow section: the share of runs taking each branch (`from->to` in branch_path) in the latest
drop ("now") against the earlier entries of the chart window ("before"), strongest move first; branch names pass
through the one masking function for people."""
from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from ..drift.branches import branch_runs
from ..invariants.pii_mask import for_people

MAX_BRANCHES = 12


def _split(entries: pa.Table) -> tuple[pa.Table, pa.Table, str]:
    """(before, now, what now is): the latest drop (by its first timestamp) against the rest."""
    if "drop" in entries.column_names and "ts" in entries.column_names and entries.column("drop").null_count < len(entries):
        firsts = entries.group_by("drop").aggregate([("ts", "min")]).sort_by([("ts_min", "descending")])
        latest = firsts.column("drop")[0].as_py()
        if firsts.num_rows > 1 and latest is not None:
            is_now = pc.fill_null(pc.equal(entries.column("drop"), latest), False)
            return entries.filter(pc.invert(is_now)), entries.filter(is_now), f"drop {latest}"
    return entries.slice(0, 0), entries, "all entries"


def workflow_section(entries: pa.Table | None) -> dict:
    """{"computed", "now_label", "runs_before", "runs_now", "branches": [{branch, before, now, delta}]};
    not computed when no entry carries a branch decision."""
    if entries is None or "branch_path" not in entries.column_names:
        return {"computed": False}
    before, now, label = _split(entries)
    (cb, runs_b), (cn, runs_n) = branch_runs(before), branch_runs(now)
    if not runs_b and not runs_n:
        return {"computed": False}
    rows = []
    for branch in set(cb) | set(cn):
        share_b = cb.get(branch, 0) / runs_b if runs_b else None
        share_n = cn.get(branch, 0) / runs_n if runs_n else None
        delta = share_n - share_b if share_b is not None and share_n is not None else None
        rows.append({"branch": str(for_people(branch)), "before": share_b, "now": share_n, "delta": delta})
    rows.sort(key=lambda r: (-abs(r["delta"] or 0.0), -((r["now"] or 0.0) + (r["before"] or 0.0)), r["branch"]))
    return {"computed": True, "now_label": str(for_people(label)), "runs_before": runs_b, "runs_now": runs_n,
            "branches": rows[:MAX_BRANCHES], "more": max(0, len(rows) - MAX_BRANCHES)}
