"""What the detectors flag: spikes, sustained shifts, nothing in warm-up, primed starts, false alarm rates,
readable explanations, rates, semantic novelty, and the table function with its resumable state."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from scipy import stats

from pipeline.core.detectors import (AlertPolicy, Baseline, HashingEmbedder, SemanticNovelty, alert_strength,
                                     alerts, combine, detect_anomalies, dumps_state, explain, loads_state,
                                     make_detector, run_series, score_array, score_series, score_texts)

POLICY = AlertPolicy()


def noise(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(100.0, 10.0, n)


def test_ten_sigma_spike_is_critical():
    x = noise(600)
    x[500] = 100.0 + 10 * 10.0
    scores, combined, _ = score_series(x)
    assert combined[500] >= 9
    hits = np.flatnonzero(alerts(scores, combined, POLICY, ["zscore", "ewma", "mad", "iqr", "cusum"]))
    assert 500 in hits and POLICY.severity(combined[500]) == "critical"


def test_sustained_two_sigma_shift_is_caught_by_cusum_not_by_zscore():
    cusum_delay, z_delay, z_rate = [], [], []
    for seed in range(200):
        x = np.random.default_rng(seed).normal(0.0, 1.0, 400)
        x[300:] += 2.0
        cusum = score_array(x, make_detector("cusum").state()).scores[300:]
        z = score_array(x, make_detector("zscore").state()).scores[300:]
        first = lambda hits: hits[0] if hits.size else 10**6  # noqa: E731
        cusum_delay.append(first(np.flatnonzero(cusum >= 3)))
        z_delay.append(first(np.flatnonzero(z >= 3)))
        z_rate.append(np.mean(z[:50] >= 3))
    assert np.median(cusum_delay) <= 5 and np.percentile(cusum_delay, 95) < 10  # caught within ~10 points
    assert np.percentile(z_delay, 90) > 10  # a lone z-score misses it in more than 10% of the runs
    assert np.mean(z_rate) < 0.25  # it only sees the odd point in the upper tail (about 16%)


def test_no_alarms_during_warmup():
    x = noise(200)
    x[:30:3] = 10_000.0  # wild values inside the warm-up
    for kind in ("zscore", "ewma", "cusum", "mad", "iqr"):
        assert np.isnan(score_array(x, make_detector(kind, warmup=30).state()).scores[:30]).all(), kind
    scores, combined, _ = score_series(x)
    assert not alerts(scores, combined, POLICY)[:30].any()


def test_priming_from_a_baseline_skips_warmup():
    base = Baseline.from_values(noise(5_000, seed=1))
    assert base.count == 5_000 and abs(base.median - 100) < 1 and abs(base.std - 10) < 1
    x = noise(50, seed=2)
    x[0] = 200.0
    for kind in ("zscore", "ewma", "cusum", "mad", "iqr"):
        det = make_detector(kind, warmup=30)
        det.prime(base)
        scored = score_array(x, det.state()).scores
        assert not np.isnan(scored).any(), kind
        assert abs(scored[0]) >= 3 if kind != "cusum" else scored[0] >= 3, kind
    assert Baseline.from_dict({"count": 3, "quantiles": {"0.25": 1.0, "0.75": 2.0}}).q75 == 2.0


def test_false_alarm_rate_on_gaussian_noise():
    x = np.random.default_rng(7).normal(size=100_000)
    run = run_series(x)
    theory = 2 * stats.norm.sf(3.0)  # 0.27%
    z_rate = np.nanmean(np.abs(run.scores[:, run.names.index("zscore")]) >= 3)
    assert 0.75 * theory < z_rate < 1.25 * theory
    combined, _ = combine(run.scores)
    ensemble_rate = alerts(run.scores, combined, POLICY, run.names).mean()
    assert ensemble_rate < 0.25 * theory  # about a tenth
    plain_vote = alerts(run.scores, combined, AlertPolicy(quorum=3, confirm=()), run.names).mean()
    union = np.mean(np.nan_to_num(np.abs(combined)) >= 3)
    assert ensemble_rate < plain_vote < union  # every detector alerting alone would be far noisier


def test_alert_strength_is_the_highest_threshold_that_still_alerts():
    rng = np.random.default_rng(11)
    names = ["zscore", "ewma", "mad", "iqr", "cusum"]
    for trial in range(60):
        scores = rng.normal(0, 3, (300, 5))
        scores[rng.random(scores.shape) < 0.1] = np.nan
        policy = AlertPolicy(threshold=float(rng.uniform(1, 4)), critical=float(rng.uniform(4, 9)),
                             quorum=int(rng.integers(1, 4)), confirm=("cusum",) if trial % 2 else ())
        combined, _ = combine(scores)
        np.testing.assert_array_equal(alerts(scores, combined, policy, names),
                                      alert_strength(scores, names, policy) >= policy.threshold)


def test_explanation_names_the_numbers():
    text = explain("latency_ms", 4210.0, 812.0, 7.2, ["zscore", "mad"])
    assert text == "latency_ms 4,210 ms is 7.2σ above the expected 812 ms (zscore, mad agree)"
    assert explain("cost_usd", 0.0003, 0.0012, -3.4, ["cusum"]) == \
        "cost_usd $0.0003 is 3.4σ below the expected $0.0012 (cusum); a sustained shift"


def test_state_json_roundtrip_keeps_non_finite_and_numpy_values():
    state = {"a": {"x": np.float64(1.5), "n": np.int64(3), "v": np.array([1.0, np.nan]), "inf": -np.inf,
                   "none": None}}
    back = loads_state(dumps_state(state))
    assert back["a"]["x"] == 1.5 and back["a"]["n"] == 3 and back["a"]["inf"] == -np.inf
    assert np.isnan(back["a"]["v"][1]) and back["a"]["none"] is None
    with pytest.raises(ValueError):
        loads_state('{"state": {}}')


def test_semantic_novelty_flags_an_off_topic_output():
    rng = np.random.default_rng(3)
    words = "the order shipped today your package will arrive tomorrow thanks for waiting".split()
    texts = [" ".join(rng.choice(words, 8)) for _ in range(300)]
    texts[250] = "Traceback most recent call last KeyError segmentation fault core dumped"
    out = score_texts(texts, SemanticNovelty().state(), HashingEmbedder())
    assert out.scores[250] >= 6 and np.nanmax(np.delete(out.scores, 250)) < 3


def canonical_entries(n: int, seed: int = 0, spike_at: int | None = None) -> pa.Table:
    rng = np.random.default_rng(seed)
    ts = np.datetime64("2025-01-01T00:00:00", "us") + np.sort(rng.integers(0, 86_400 * 10**6, n)).astype(
        "timedelta64[us]")
    latency = rng.lognormal(6.7, 0.2, n)
    if spike_at is not None:
        latency[spike_at] = 40_000.0
    status = np.where(rng.random(n) < 0.01, "error", "ok")
    return pa.table({
        "entry_id": [f"e{i}" for i in range(n)],
        "ts": pa.array(ts).cast(pa.timestamp("us", tz="UTC")),
        "line": np.arange(n, dtype=np.int64),
        "service": rng.choice(["chat", "search"], n), "model": rng.choice(["gpt-4o", "claude"], n),
        "version": ["v1"] * n, "latency_ms": latency, "prompt_tokens": rng.poisson(500, n),
        "completion_tokens": rng.poisson(200, n), "cost_usd": rng.lognormal(-6, 0.3, n), "status": status,
        "output": ["ok " * int(k) for k in rng.integers(1, 5, n)],
        "tool_calls": pa.array([["search"] * int(k) for k in rng.poisson(0.3, n)], pa.list_(pa.string())),
    })


def test_table_of_anomalies_finds_the_spike_and_resumes():
    entries = canonical_entries(8_000, spike_at=6_000)
    anomalies, state = detect_anomalies(entries)
    assert anomalies.column_names == ["ts", "entry_id", "line", "segment", "metric", "value", "expected", "score",
                                      "detectors", "severity", "explanation"]
    spike = anomalies.filter(pc.equal(anomalies["entry_id"], "e6000")).to_pylist()
    assert len(spike) == 1 and spike[0]["metric"] == "latency_ms" and spike[0]["severity"] == "critical"
    assert spike[0]["line"] == 6000 and "40,000 ms" in spike[0]["explanation"]
    assert spike[0]["segment"].count("|") == 2 and set(spike[0]["detectors"]) >= {"zscore", "mad"}
    keys = set(anomalies.to_pandas()[["entry_id", "metric"]].dropna().itertuples(index=False))
    assert len(keys) == anomalies.drop_null().num_rows  # one anomaly per (entry, metric)
    assert anomalies.num_rows < 0.01 * entries.num_rows * 6
    first, mid = detect_anomalies(entries.slice(0, 3_000))
    second, end = detect_anomalies(entries.slice(3_000), loads_state(dumps_state(mid)))
    resumed, order = pa.concat_tables([first, second]), [("ts", "ascending"), ("metric", "ascending")]
    resumed, anomalies = resumed.sort_by(order), anomalies.sort_by(order)
    floats = ["score", "expected"]
    assert resumed.drop_columns(floats).equals(anomalies.drop_columns(floats))
    for col in floats:  # z-score and CUSUM sums differ in the last bits when the shift point moves
        np.testing.assert_allclose(resumed[col].to_numpy(), anomalies[col].to_numpy(), rtol=1e-9)
    assert_close_states(loads_state(dumps_state(end)), state)


def test_segments_on_threads_give_exactly_the_sequential_result(monkeypatch):
    import pipeline.core.detectors.table as table

    entries = canonical_entries(8_000, spike_at=6_000)
    monkeypatch.setattr(table, "PARALLEL_MIN_ROWS", 10**9)
    sequential, seq_state = detect_anomalies(entries)
    monkeypatch.setattr(table, "PARALLEL_MIN_ROWS", 0)
    monkeypatch.setattr(table.os, "cpu_count", lambda: 4)
    threaded, thr_state = detect_anomalies(entries)
    assert threaded.equals(sequential) and dumps_state(thr_state) == dumps_state(seq_state)
    assert len(seq_state) > 1 and sequential.num_rows > 0  # several segments really ran side by side


def assert_close_states(a, b) -> None:
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            assert_close_states(a[k], b[k])
    elif isinstance(a, list):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert_close_states(x, y)
    elif isinstance(a, float):
        assert a == pytest.approx(b, rel=1e-9, abs=1e-9)
    else:
        assert a == b


def test_table_rates_flag_an_error_burst_and_a_traffic_drop():
    entries = canonical_entries(20_000, seed=5)
    ts = entries["ts"].to_numpy()
    burst = (ts >= np.datetime64("2025-01-01T12:00")) & (ts < np.datetime64("2025-01-01T12:30"))
    status = np.where(burst, "error", entries["status"].to_numpy(zero_copy_only=False))
    quiet = (ts >= np.datetime64("2025-01-01T18:00")) & (ts < np.datetime64("2025-01-01T19:00"))
    entries = entries.set_column(entries.schema.get_field_index("status"), "status", pa.array(status))
    entries = entries.filter(pa.array(~quiet))
    anomalies, _ = detect_anomalies(entries, bucket_seconds=600)
    errors = anomalies.filter(pc.equal(anomalies["metric"], "error_rate")).to_pylist()
    assert any(r["ts"].hour == 12 and r["severity"] == "critical" for r in errors)
    drops = anomalies.filter(pc.equal(anomalies["metric"], "request_rate")).to_pylist()
    assert any(r["ts"].hour == 18 and r["score"] <= -3 for r in drops)


def test_table_semantic_novelty_of_outputs():
    entries = canonical_entries(400, seed=9)
    rng = np.random.default_rng(9)
    words = "your order shipped and will arrive tomorrow thanks".split()
    outputs = [" ".join(rng.choice(words, 6)) for _ in range(400)]
    off_topic = int(np.argsort(entries["ts"].to_numpy())[300])
    outputs[off_topic] = "Traceback KeyError segmentation fault core dumped kernel panic"
    entries = entries.set_column(entries.schema.get_field_index("output"), "output", pa.array(outputs))
    anomalies, state = detect_anomalies(entries, segment_columns=(), embedder=HashingEmbedder())
    novel = anomalies.filter(pc.equal(anomalies["metric"], "output_semantic")).to_pylist()
    assert [r["entry_id"] for r in novel] == [f"e{off_topic}"] and novel[0]["value"] > 0.5
    assert "semantic" in novel[0]["explanation"] and state["all"]["output_semantic"]["kind"] == "semantic"


def test_detectors_never_import_dagster():
    code = "import sys, pipeline.core.detectors, pipeline.core.nab_scoring; print('dagster' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
