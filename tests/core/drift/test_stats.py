"""The drift statistics equal scipy's on random and adversarial data, and degrade to "insufficient" instead of
raising or returning NaN."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from scipy.spatial.distance import jensenshannon

from pipeline.core.drift.model import Dimension
from pipeline.core.drift.stats import (
    benjamini_hochberg, chi2_homogeneity, cohens_h, continuous_test, counts_test, dimension_test, js_distance,
    ks_test, kstwo_sf, psi_continuous, psi_counts, two_proportion_z, wasserstein_norm,
)

RTOL = 1e-9


def close(x, y, rtol=RTOL):
    """Relative equality; below 1e-300 (denormal p-values) both count as zero."""
    x, y = float(x), float(y)
    return abs(x - y) <= rtol * max(abs(x), abs(y)) or max(abs(x), abs(y)) < 1e-300


def reference_scale(a):
    """The robust scale written out independently: scipy's normal-consistent MAD, IQR/1.349, std, |mean|, 1.0."""
    mad = stats.median_abs_deviation(a, scale="normal")
    if mad > 0:
        return mad
    q1, q3 = np.percentile(a, [25, 75])
    if q3 > q1:
        return (q3 - q1) / 1.349
    return np.std(a) if np.std(a) > 0 else abs(np.mean(a)) or 1.0


def _continuous_cases():
    rng = np.random.default_rng(7)
    return {
        "normal_small_exact": (rng.normal(size=25), rng.normal(0.5, 1, size=30)),
        "normal_mid": (rng.normal(size=500), rng.normal(0.1, 1.2, size=700)),
        "lognormal_asymp": (rng.lognormal(size=15_000), rng.lognormal(0.02, 1, size=12_000)),
        "drift_smirnov_branch": (rng.normal(size=60_000), rng.normal(0.03, 1, size=40_000)),
        "ties_small": (rng.integers(0, 6, 3000).astype(float), rng.integers(0, 7, 4000).astype(float)),
        "ties_asymp": (rng.integers(0, 6, 30_000).astype(float), rng.integers(1, 6, 25_000).astype(float)),
        "constant_a": (np.full(50, 3.0), rng.normal(3, 1, 60)),
        "constant_zero_a": (np.zeros(40), rng.normal(0, 1, 60)),
        "two_constants": (np.full(100, 5.0), np.full(80, 7.0)),
        "one_side_tiny": (rng.normal(size=20), rng.normal(0.2, 1, size=50_000)),
        "huge_magnitude": (rng.normal(1e200, 1e199, 300), rng.normal(1.1e200, 1e199, 400)),
        "huge_mixed_sign": (rng.normal(0, 1e150, 300), rng.normal(1e149, 1e150, 200)),
        "tiny_magnitude": (rng.normal(0, 1e-200, 300), rng.normal(1e-201, 1e-200, 200)),
        "disjoint": (rng.uniform(0, 1, 200), rng.uniform(5, 6, 300)),
        "negative_zero": (np.r_[np.zeros(30), -np.zeros(30), np.ones(5)], np.r_[-np.zeros(50), np.ones(20)]),
    }


@pytest.mark.parametrize("case", list(_continuous_cases()))
def test_continuous_equals_scipy(case):
    a, b = _continuous_cases()[case]
    ref_ks = stats.ks_2samp(a, b)
    ks = ks_test(a, b)
    assert close(ks.statistic, ref_ks.statistic) and close(ks.pvalue, ref_ks.pvalue)
    peak = np.max(np.abs(np.r_[a, b]))
    unit = 2.0 ** math.frexp(peak)[1] if not 1e-100 < peak < 1e100 else 1.0  # exact rescale: np.std overflows
    ref_w = stats.wasserstein_distance(a / unit, b / unit) / reference_scale(a / unit)
    assert close(wasserstein_norm(a, b), ref_w)
    t = continuous_test(a, b)
    assert t.test == "ks" and t.effect_name == "wasserstein_norm"
    assert close(t.statistic, ref_ks.statistic) and close(t.pvalue, ref_ks.pvalue) and close(t.effect, ref_w)
    assert close(t.detail["wasserstein"], stats.wasserstein_distance(a, b))
    assert (t.n_a, t.n_b) == (len(a), len(b))


