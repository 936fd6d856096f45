"""The branch-rate detector: a planted jump in one branch's share is flagged in sigma with a readable explanation,
a stable share stays quiet, state resumes across batches (drops) and the vectorized counting matches a loop."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import numpy as np
import pyarrow as pa
from hypothesis import given, settings, strategies as st

from pipeline.core.detectors.branch_rate import bucket_counts, initial_state, score_buckets
from pipeline.core.detectors.table import detect_anomalies

from .helpers import branch_table


def _branch_alerts(anomalies: pa.Table) -> list[dict]:
    return [r for r in anomalies.to_pylist() if r["metric"] == "branch_rate"]


def test_planted_share_change_is_flagged():
    table = branch_table([0.08] * 6 + [0.31], runs=200, seed=3)
    found, state = detect_anomalies(table, None, bucket_seconds=3600)
    alerts = _branch_alerts(found)
    human = [a for a in alerts if "triage->human_review" in a["explanation"]]
    assert human and all(a["ts"] == datetime(2026, 1, 1, 6, tzinfo=timezone.utc) for a in human)
    a = human[0]
    assert a["score"] > 4 and abs(a["value"] - 0.31) < 0.07 and abs(a["expected"] - 0.08) < 0.03
    assert a["explanation"].startswith(f"human_review taken in {a['value']:.0%} of runs in this hour, expected ")
    assert "σ above" in a["explanation"] and a["severity"] in ("warning", "critical")
    assert a["entry_id"] is None and a["segment"] == "bot|m|-"
    # the other branch lost share at the same time
    assert any("auto_reply" in x["explanation"] and x["score"] < -3 for x in alerts)
    assert json.loads(json.dumps(state))  # JSON state


def test_stable_share_stays_quiet():
    for seed in range(5):
        table = branch_table([0.08] * 12, runs=200, seed=seed)
        found, _ = detect_anomalies(table, None, bucket_seconds=3600)
        assert _branch_alerts(found) == []


def test_state_resumes_across_drops():
    first = branch_table([0.08] * 4, runs=200, seed=1, drop="d1")
    second = branch_table([0.35], runs=200, seed=2, drop="d2", start=datetime(2026, 1, 1, 4, tzinfo=timezone.utc))
    _, state = detect_anomalies(first, None, bucket_seconds=3600)
    found, _ = detect_anomalies(second, json.loads(json.dumps(state)), bucket_seconds=3600)
    assert any("human_review" in a["explanation"] and a["score"] > 4 for a in _branch_alerts(found))
    fresh, _ = detect_anomalies(second, None, bucket_seconds=3600)
    assert _branch_alerts(fresh) == []  # no past: nothing to compare with


def test_two_drops_in_one_hour_are_two_buckets():
    first = branch_table([0.08], runs=300, seed=1, drop="d1")
    second = branch_table([0.40], runs=300, seed=2, drop="d2")
    _, state = detect_anomalies(first, None, bucket_seconds=3600)
    found, _ = detect_anomalies(second, state, bucket_seconds=3600)
    assert any("human_review" in a["explanation"] for a in _branch_alerts(found))


def test_over_dispersion_widens_the_band():
    runs = np.full(10, 200.0)
    counts = np.array([[16.0], [40.0], [10.0], [36.0], [12.0], [44.0], [14.0], [38.0], [16.0], [30.0]])
    scores, _, _, state = score_buckets(runs, ["a->b"], counts, initial_state())
    assert state["dispersion"]["a->b"] > 3  # shares swinging 5%..22% are far wider than binomial
    plain = initial_state()
    plain["n"], plain["runs"], plain["taken"], plain["dispersion"] = 9, 1000.0, {"a->b": 130.0}, {"a->b": 1.0}
    s_plain, _, _, _ = score_buckets(np.array([200.0]), ["a->b"], np.array([[45.0]]), plain)
    wide = dict(plain, dispersion={"a->b": state["dispersion"]["a->b"]})
    s_wide, _, _, _ = score_buckets(np.array([200.0]), ["a->b"], np.array([[45.0]]), wide)
    assert s_plain[0, 0] > 3 > s_wide[0, 0] > 0


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.sampled_from(["a->b", "a->c", "c->d"]), max_size=4), min_size=1, max_size=40),
       st.integers(0, 3))
def test_bucket_counts_match_a_loop(paths, n_drops):
    n = len(paths)
    ts = np.arange(n, dtype=np.int64) * 900_000_000  # 15 minutes apart
    drops = [f"d{i % (n_drops + 1)}" for i in range(n)]
    table = pa.table({"branch_path": pa.array([p or None for p in paths], pa.list_(pa.string())),
                      "drop": pa.array(drops)})
    starts, runs, names, counts = bucket_counts(table, np.arange(n), ts, 3600.0)
    ref: dict[tuple, dict] = {}
    for i, p in enumerate(paths):
        if not p:
            continue
        b = ref.setdefault((drops[i], int(ts[i] // 3_600_000_000)), {"runs": 0})
        b["runs"] += 1
        for name in set(p):
            b[name] = b.get(name, 0) + 1
    assert sorted(runs.tolist()) == sorted(b["runs"] for b in ref.values())
    got = sorted(tuple(sorted((names[j], int(c)) for j, c in enumerate(row) if c)) for row in counts)
    want = sorted(tuple(sorted((k, v) for k, v in b.items() if k != "runs")) for b in ref.values())
    assert got == want
    assert list(starts) == sorted(starts)


def test_explanation_masks_pii_in_branch_names():
    table = branch_table([0.05] * 4 + [0.4], runs=200, seed=3)
    paths = [["router->mail jane.doe@example.com"] if p == ["triage->human_review"] else p
             for p in table.column("branch_path").to_pylist()]
    table = table.set_column(table.schema.get_field_index("branch_path"), "branch_path",
                             pa.array(paths, table.schema.field("branch_path").type))
    found, _ = detect_anomalies(table, None, bucket_seconds=3600)
    alerts = _branch_alerts(found)
    assert alerts and not any("jane.doe" in a["explanation"] for a in alerts)
    assert any(a["explanation"].startswith("mail ") and "taken in" in a["explanation"] for a in alerts)
