"""The branch_path drift dimension: a planted human_review jump is significant with the right sentence, a stable mix
is not, and the per-run counts match a plain loop."""
from __future__ import annotations

import re

import pyarrow as pa
from hypothesis import given, settings, strategies as st

from pipeline.core.config import DriftSettings
from pipeline.core.drift.branches import branch_runs
from pipeline.core.drift.engine import diff_entries

from .helpers import branch_table


def _dim(result, name="branch_path"):
    return next(d for d in result.dimensions if d.name == name)


def test_planted_branch_change_is_significant_and_explained():
    before, after = branch_table([0.08] * 3, runs=200, seed=1), branch_table([0.31], runs=200, seed=2, drop="d2")
    result = diff_entries(before, after, DriftSettings(bootstrap=0))
    dim = _dim(result)
    assert dim.significant and dim.test == "chi2" and dim.effect_name == "js_distance" and dim.group == "workflow"
    texts = [h.text for h in result.hypotheses]
    [text] = [t for t in texts if "human_review" in t]
    assert re.fullmatch(r"human_review taken in 3\d% of runs, was [6-9]% \(triage->human_review, z = \d+\.\d\)", text)


def test_stable_branch_mix_is_not_significant():
    before, after = branch_table([0.08] * 3, runs=200, seed=1), branch_table([0.08], runs=200, seed=5, drop="d2")
    result = diff_entries(before, after, DriftSettings(bootstrap=0))
    assert not _dim(result).significant
    assert not any("human_review" in h.text for h in result.hypotheses)


def test_no_branches_no_dimension():
    t = branch_table([0.1], runs=50).drop_columns(["branch_path"])
    result = diff_entries(t, t, DriftSettings(bootstrap=0))
    assert all(d.name != "branch_path" for d in result.dimensions)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.one_of(st.none(), st.lists(st.sampled_from(["a->b", "b->c", "x->y"]), max_size=5)), max_size=30))
def test_branch_runs_match_a_loop(paths):
    counts, runs = branch_runs(pa.table({"branch_path": pa.array(paths, pa.list_(pa.string()))}))
    want: dict[str, int] = {}
    for p in paths:
        for b in set(p or []):
            want[b] = want.get(b, 0) + 1
    assert counts == want and runs == sum(1 for p in paths if p)


def test_hypothesis_masks_pii_in_branch_names():
    def table(share, seed, drop):
        t = branch_table([share], runs=200, seed=seed, drop=drop)
        paths = [["router->mail jane.doe@example.com"] if p == ["triage->human_review"] else p
                 for p in t.column("branch_path").to_pylist()]
        return t.set_column(t.schema.get_field_index("branch_path"), "branch_path", pa.array(paths, t.schema.field("branch_path").type))
    result = diff_entries(table(0.05, 1, "d1"), table(0.4, 2, "d2"), DriftSettings(bootstrap=0))
    texts = " ".join(h.text for h in result.hypotheses)
    assert "taken in" in texts and "jane.doe" not in texts