def test_wasserstein_stays_finite_where_scipy_overflows():
    rng = np.random.default_rng(3)
    a, b = rng.uniform(-1.7, -1.0, 200) * 1e308, rng.uniform(1.0, 1.7, 300) * 1e308  # gap between them: inf
    with np.errstate(over="ignore", invalid="ignore"):
        assert not np.isfinite(stats.wasserstein_distance(a, b))  # scipy: inf
    unit = 2.0 ** 1023  # the normalized distance is scale-invariant: scipy on the scaled-down data is the truth
    expected = stats.wasserstein_distance(a / unit, b / unit) / reference_scale(a / unit)
    assert math.isfinite(wasserstein_norm(a, b)) and close(wasserstein_norm(a, b), expected)
    t = continuous_test(a, b)
    assert close(t.effect, expected) and 0 <= t.pvalue <= 1


def test_kstwo_sf_equals_scipy_on_every_branch():
    for n in (150, 2001, 7777, 50_000, 150_000):
        for d in np.r_[np.geomspace(1e-5, 0.999, 40), 0.5, 1 - 1 / n, 1 - 1.5 / n, 1.0, 0.0]:
            assert close(kstwo_sf(d, n), np.clip(stats.kstwo.sf(d, n), 0, 1), 1e-11), (n, d)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.lists(st.floats(-1e100, 1e100, allow_nan=False, allow_infinity=False), min_size=20, max_size=80),
       st.lists(st.floats(-1e100, 1e100, allow_nan=False, allow_infinity=False), min_size=20, max_size=80))
def test_continuous_equals_scipy_on_arbitrary_floats(a, b):
    a, b = np.array(a), np.array(b)
    t = continuous_test(a, b)
    if len(np.unique(np.r_[a, b])) < 2:
        assert t.test == "insufficient" and (t.pvalue, t.effect) == (1.0, 0.0)
        return
    ref = stats.ks_2samp(a, b)
    assert close(t.statistic, ref.statistic) and close(t.pvalue, ref.pvalue)
    w = stats.wasserstein_distance(a, b)
    assert close(t.effect, w / reference_scale(a), 1e-8)
    assert 0 <= t.pvalue <= 1 and math.isfinite(t.effect) and t.effect >= 0 and math.isfinite(t.psi)


def test_psi_continuous_matches_a_digitize_reference():
    rng = np.random.default_rng(11)
    for a, b in [(rng.normal(size=5000), rng.normal(0.3, 1, 4000)),
                 (rng.integers(0, 3, 1000).astype(float), rng.integers(0, 4, 900).astype(float)),
                 (np.full(100, 2.0), rng.normal(2, 1, 100))]:
        edges = np.unique(np.quantile(a, np.linspace(0.1, 0.9, 9)))
        share_a = np.bincount(np.digitize(a, edges, right=True), minlength=len(edges) + 1) / len(a)
        share_b = np.bincount(np.digitize(b, edges, right=True), minlength=len(edges) + 1) / len(b)
        share_a, share_b = np.where(share_a > 0, share_a, 1e-4), np.where(share_b > 0, share_b, 1e-4)
        assert close(psi_continuous(a, b), np.sum((share_b - share_a) * np.log(share_b / share_a)))
    same = rng.normal(size=1000)
    assert psi_continuous(same, same) == 0.0


def _categorical_cases():
    rng = np.random.default_rng(5)
    return {
        "random": (rng.integers(0, 500, 10), rng.integers(0, 500, 10)),
        "label_only_in_a": (np.array([30, 40, 50]), np.array([35, 45, 0])),
        "label_only_in_b": (np.array([0, 40, 50]), np.array([10, 45, 40])),
        "zero_in_both_dropped": (np.array([30, 0, 50, 0]), np.array([35, 0, 45, 0])),
        "huge_counts": (np.array([10**12, 3 * 10**12, 5]), np.array([2 * 10**12, 10**12, 7])),
        "one_side_concentrated": (np.array([100, 0, 0]), np.array([30, 30, 40])),
        "many_labels": (rng.integers(0, 50, 50), rng.integers(0, 50, 50)),
    }


