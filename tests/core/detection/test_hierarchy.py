"""Hierarchical priming: a model that appears mid-stream is scored from its first request (from its parent's
state), its appearance is an event, and segments split by operation when the log names one."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pyarrow as pa

from pipeline.core.detectors.hierarchy import effective_columns, parent_of
from pipeline.core.detectors.table import detect_anomalies

T0 = datetime(2026, 1, 5, tzinfo=timezone.utc)


def stream(n: int, switch_at: int | None, seed: int = 0, operation: bool = False) -> pa.Table:
    rng = np.random.default_rng(seed)
    model = np.array(["gpt-4o-mini"] * n, dtype=object)
    cost = rng.lognormal(np.log(0.0004), 0.25, n)
    if switch_at is not None:
        model[switch_at:] = "gpt-4o"
        cost[switch_at:] *= 16
    cols = {"ts": pa.array([T0 + timedelta(seconds=20 * i) for i in range(n)], pa.timestamp("us", tz="UTC")),
            "entry_id": [f"e{i}" for i in range(n)], "service": ["support"] * n, "model": list(model),
            "version": ["v12"] * n, "cost_usd": cost, "latency_ms": rng.lognormal(np.log(900), 0.3, n)}
    if operation:
        cols["operation"] = list(np.where(np.arange(n) % 4 == 0, "triage", "answer"))
    return pa.table(cols)


def test_parent_shares_service_and_operation():
    cols = ["service", "model", "version", "operation"]
    cands = ["support|gpt-4o-mini|v12|answer", "support|gpt-4o-mini|v12|triage", "billing|gpt-4o|v12|answer"]
    assert parent_of("support|gpt-4o|v12|answer", cands, cols) == "support|gpt-4o-mini|v12|answer"
    assert parent_of("support|gpt-4o|v13|triage", cands, cols) == "support|gpt-4o-mini|v12|triage"
    assert parent_of("search|gpt-4o|v12|answer", cands, cols) is None


def test_new_model_mid_stream_is_scored_at_once_and_announced():
    anomalies, _ = detect_anomalies(stream(6000, 4000), rates=False)
    rows = anomalies.to_pylist()
    (event,) = [r for r in rows if r["metric"] == "new_segment"]
    assert event["entry_id"] == "e4000" and "support|gpt-4o-mini|v12" in event["explanation"]
    early_cost = [r for r in rows if r["metric"] == "cost_usd" and r["segment"] == "support|gpt-4o|v12"
                  and int(r["entry_id"][1:]) < 4010]
    assert len(early_cost) >= 5  # the 16x cost jump is flagged on the first requests
    cold, _ = detect_anomalies(stream(6000, 4000), rates=False, prime_new_segments=False)
    assert not [r for r in cold.to_pylist() if r["metric"] == "cost_usd" and int(r["entry_id"][1:]) < 4010]


def test_same_models_from_the_start_are_not_primed_from_each_other():
    t = stream(4000, None)
    both = t.set_column(t.schema.get_field_index("model"), "model",
                        pa.array(np.where(np.arange(4000) % 2 == 0, "gpt-4o-mini", "gpt-4o")))
    anomalies, _ = detect_anomalies(both, rates=False)
    assert "new_segment" not in anomalies.column("metric").to_pylist()


def test_operation_is_a_segment_part_when_present():
    t = stream(800, None, operation=True)
    assert effective_columns(t, ("service", "model", "version")) == ["service", "model", "version", "operation"]
    _, state = detect_anomalies(t, rates=False)
    assert set(state) == {"support|gpt-4o-mini|v12|triage", "support|gpt-4o-mini|v12|answer"}
    plain = stream(800, None)
    assert effective_columns(plain, ("service", "model", "version")) == ["service", "model", "version"]


def test_segments_configurable_in_strata_yml(tmp_path):
    from pipeline.core.config import load_config
    from pipeline.core.watch import segment_options

    cfg_file = tmp_path / "strata.yml"
    cfg_file.write_text("segments:\n  optional: []\n  prime_new: false\n", encoding="utf-8")
    opts = segment_options(load_config(cfg_file))
    assert opts == {"segment_columns": ("service", "model", "version"), "optional_segment_columns": (),
                    "prime_new_segments": False}
    _, state = detect_anomalies(stream(800, None, operation=True), rates=False, **opts)
    assert set(state) == {"support|gpt-4o-mini|v12"}


def lengths_stream(n: int, seed: int, spikes: int = 0) -> tuple[pa.Table, list[str]]:
    """Answers of 30-1,500 tokens, latency = TTFT + tokens x per-token time; spikes: x8 on short answers."""
    rng = np.random.default_rng(seed)
    tokens = rng.integers(30, 1500, n)
    latency = rng.lognormal(np.log(400), 0.2, n) + tokens * rng.lognormal(np.log(18), 0.1, n)
    short = np.flatnonzero(tokens < 80)
    hit = short[short > n // 2][:spikes]
    latency[hit] *= 8
    t = pa.table({"ts": pa.array([T0 + timedelta(seconds=20 * i) for i in range(n)], pa.timestamp("us", tz="UTC")),
                  "entry_id": [f"e{i}" for i in range(n)], "service": ["s"] * n, "model": ["m"] * n,
                  "version": ["v"] * n, "latency_ms": latency, "completion_tokens": tokens})
    return t, [f"e{i}" for i in hit]


def test_latency_is_judged_against_output_length():
    t, spiked = lengths_stream(6000, 0, spikes=8)
    anomalies, state = detect_anomalies(t, rates=False)
    lat = [r for r in anomalies.to_pylist() if r["metric"] == "latency_ms"]
    assert set(spiked) <= {r["entry_id"] for r in lat}  # a slow short answer: 8/8 flagged
    assert 0 < state["s|m|v"]["latency_length"]["fit"]["k"] < 60  # TTFT ~400 ms at ~18 ms per token: k ~ 22
    row = next(r for r in lat if r["entry_id"] == spiked[0])
    assert row["value"] > 3 * row["expected"]  # reported in ms, against the latency expected for that length
    long_ids = set(np.asarray(t.column("entry_id"))[np.asarray(t.column("completion_tokens")) > 1400])
    assert not long_ids & {r["entry_id"] for r in lat}  # the slowest raw latencies are long answers: not flagged
