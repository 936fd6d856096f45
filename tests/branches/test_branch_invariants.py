"""Branch-share invariants: mined from a stable baseline ("human_review is taken in a-b% of runs"), holding on
another stable sample and violated by a planted jump; shares are over runs that make branch decisions."""
from __future__ import annotations

import re

import pyarrow as pa

from pipeline.core.invariants import discover
from pipeline.core.invariants.evaluator import evaluate

from .helpers import branch_table


def _human(invariants):
    return next(i for i in invariants if i.check.get("field") == "branch_path"
                and i.check.get("value") == "triage->human_review")


def test_branch_share_is_mined_holds_and_is_violated():
    baseline = branch_table([0.08] * 3, runs=200, seed=1)
    inv = _human(discover(baseline, families=["statistical"]))
    assert inv.check["kind"] == "share_between" and inv.check["nonempty"] is True
    assert 0.02 < inv.check["min"] < inv.evidence["observed"] < inv.check["max"] < 0.13
    assert re.fullmatch(r"human_review is taken in \d+\.\d%-\d+\.\d% of runs \(triage->human_review; "
                        r"baseline \d+\.\d%\)", inv.description)
    assert evaluate(inv.check, branch_table([0.08] * 2, runs=200, seed=9)).holds
    changed = evaluate(inv.check, branch_table([0.31] * 2, runs=200, seed=9))
    assert not changed.holds and changed.evidence["share"] > 0.25


def test_runs_without_decisions_do_not_dilute_the_share():
    t = branch_table([0.10] * 2, runs=200, seed=4)
    empty = t.slice(0, 200).set_column(t.schema.get_field_index("branch_path"), "branch_path",
                                       pa.array([[]] * 200, pa.list_(pa.string())))
    inv = _human(discover(pa.concat_tables([t, empty]), families=["statistical"]))
    assert 0.05 < inv.evidence["observed"] < 0.15


def test_no_branch_column_no_invariant():
    t = branch_table([0.1], runs=100).drop_columns(["branch_path"])
    assert not [i for i in discover(t, families=["statistical"]) if i.check.get("field") == "branch_path"]