@pytest.mark.parametrize("case", list(_categorical_cases()))
def test_categorical_equals_scipy(case):
    a, b = _categorical_cases()[case]
    keep = (a + b) > 0
    ref = stats.chi2_contingency(np.vstack([a[keep], b[keep]]), correction=False)
    chi = chi2_homogeneity(a, b)
    assert close(chi.statistic, ref.statistic) and close(chi.pvalue, ref.pvalue) and chi.dof == ref.dof
    assert close(js_distance(a, b), jensenshannon(a, b, base=2))
    t = counts_test("categorical", a, b)
    assert t.test == "chi2" and close(t.pvalue, ref.pvalue) and close(t.effect, jensenshannon(a, b, base=2))
    assert 0 <= t.effect <= 1 and t.psi >= 0


def test_js_distance_rows_and_bounds():
    a = np.array([[10, 0, 5], [0, 0, 7], [3, 3, 3]])
    b = np.array([[10, 0, 5], [7, 0, 0], [1, 2, 3]])
    expected = [jensenshannon(x, y, base=2) for x, y in zip(a, b)]
    assert np.allclose(js_distance(a, b), expected, rtol=1e-12, atol=0)
    assert js_distance(a, b)[0] == 0.0 and js_distance(a, b)[1] == 1.0  # identical, disjoint
    assert js_distance(np.zeros(3), np.zeros(3)) == 0.0  # scipy: NaN


def test_psi_counts():
    assert psi_counts([10, 20, 30], [10, 20, 30]) == 0.0
    pa, pb = np.array([0.5, 0.5, 1e-4]), np.array([0.25, 0.5, 0.25])
    assert close(psi_counts([50, 50, 0], [25, 50, 25]), np.sum((pb - pa) * np.log(pb / pa)))


@pytest.mark.parametrize("a, b", [([950, 50], [850, 150]), ([500, 0], [490, 10]), ([10**6, 123], [10**6, 180]),
                                  ([10**7, 10**5], [10**7, 3 * 10**5]), ([30, 30], [31, 29]), ([0, 40], [5, 35])])
def test_rate_z_equals_chi2_on_2x2(a, b):
    ref = stats.chi2_contingency(np.array([a, b]), correction=False)
    z = two_proportion_z(np.array(a), np.array(b))
    assert close(z.statistic ** 2, ref.statistic) and close(z.pvalue, ref.pvalue)
    assert close(z.rate_a, a[1] / sum(a)) and close(z.rate_b, b[1] / sum(b))
    assert math.copysign(1, z.statistic) == math.copysign(1, z.rate_b - z.rate_a) or z.statistic == 0
    h = abs(2 * math.asin(math.sqrt(b[1] / sum(b))) - 2 * math.asin(math.sqrt(a[1] / sum(a))))
    assert close(z.cohens_h, h)
    t = counts_test("rate", np.array(a), np.array(b))
    assert t.test == "z_prop" and t.effect_name == "cohens_h" and close(t.effect, h)
    assert t.detail["rate_a"] == z.rate_a and t.detail["rate_b"] == z.rate_b


def test_cohens_h_known_value():
    assert close(cohens_h(0.05, 0.15), 2 * math.asin(math.sqrt(0.15)) - 2 * math.asin(math.sqrt(0.05)))
    assert cohens_h(0.3, 0.3) == 0.0


@pytest.mark.parametrize("p", [[0.01, 0.04, 0.03, 0.2, 0.5], [0.0, 0.0, 1.0], [1.0], [0.05] * 7,
                               list(np.random.default_rng(2).uniform(size=300)), [1e-300, 0.5, 0.049]])
def test_bh_equals_false_discovery_control(p):
    assert np.allclose(benjamini_hochberg(p), stats.false_discovery_control(p, method="bh"), rtol=RTOL, atol=0)


def test_bh_empty_and_nan():
    assert benjamini_hochberg([]).shape == (0,)
    adjusted = benjamini_hochberg([0.01, float("nan"), 0.02])
    assert np.allclose(adjusted, stats.false_discovery_control([0.01, 1.0, 0.02]))


