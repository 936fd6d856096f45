"""Baselines over numeric attribute fields, and detectors primed from stored baselines score from the first event."""
import json

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.core.baselines import compute_baselines
from pipeline.core.detectors import METRICS, detect_anomalies, primed_state
from pipeline.core.detectors.priming import detector_scale_baseline
from pipeline.core.invariants.synthetic import generate_entries


def _with_attributes(t: pa.Table, attrs: list) -> pa.Table:
    return t.set_column(t.schema.get_field_index("attributes"), "attributes", pa.array(attrs, pa.string()))


def test_numeric_attribute_fields_become_metrics():
    t = generate_entries(1000, seed=0)
    attrs = [json.dumps({"queue_ms": i % 50, "tag": "x", "mixed": i if i % 2 else "n/a", "we\"ird": 1,
                         "nested": {"a": 1}}) for i in range(999)] + ["not json {"]
    b = compute_baselines(_with_attributes(t, attrs))
    metrics = set(b.column("metric").to_pylist())
    assert "attr.queue_ms" in metrics
    assert not {"attr.tag", "attr.mixed", "attr.nested", 'attr.we"ird'} & metrics
    (row,) = [r for r in b.to_pylist() if r["segment"] == "all" and r["metric"] == "attr.queue_ms"]
    expected = np.arange(999) % 50
    assert row["count"] == 999 and np.isclose(row["mean"], expected.mean()) and row["max"] == 49


def test_no_attributes_column_or_all_null_is_fine():
    t = generate_entries(300, seed=1)
    b = compute_baselines(_with_attributes(t, [None] * 300))
    assert not any(m.startswith("attr.") for m in b.column("metric").to_pylist())
    assert {"latency_ms", "cost_usd"} <= set(b.column("metric").to_pylist())


def test_log_scale_baseline_keeps_quantiles_exactly():
    row = {"count": 100, "mean": 900.0, "std": 300.0, "median": 800.0, "mad": 150.0, "p25": 650.0, "p75": 1000.0}
    base = detector_scale_baseline(row, METRICS["latency_ms"])
    assert np.isclose(base.median, np.log(801.0)) and np.isclose(base.q25, np.log(651.0))
    assert np.isclose(base.std, (np.log(1001.0) - np.log(651.0)) / 1.349)
    assert detector_scale_baseline({**row, "count": 1}, METRICS["latency_ms"]) is None
    assert detector_scale_baseline({**row, "median": None}, METRICS["latency_ms"]) is None


def test_primed_detectors_catch_a_spike_on_the_first_event():
    history = generate_entries(6000, seed=2, start="2025-01-06", days=3.0)
    today = generate_entries(400, seed=3, start="2025-01-09", days=0.2)
    today = today.take(pc.sort_indices(today, [("ts", "ascending")]))
    seg = pc.binary_join_element_wise(*[pc.fill_null(today.column(c), "-") for c in ("service", "model", "version")], "|")
    status = pc.fill_null(today.column("status"), "ok").to_pylist()
    first = next(i for i in range(today.num_rows) if status[i] != "error")
    lat = today.column("latency_ms").to_pylist()
    lat[first] *= 40
    today = today.set_column(today.schema.get_field_index("latency_ms"), "latency_ms", pa.array(lat, pa.float64()))

    cold, _ = detect_anomalies(today, None, rates=False)
    state = primed_state(compute_baselines(history).to_pylist())
    warm, _ = detect_anomalies(today, state, rates=False)
    spike_id = today.column("entry_id")[first].as_py()
    hits = lambda found: [r for r in found.to_pylist() if r["entry_id"] == spike_id and r["metric"] == "latency_ms"]  # noqa: E731
    assert hits(cold) == []  # inside the warm-up: nothing to compare with
    (hit,) = hits(warm)
    assert hit["severity"] == "critical" and hit["segment"] == seg[first].as_py()
    median = float(np.median([v for v, s in zip(history.column("latency_ms").to_pylist(),
                                                 pc.binary_join_element_wise(*[pc.fill_null(history.column(c), "-") for c in ("service", "model", "version")], "|").to_pylist())
                              if s == hit["segment"] and v is not None]))
    assert 0.5 * median < hit["expected"] < 2.0 * median
    assert "all" not in state and all(set(m) <= set(METRICS) for m in state.values())
