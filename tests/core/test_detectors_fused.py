"""The compiled single pass (fused.py) flags the same points with the same scores, expected values and states as
the numpy path (run_series + alerts), for any detector mix, params, policy, direction and resumed state; split
batches resume exactly; and detect_anomalies gives the same table either way."""
from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.core.detectors import AlertPolicy, alert_strength, alerts, combine, detect_anomalies, run_series
from pipeline.core.detectors import fused, table
from pipeline.core.detectors.ensemble import initial_states

pytestmark = pytest.mark.skipif(fused.FAST is None, reason="numba (the fast extra) is not installed")
SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])

value = st.one_of(st.floats(-1e4, 1e4, allow_nan=False, allow_infinity=False), st.sampled_from([0.0, 1.0, 5.0, 5.0]),
                  st.just(math.nan), st.just(math.inf))
series = st.lists(value, min_size=0, max_size=300).map(lambda v: np.array(v, dtype=float))


@st.composite
def setups(draw):
    kinds = draw(st.lists(st.sampled_from(["zscore", "ewma", "cusum", "mad", "iqr"]), min_size=1, max_size=6))
    window = draw(st.integers(2, 40))
    detectors = {}
    for i, kind in enumerate(kinds):
        p = {"kind": kind, "warmup": draw(st.integers(2, 25)), "rel_floor": draw(st.sampled_from([1e-3, 0.0, 0.05]))}
        if kind == "ewma":
            p["alpha"] = draw(st.floats(0.01, 0.9))
        if kind == "cusum":
            p["k"], p["h"] = draw(st.floats(0.0, 1.0)), draw(st.floats(1.0, 15.0))
        if kind in ("mad", "iqr"):
            p["window"] = window
        detectors[f"{kind}{i}"] = p
    names = list(detectors)
    policy = AlertPolicy(threshold=draw(st.floats(1.5, 4.0)), critical=draw(st.sampled_from([4.0, 6.0, math.inf])),
                         quorum=draw(st.integers(1, 5)),
                         confirm=tuple(draw(st.lists(st.sampled_from(names), max_size=2))),
                         alone=tuple(draw(st.lists(st.sampled_from(names), max_size=1))))
    return detectors, policy, draw(st.sampled_from(["both", "up", "down"]))


def numpy_hits(x, states, policy, direction):
    run = run_series(x, state=states)
    combined, _ = combine(run.scores)
    mask = alerts(run.scores, combined, policy, run.names)
    if direction != "both":
        mask &= (combined > 0) if direction == "up" else (combined < 0)
    near = np.abs(alert_strength(run.scores, run.names, policy) - policy.threshold) < 1e-7  # a float's width away
    return run, np.flatnonzero(mask), near


def assert_states_close(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for name in a:
        for key, v in a[name].items():
            w = b[name][key]
            if isinstance(v, float) or isinstance(w, float):
                assert (v is None and w is None) or math.isclose(v, w, rel_tol=1e-9, abs_tol=1e-6), (name, key, v, w)
            else:
                assert v == w, (name, key, v, w)


@SETTINGS
@given(setups(), series, series)
def test_fused_equals_the_numpy_path(setup, prefix, x):
    detectors, policy, direction = setup
    states = run_series(prefix, detectors).state  # a resumed, partly warm state
    run, want, near = numpy_hits(x, states, policy, direction)
    got = fused.score_hits(x, states, policy, direction, min_points=0)
    assert got is not None and got.names == run.names
    differ = np.setxor1d(want, got.rows)
    assert near[differ].all(), (differ, want, got.rows)
    common, iw, ig = np.intersect1d(want, got.rows, return_indices=True)
    np.testing.assert_allclose(got.scores[ig], run.scores[common], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(got.expected[ig], run.expected[common], rtol=1e-9, atol=1e-9)
    assert_states_close(got.state, run.state)


@SETTINGS
@given(setups(), series, st.integers(0, 300))
def test_fused_batches_resume_exactly(setup, x, cut):
    detectors, policy, direction = setup
    states = initial_states(detectors)
    whole = fused.score_hits(x, states, policy, direction, min_points=0)
    first = fused.score_hits(x[:cut], states, policy, direction, min_points=0)
    second = fused.score_hits(x[cut:], first.state, policy, direction, min_points=0)
    np.testing.assert_array_equal(whole.rows, np.concatenate((first.rows, second.rows + min(cut, len(x)))))
    np.testing.assert_array_equal(whole.scores, np.concatenate((first.scores, second.scores)))
    assert whole.state == second.state


def test_unsupported_configurations_fall_back():
    assert fused.score_hits(np.ones(5), initial_states({"ewma": {"scale_floor": 0.5}}), AlertPolicy(),
                            min_points=0) is None
    mixed = initial_states({"mad": {"window": 32}, "iqr": {"window": 64}})
    assert fused.score_hits(np.ones(5), mixed, AlertPolicy(), min_points=0) is None
    assert fused.score_hits(np.ones(5), initial_states(), AlertPolicy()) is None  # short: the numpy path
    assert fused.score_hits(np.ones(500), initial_states(), AlertPolicy()) is not None


def test_detect_anomalies_same_table_with_and_without_the_compiled_pass(monkeypatch):
    from pipeline.core.invariants.synthetic import generate_entries

    entries = generate_entries(20_000, seed=4)
    lat = entries.column("latency_ms").to_numpy(zero_copy_only=False).astype(float).copy()
    lat[::997] *= 30  # some spikes
    entries = entries.set_column(entries.schema.get_field_index("latency_ms"), "latency_ms", pa.array(lat))
    fast, fast_state = detect_anomalies(entries, rates=False)
    monkeypatch.setattr(table, "score_hits", lambda *a, **k: None)
    slow, slow_state = detect_anomalies(entries, rates=False)
    assert fast.num_rows == slow.num_rows >= 20  # 20 of the 21 spikes can be found (row 0 has no history)
    for col in ("entry_id", "metric", "severity", "segment", "explanation"):
        assert fast.column(col).to_pylist() == slow.column(col).to_pylist()
    np.testing.assert_allclose(fast.column("score").to_numpy(), slow.column("score").to_numpy(), rtol=1e-9)
    for segment in fast_state:
        for metric, states in fast_state[segment].items():
            assert_states_close(states, slow_state[segment][metric])
