"""The drift engine end to end: verdict rules, splitting by a column, the JSON contract and its renderings."""
import json
import math

import pyarrow as pa
import pytest

from pipeline.core.config import DriftVerdict
from pipeline.core.drift.engine import diff_entries, exceeds, split_by, to_dict, verdict
from pipeline.core.drift.model import DimensionResult, DriftResult, Hypothesis
from pipeline.core.drift.render import to_html, to_json, to_markdown, to_text
from pipeline.core.drift.synthetic import drift_corpus


def dim(name, score, significant=True, group="latency"):
    return DimensionResult(name=name, kind="continuous", group=group, test="ks", statistic=0.2, p_value=1e-9,
                           p_adjusted=1e-8, effect=score, effect_name="wasserstein_norm", raw_score=score,
                           score=score if significant else 0.0, weight=2.0, significant=significant, n_a=100, n_b=100)


@pytest.mark.parametrize("score,top,expected", [
    (0.0, None, "SHIP"), (0.01, 0.0, "SHIP"), (0.01, 0.1, "MONITOR"), (0.06, None, "MONITOR"),
    (0.02, 0.35, "REVIEW"), (0.16, None, "REVIEW"), (0.02, 0.85, "BLOCK"), (0.31, None, "BLOCK"),
])
def test_verdict_is_the_stricter_of_score_and_strongest_dimension(score, top, expected):
    dims = [dim("latency_ms", top)] if top else [dim("latency_ms", 0.4, significant=False)]
    assert verdict(DriftResult(score=score, ci=(score, score), dimensions=dims)) == expected


def test_verdict_thresholds_come_from_config():
    r = DriftResult(score=0.1, ci=(0.08, 0.12), dimensions=[dim("x", 0.1)])
    assert verdict(r) == "MONITOR"
    assert verdict(r, DriftVerdict(monitor=0.01, review=0.05, block=0.5)) == "REVIEW"
    assert exceeds("BLOCK", "REVIEW") and exceeds("REVIEW", "REVIEW") and not exceeds("MONITOR", "REVIEW")


def _versions(values, days):
    n = len(values)
    return pa.table({"version": pa.array(values, pa.string()),
                     "ts": pa.array([1_700_000_000_000_000 + d * 86_400_000_000 for d in days], pa.timestamp("us", tz="UTC")),
                     "x": list(range(n))})


def test_split_by_takes_the_two_newest_values_by_recency():
    t = _versions(["v2", "v1", "v3", "v1", None, "v3"], [5, 1, 9, 2, 10, 8])
    a, b, base, cur = split_by(t, "version")
    assert (base, cur) == ("v2", "v3") and a.column("x").to_pylist() == [0] and b.column("x").to_pylist() == [2, 5]
    a, b, base, cur = split_by(t, "version", baseline="v1", current="v2")
    assert a.column("x").to_pylist() == [1, 3] and b.num_rows == 1


def test_split_by_errors_name_the_column_and_the_values():
    t = _versions(["v1", "v1"], [1, 2])
    with pytest.raises(ValueError, match="--by version: need two distinct values"):
        split_by(t, "version")
    with pytest.raises(ValueError, match="no such column or attribute; columns are version, ts, x"):
        split_by(t, "release_train")
    with pytest.raises(ValueError, match="no entries with version = 'v9'; values are v1"):
        split_by(t, "version", baseline="v1", current="v9")


def test_split_by_reads_attributes_then_the_role_a_name_maps_to():
    t = _versions(["v1", "v1", "v2", "v2"], [1, 2, 3, 4]).append_column(
        "attributes", pa.array(['{"prompt_version": "p1"}', '{"prompt_version": "p1"}', '{"prompt_version": "p2"}',
                                "not json"]))
    a, b, base, cur = split_by(t, "prompt_version")  # a field no role took stays in attributes
    assert (base, cur) == ("p1", "p2") and a.num_rows == 2 and b.column("x").to_pylist() == [2]
    plain = _versions(["v1", "v2"], [1, 2])
    a, b, base, cur = split_by(plain, "prompt_version")  # read into the version role by ingest
    assert (base, cur) == ("v1", "v2")


@pytest.fixture(scope="module")
def tool_removed():
    a, b = drift_corpus(8000, seed=3, change="tool_removed")
    return to_dict(diff_entries(a, b, baseline_label="v1 <b>", current_label="v2 <script>alert(1)</script>"))


def test_a_removed_tool_is_explained_and_not_shipped(tool_removed):
    r = tool_removed
    assert r["verdict"] in ("REVIEW", "BLOCK")
    assert r["ci"][0] <= r["score"] <= r["ci"][1]
    assert any("lookup_order" in h["text"] for h in r["hypotheses"])
    sig = {d["name"] for d in r["dimensions"] if d["significant"]}
    assert sig & {"tool_usage", "tool_sequence"}
    json.loads(to_json(r))  # strict JSON: no NaN / Infinity
    assert set(r) >= {"score", "ci", "verdict", "dimensions", "hypotheses", "financial_impact"}
    assert all({"test", "statistic", "p_value", "effect", "score"} <= set(d) for d in r["dimensions"])


def test_renderings_carry_the_same_facts_and_escape_labels(tool_removed):
    r = tool_removed
    text, md, html = to_text(r), to_markdown(r), to_html(r)
    for out in (text, md):
        assert r["verdict"] in out and f"{r['score']:.3f}" in out and r["hypotheses"][0]["text"].split("`")[0] in out
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    assert "<script>" not in md


def test_aa_pair_ships():
    a, b = drift_corpus(8000, seed=5, change=None)
    r = diff_entries(a, b)
    assert r.verdict == "SHIP" and not r.hypotheses and math.isfinite(r.score) and r.score < 0.05
