"""Reference (per-event) and vectorized detectors give the same scores, NaN positions and states; states survive
JSON and resume exactly; warm-up, constant series, MAD = 0, skipped NaNs and priming included."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.core.detectors import (REGISTRY, Baseline, ErrorRate, RequestRate, SemanticNovelty, bucketize,
                                     dumps_state, error_rate_scores, loads_state, make_detector,
                                     request_rate_scores, restore_detector, score_array, semantic_scores)

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
RTOL = ATOL = 1e-9
NUMERIC = ("zscore", "ewma", "cusum", "mad", "iqr")
BITWISE = ("ewma", "mad", "iqr")  # same float operations in the same order: identical, not just close

value = st.one_of(
    st.floats(-1e4, 1e4, allow_nan=False, allow_infinity=False),
    st.sampled_from([0.0, 1.0, 5.0, 5.0, 5.0]),  # ties: MAD = 0 and flat stretches
    st.just(math.nan),
    st.just(math.inf),
)
series = st.lists(value, min_size=0, max_size=160).map(lambda v: np.array(v, dtype=float))
constant = st.tuples(st.floats(-1e3, 1e3, allow_nan=False), st.integers(0, 120)).map(lambda t: np.full(t[1], t[0]))


@st.composite
def params(draw, kind: str) -> dict:
    p = {"warmup": draw(st.integers(2, 25))}
    if kind == "ewma":
        p["alpha"] = draw(st.floats(0.01, 0.9))
    if kind == "cusum":
        p["k"], p["h"] = draw(st.floats(0.0, 1.0)), draw(st.floats(1.0, 8.0))
    if kind in ("mad", "iqr"):
        p["window"] = draw(st.integers(2, 40))
    if kind in BITWISE:
        p["scale_floor"] = draw(st.sampled_from([0.0, 0.0, 0.1, 0.5]))
    return p


def exact(kind: str, p: dict) -> bool:
    """Bit-identical unless the long-run floor (cumulative sums vs Welford) is in play."""
    return kind in BITWISE and not p.get("scale_floor")


def reference_run(det, values) -> np.ndarray:
    return np.array([det.update(float(v)) for v in values], dtype=float)


def assert_same_scores(ref: np.ndarray, vec: np.ndarray, exact: bool = False) -> None:
    np.testing.assert_array_equal(np.isnan(ref), np.isnan(vec))
    if exact:
        np.testing.assert_array_equal(ref, vec)
    else:
        np.testing.assert_allclose(ref, vec, rtol=RTOL, atol=ATOL)


def assert_same_state(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key in a:
        if isinstance(a[key], float):
            assert math.isclose(a[key], b[key], rel_tol=1e-9, abs_tol=1e-9), key
        else:
            assert a[key] == b[key], key


def json_roundtrip(state: dict) -> dict:
    return loads_state(dumps_state(state))


@pytest.mark.parametrize("kind", NUMERIC)
@SETTINGS
@given(data=st.data(), values=st.one_of(series, constant))
def test_reference_equals_vectorized(kind, data, values):
    p = data.draw(params(kind))
    det = make_detector(kind, **p)
    ref = reference_run(det, values)
    out = score_array(values, make_detector(kind, **p).state())
    assert_same_scores(ref, out.scores, exact=exact(kind, p))
    assert np.isnan(out.scores[~np.isfinite(values)]).all()  # non-numbers are skipped
    warm = np.flatnonzero(np.isfinite(values))[: p["warmup"]]
    assert np.isnan(out.scores[warm]).all()  # no score during warm-up
    assert_same_state(det.state(), out.state)


@pytest.mark.parametrize("kind", NUMERIC)
@SETTINGS
@given(data=st.data(), values=series, cut=st.floats(0, 1))
def test_split_and_resume_equals_one_shot(kind, data, values, cut):
    p = data.draw(params(kind))
    k = int(cut * values.size)
    fresh = make_detector(kind, **p).state()
    whole = score_array(values, fresh)
    first = score_array(values[:k], fresh)
    second = score_array(values[k:], json_roundtrip(first.state))
    assert_same_scores(whole.scores, np.concatenate((first.scores, second.scores)), exact=exact(kind, p))
    assert_same_state(whole.state, second.state)
    # the per-event reference resumes bit for bit, and its state feeds the vectorized twin
    det = make_detector(kind, **p)
    one_shot = reference_run(det, values)
    head = make_detector(kind, **p)
    a = reference_run(head, values[:k])
    b = reference_run(restore_detector(json_roundtrip(head.state())), values[k:])
    np.testing.assert_array_equal(one_shot, np.concatenate((a, b)))
    handed_over = score_array(values[k:], json_roundtrip(head.state()))
    assert_same_scores(b, handed_over.scores, exact=exact(kind, p))


@pytest.mark.parametrize("kind", NUMERIC)
@SETTINGS
@given(data=st.data(), values=series, base=st.lists(st.floats(-100, 100), min_size=2, max_size=50))
def test_primed_detectors_agree(kind, data, values, base):
    p = data.draw(params(kind))
    baseline = Baseline.from_values(np.array(base))
    det = make_detector(kind, **p)
    det.prime(baseline)
    start = det.state()
    ref = reference_run(det, values)
    assert_same_scores(ref, score_array(values, start).scores, exact=exact(kind, p))
    if baseline.count >= p["warmup"] and values.size and np.isfinite(values[0]):
        assert not np.isnan(ref[0])  # a primed detector scores from the first point


counts = st.lists(st.integers(0, 60), min_size=0, max_size=80).map(lambda v: np.array(v, dtype=float))


@SETTINGS
@given(values=counts, warmup=st.integers(2, 10), alpha=st.floats(0.02, 0.8), cut=st.floats(0, 1))
def test_request_rate_equivalence(values, warmup, alpha, cut):
    det = RequestRate(alpha=alpha, warmup=warmup)
    ref = reference_run(det, values)
    out = request_rate_scores(values, RequestRate(alpha=alpha, warmup=warmup).state())
    assert_same_scores(ref, out.scores, exact=True)
    assert_same_state(det.state(), out.state)
    k = int(cut * values.size)
    first = request_rate_scores(values[:k], RequestRate(alpha=alpha, warmup=warmup).state())
    second = request_rate_scores(values[k:], json_roundtrip(first.state))
    assert_same_scores(out.scores, np.concatenate((first.scores, second.scores)), exact=True)


@SETTINGS
@given(data=st.lists(st.tuples(st.integers(0, 80), st.floats(0, 1)), max_size=80),
       warmup=st.integers(2, 10), alpha=st.floats(0.02, 0.8))
def test_error_rate_equivalence(data, warmup, alpha):
    req = np.array([r for r, _ in data], dtype=float)
    err = np.floor(req * np.array([f for _, f in data]))
    det = ErrorRate(alpha=alpha, warmup=warmup)
    ref = np.array([det.update(int(r), int(e)) for r, e in zip(req, err)], dtype=float)
    out = error_rate_scores(req, err, ErrorRate(alpha=alpha, warmup=warmup).state())
    assert_same_scores(ref, out.scores, exact=True)
    assert_same_state(det.state(), out.state)


@SETTINGS
@given(gaps=st.lists(st.floats(0, 900), min_size=1, max_size=200), errors=st.lists(st.booleans(), min_size=200),
       cut=st.floats(0, 1))
def test_bucketize_resumes(gaps, errors, cut):
    ts = 1_700_000_000 + np.cumsum(gaps)
    flags = np.array(errors[: ts.size])
    k = int(cut * ts.size)
    whole = bucketize(ts, flags, 60.0)
    a = bucketize(ts[:k], flags[:k], 60.0)
    b = bucketize(ts[k:], flags[k:], 60.0, json_roundtrip({"o": a[3]})["o"])
    for i in range(3):
        np.testing.assert_array_equal(whole[i], np.concatenate((a[i], b[i])))
    assert whole[3] == b[3]
    assert whole[1].sum() + whole[3]["requests"] == ts.size


unit_rows = st.integers(0, 60).flatmap(lambda n: st.lists(
    st.lists(st.floats(-1, 1), min_size=6, max_size=6), min_size=n, max_size=n))


@SETTINGS
@given(rows=unit_rows, warmup=st.integers(2, 15), alpha=st.floats(0.02, 0.5), threshold=st.floats(0.5, 3.0),
       cut=st.floats(0, 1))
def test_semantic_equivalence(rows, warmup, alpha, threshold, cut):
    emb = np.array(rows, dtype=float).reshape(len(rows), 6)
    norms = np.linalg.norm(emb, axis=1, keepdims=True)
    emb = np.where(norms > 1e-3, emb / np.where(norms > 1e-3, norms, 1), 0.0)
    p = {"warmup": warmup, "alpha": alpha, "threshold": threshold}
    det = SemanticNovelty(**p)
    ref = np.array([det.update(v) for v in emb], dtype=float)
    out = semantic_scores(emb, SemanticNovelty(**p).state())
    assert_same_scores(ref, out.scores)
    k = int(cut * len(emb))
    first = semantic_scores(emb[:k], SemanticNovelty(**p).state())
    second = semantic_scores(emb[k:], json_roundtrip(first.state))
    assert_same_scores(out.scores, np.concatenate((first.scores, second.scores)))


def test_registry_covers_every_detector():
    assert set(NUMERIC) | {"request_rate", "error_rate", "semantic"} == set(REGISTRY)
    for kind, entry in REGISTRY.items():
        assert entry.reference.kind == kind
