"""Branch-share invariants: each workflow branch (`from->to` in branch_path) is taken by a stable share of the runs
that make branch decisions, within its Wilson interval widened by a margin ("human_review is taken in 5-11% of
runs"); checked by the one evaluator as `share_between` over non-empty branch paths."""
from __future__ import annotations

from ..model import make_invariant
from ..pii_mask import for_people
from ..registry import register_miner
from ..stats import wilson_interval
from ._common import mapped, pct, value_counts

FAMILY = "statistical"
FIELD = "branch_path"
MIN_SHARE = 0.01  # rarer branches are mostly noise
MAX_BRANCHES = 40
MIN_RUNS = 30
MARGIN = 0.15  # relative widening of the interval: a share this close to its past is no incident


def branch_check(branch: str, lo: float | None = None, hi: float | None = None) -> dict:
    check = {"kind": "share_between", "field": FIELD, "value": branch, "nonempty": True}
    if lo is not None:
        check["min"] = round(lo, 6)
    if hi is not None:
        check["max"] = round(hi, 6)
    return check


def share_range(k: int, n: int, margin: float = MARGIN) -> tuple[float, float]:
    """The Wilson interval of k / n, widened by `margin` of the share on each side, clipped to [0, 1]."""
    lo, hi = wilson_interval(k, n)
    share = k / n
    return max(0.0, lo - margin * share), min(1.0, hi + margin * share)


@register_miner("branches", FAMILY, context=True)
def mine_branches(ctx) -> list:
    if FIELD not in mapped(ctx, (FIELD,)):
        return []
    counts = value_counts(ctx, FIELD, limit=MAX_BRANCHES + 1)
    if not counts or len(counts) > MAX_BRANCHES:
        return []
    checks = [branch_check(value) for value, _ in counts]
    found = []
    for check, (n, k, _) in zip(checks, ctx.evaluator.counts(checks)):
        if n < MIN_RUNS or k / n < MIN_SHARE:
            continue
        lo, hi = share_range(k, n)
        branch = check["value"]
        target = str(for_people(branch.rsplit("->", 1)[-1] or branch))
        found.append(make_invariant(
            FAMILY, branch_check(branch, lo, hi),
            f"{target} is taken in {pct(lo)}-{pct(hi)} of runs ({for_people(branch)}; baseline {pct(k / n)})",
            qualifier=f"branch={branch}", evidence={"observed": k / n, "n": n}))
    return found
