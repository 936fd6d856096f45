"""Sigma-equivalent calibration (close to scipy's exact t -> z, never louder than the raw score, right false-alarm
rates on Gaussian noise) and the default ensemble's rules: quorum of four with CUSUM, the `shift` detector alone
on sustained shifts, and states saved before `shift` existed."""
from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from pipeline.core.detectors import DEFAULT_DETECTORS, AlertPolicy, alert_strength, alerts, combine, make_detector, run_series
from pipeline.core.detectors.calibration import calibration, seen_before, sigma_equivalent
from pipeline.core.detectors.ensemble import initial_states, resume_states


@settings(max_examples=300, deadline=None)
@given(st.floats(-20, 20, allow_nan=False), st.floats(10, 2_000))
def test_wallace_matches_scipy_exact_t_to_z(t, dof):
    exact = -stats.norm.ppf(stats.t.sf(abs(t), dof))  # the normal quantile with t's upper tail probability
    z = sigma_equivalent(np.array([abs(t)]), dof)[0]
    assert abs(z - exact) <= 0.007 * max(exact, 1.0)  # within 0.7%
    assert math.copysign(1.0, sigma_equivalent(np.array([t]), dof)[0]) == math.copysign(1.0, t)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=2, max_size=40), st.floats(1, 1e6))
def test_calibrated_is_monotone_and_never_louder(ts, dof):
    t = np.sort(np.array(ts))
    z = sigma_equivalent(t, dof)
    assert np.all(np.abs(z) <= np.abs(t) + 1e-12)
    assert np.all(np.diff(z) >= -1e-12)


def test_nan_stays_nan_and_large_dof_is_the_identity():
    z = sigma_equivalent(np.array([np.nan, 3.0, -6.0]), 1e9)
    assert np.isnan(z[0]) and abs(z[1] - 3.0) < 1e-3 and abs(z[2] + 6.0) < 1e-3


def test_degrees_of_freedom_per_detector():
    seen = seen_before(np.array([1.0, np.nan, 2.0, 3.0]), 10)
    assert seen.tolist() == [10, 11, 11, 12]  # NaN is not learned
    dof, factor = calibration(make_detector("mad", window=64).state(), np.array([500.0]))
    assert abs(dof[0] - 0.37 * 64) < 1e-9 and abs(factor[0] - math.sqrt(1 + math.pi / 2 / 64)) < 1e-12
    dof, _ = calibration(make_detector("ewma", alpha=0.05).state(), np.array([10.0, 10_000.0]))
    assert dof.tolist() == [9.0, 38.0]  # an EWMA of weight 0.05 is about 39 points
    assert calibration(make_detector("cusum").state(), np.array([100.0])) is None


def test_calibration_restores_the_normal_false_alarm_rate_of_windowed_detectors():
    x = np.random.default_rng(3).normal(size=200_000)
    theory = 2 * stats.norm.sf(3.0)  # 0.27%
    raw = run_series(x, ("mad", "iqr", "ewma"), calibrate=False)
    cal = run_series(x, ("mad", "iqr", "ewma"))
    for j, name in enumerate(cal.names):
        raw_rate = np.nanmean(np.abs(raw.scores[:, j]) >= 3)
        cal_rate = np.nanmean(np.abs(cal.scores[:, j]) >= 3)
        assert raw_rate > 1.4 * theory, (name, raw_rate)  # a 64-point window's "3 sigma" is t-distributed
        assert 0.6 * theory < cal_rate < 1.3 * theory, (name, cal_rate)


def test_default_ensemble_is_quiet_on_gaussian_noise():
    x = np.random.default_rng(5).normal(size=400_000)
    run = run_series(x)
    combined, _ = combine(run.scores)
    rate = alerts(run.scores, combined, AlertPolicy(), run.names).mean()
    assert rate < 1e-4  # measured about 1 point in 18,000; a lone 3-sigma z-score alerts on 1 in 370


def test_shift_detector_alone_flags_a_sustained_one_sigma_shift():
    delays = []
    for seed in range(40):
        x = np.random.default_rng(seed).normal(size=1_500)
        x[1_000:] += 1.0
        run = run_series(x)
        combined, _ = combine(run.scores)
        hits = np.flatnonzero(alerts(run.scores, combined, AlertPolicy(), run.names)[1_000:])
        delays.append(hits[0] if hits.size else 10**6)
        shift = run.scores[1_000:, run.names.index("shift")]
        assert np.nanmax(shift) >= 3  # the shift detector reaches the threshold on its own
    assert np.median(delays) <= 30 and np.percentile(delays, 90) <= 60


def test_alone_detectors_in_alert_strength():
    rng = np.random.default_rng(2)
    names = ["zscore", "ewma", "mad", "iqr", "cusum", "shift"]
    for trial in range(60):
        scores = rng.normal(0, 3, (300, 6))
        scores[rng.random(scores.shape) < 0.1] = np.nan
        policy = AlertPolicy(threshold=float(rng.uniform(1, 4)), critical=float(rng.uniform(4, 9)),
                             quorum=int(rng.integers(1, 6)), alone=("shift",) if trial % 3 else ())
        combined, _ = combine(scores)
        np.testing.assert_array_equal(alerts(scores, combined, policy, names),
                                      alert_strength(scores, names, policy) >= policy.threshold)


def test_a_state_saved_before_shift_existed_gains_it_warm():
    x = np.random.default_rng(9).normal(100, 5, 600)
    old = run_series(x[:500], ("zscore", "ewma", "mad", "iqr", "cusum")).state
    states = resume_states(old)
    assert set(states) == {"zscore", "ewma", "mad", "iqr", "cusum", "shift"}
    assert states["shift"]["n"] == old["zscore"]["n"] == 500 and states["shift"]["params"]["h"] == 14.0
    assert states["shift"]["mean"] == old["zscore"]["mean"] and states["shift"]["hi"] == 0.0
    run = run_series(x[500:], DEFAULT_DETECTORS, state=old)  # as detect_anomalies resumes a saved state
    assert not np.isnan(run.scores[:, run.names.index("shift")]).any()  # scores from the first new point
    assert run_series(x[500:], state=old).names == list(old)  # a state alone is taken as it is
    assert list(resume_states(None)) == list(initial_states())