@settings(max_examples=50, deadline=None, derandomize=True)
@given(st.lists(st.floats(0, 1), min_size=1, max_size=40))
def test_bh_property(p):
    adjusted = benjamini_hochberg(p)
    assert np.allclose(adjusted, stats.false_discovery_control(p, method="bh"), rtol=RTOL, atol=1e-300)
    assert (adjusted >= np.array(p) - 1e-15).all() and (adjusted <= 1).all()


def _assert_insufficient(t, reason):
    assert t.test == "insufficient" and t.pvalue == 1.0 and t.effect == 0.0 and t.statistic == 0.0
    assert reason in t.detail["reason"]


@pytest.mark.parametrize("a, b, reason", [
    (np.arange(19.0), np.arange(100.0), "fewer than 20"),
    (np.arange(100.0), np.arange(5.0), "fewer than 20"),
    (np.array([]), np.array([]), "fewer than 20"),
    (None, np.arange(50.0), "fewer than 20"),
    (np.full(50, 4.2), np.full(70, 4.2), "no variation"),
    (np.r_[np.full(15, np.nan), np.arange(10.0)], np.arange(50.0), "fewer than 20"),  # NaN dropped first
])
def test_continuous_insufficient(a, b, reason):
    _assert_insufficient(continuous_test(a, b), reason)


def test_continuous_drops_nan_and_inf():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=200), rng.normal(0.5, 1, 300)
    dirty = np.r_[a, np.nan, np.inf, -np.inf]
    clean, cleaned = continuous_test(a, b), continuous_test(dirty, b)
    assert cleaned[:9] == clean[:9] and cleaned.n_a == 200
    assert np.array_equal(cleaned.support.values, clean.support.values)


@pytest.mark.parametrize("kind, a, b, reason", [
    ("categorical", [5, 5], [30, 30], "fewer than 20"),
    ("categorical", [40, 0, 0], [35, 0, 0], "no variation"),  # a single label left: p = 1
    ("categorical", None, None, "fewer than 20"),
    ("rate", [100, 0], [80, 0], "no variation"),
    ("rate", [0, 100], [0, 80], "no variation"),
    ("rate", [10, 5], [100, 20], "fewer than 20"),
    ("categorical", [float("nan"), 30, 30], [20, -4, 40], None),  # NaN / negative counts read as 0: testable
])
def test_counts_insufficient(kind, a, b, reason):
    t = counts_test(kind, a, b)
    if reason is None:
        assert t.test == "chi2" and 0 <= t.pvalue <= 1 and t.n_a == 60 and t.n_b == 60
        return
    _assert_insufficient(t, reason)
    if kind == "rate" and reason == "no variation":
        assert {"rate_a", "rate_b"} <= set(t.detail)


def test_chi2_single_label_is_p_one():
    assert chi2_homogeneity(np.array([0, 40]), np.array([0, 35])) == (0.0, 1.0, 0)


def test_misaligned_counts_and_unknown_kind_raise():
    with pytest.raises(ValueError, match="aligned"):
        counts_test("categorical", [1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match="aligned"):
        counts_test("rate", [1, 2, 3], [1, 2, 3])
    with pytest.raises(ValueError, match="unknown kind"):
        dimension_test(Dimension("x", "histogram", "tools"))


def test_dimension_test_dispatch_with_odd_input_types():
    cont = Dimension("latency ⏱", "continuous", "latency", a=list(range(30)), b=[float(i) + 0.5 for i in range(30)])
    assert dimension_test(cont).test == "ks" and dimension_test(cont).n_a == 30
    cat = Dimension("tool", "categorical", "tools", labels=["ツール", "b"], a_counts=[20, 20], b_counts=(10, 30))
    assert dimension_test(cat).test == "chi2"
    rate = Dimension("err", "rate", "errors", labels=["no", "yes"], a_counts=np.array([90, 10], dtype=np.int32),
                     b_counts=np.array([70.0, 30.0]))
    assert dimension_test(rate).test == "z_prop" and dimension_test(rate).detail["rate_b"] == 0.3
