"""Gates with statistics: ceilings by interval, two-sided shares as intervals, no set invariants on ids, versions
or timestamps, compare judging critical invariants by hits, leaks as findings."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from pipeline.core.invariants import check_staleness, compare, discover, discover_with_findings
from pipeline.core.invariants.stats import ceiling_gate, two_proportion_z

from ..invariants.helpers import entries


def _latency_rows(n: int, seed: int, factor: float = 1.0, version: str = "support-v12"):
    rng = np.random.default_rng(seed)
    lat = np.round(800 * np.exp(rng.normal(0, 0.4, n)) * factor, 1)
    return entries([], latency_ms=list(lat), version=[version] * n, request_id=[f"r{seed}-{i}" for i in range(n)],
                   session_id=[f"s{i % 50}" for i in range(n)], user_id=[f"u{i % 7}" for i in range(n)],
                   output=["fine"] * n, model=["m"] * n)


@pytest.fixture(scope="module")
def baseline():
    return discover(_latency_rows(3000, 0), families=["structural", "statistical"])


def test_ids_versions_and_timestamps_never_become_set_invariants(baseline):
    kinds = {(i.field, i.kind) for i in baseline}
    for field in ("version", "session_id", "user_id", "request_id", "ts", "entry_id"):
        assert (field, "in_set") not in kinds, field
    assert ("model", "in_set") in kinds  # ordinary categories still do
    new_release = _latency_rows(3000, 1, version="support-v13")
    assert all(r.status == "holds" for r in check_staleness(baseline, new_release)), \
        [(r.id, r.status) for r in check_staleness(baseline, new_release) if r.status != "holds"]


def test_p95_regression_of_38_percent_is_violated_not_a_warning(baseline):
    p95 = "statistical:latency_ms:max_quantile:p95"
    res = {r.id: r for r in check_staleness(baseline, _latency_rows(3000, 2, factor=1.38))}
    assert res[p95].status == "violated" and res[p95].evidence["gate"] == "violated"
    assert res[p95].evidence["excess_z"] > 3
    # the confidence drop alone would say far less than 30 points
    assert res[p95].drop_pp < 30


def test_small_certain_excess_degrades_and_noise_holds(baseline):
    p50 = "statistical:latency_ms:max_quantile:p50"
    slight = {r.id: r.status for r in check_staleness(baseline, _latency_rows(50_000, 3, factor=1.05))}
    assert slight[p50] == "degraded"  # clearly above, but by less than 10%
    for seed in range(4, 9):  # same process: every ceiling holds
        got = {r.id: r.status for r in check_staleness(baseline, _latency_rows(3000, seed))}
        assert {k: v for k, v in got.items() if "max_quantile" in k and v != "holds"} == {}


def test_error_rate_ceiling_by_interval():
    rng = np.random.default_rng(5)
    base = entries([], status=list(np.where(rng.random(5000) < 0.02, "error", "ok")), output=["x"] * 5000)
    (err,) = [i for i in discover(base, families=["statistical"]) if i.id.endswith("error_rate")]
    doubled = entries([], status=list(np.where(rng.random(5000) < 0.045, "error", "ok")), output=["x"] * 5000)
    (res,) = check_staleness([err], doubled)
    assert res.status == "violated" and res.evidence["gate"] == "violated"
    (same,) = check_staleness([err], entries([], status=list(np.where(rng.random(5000) < 0.02, "error", "ok")),
                                             output=["x"] * 5000))
    assert same.status == "holds"


@settings(max_examples=60, deadline=None)
@given(st.floats(1, 1e4), st.floats(-0.5, 2.0), st.floats(0, 50), st.floats(0, 50))
def test_ceiling_gate_matches_a_written_out_rule(bound, rel, se_now, se_then):
    value = bound * (1 + rel)
    verdict, z = ceiling_gate(value, bound, se_now, se_then)
    se = (se_now ** 2 + se_then ** 2) ** 0.5
    above = value > bound and (se == 0 or (value - bound) / se >= 3)
    expected = "holds" if not above else ("violated" if value - bound >= 0.1 * bound else "degraded")
    assert verdict == expected


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 500), st.integers(1, 500), st.integers(600, 2000), st.integers(600, 2000))
def test_two_proportion_z_squared_is_the_uncorrected_chi_square(k1, k2, n1, n2):
    from scipy.stats import chi2_contingency

    z = two_proportion_z(k1, n1, k2, n2)
    chi2 = chi2_contingency([[k1, n1 - k1], [k2, n2 - k2]], correction=False)[0]
    assert z * z == pytest.approx(chi2, rel=1e-9) and (z > 0) == (k2 / n2 > k1 / n1)


def _mix_rows(n: int, seed: int, esc: float):
    rng = np.random.default_rng(seed)
    outcome = np.where(rng.random(n) < esc, "escalated", "resolved")
    return entries([], outcome=list(outcome), output=["fine"] * n, model=["m"] * n)


def test_compare_two_sided_share_as_intervals_and_exit_policy():
    a = discover(_mix_rows(4000, 0, 0.036), families=["statistical"])
    b = discover(_mix_rows(4000, 1, 0.109), families=["statistical"])
    same = discover(_mix_rows(4000, 2, 0.036), families=["statistical"])
    esc = "statistical:outcome:share_between:share=escalated"
    moved = compare(a, b)
    assert moved.category_of(esc) == "degraded" and esc in {c.id for c in moved.regressions()}
    assert next(c.detail for c in moved.degraded if c.id == esc).startswith("share 4.0% -> 11.1%")
    assert moved.fails("regression") and not moved.fails("critical") and not moved.fails("never")
    quiet = compare(a, same)
    assert quiet.regressions() == [] and not quiet.fails("degraded")


def test_leak_is_a_finding_and_compare_judges_critical_by_hits():
    clean = [{"output": f"Answer {i}: all good"} for i in range(400)]
    leaking = [{"output": "reach me at jane.doe@example.com"} if i % 200 == 7 else r for i, r in enumerate(clean)]
    a, found_a = discover_with_findings(entries(clean), families=["pii"])
    b, found_b = discover_with_findings(entries(leaking), families=["pii"])
    email = "pii:output:regex_absent:email"
    assert found_a == [] and email in {i.id for i in a}
    assert email not in {i.id for i in b} and [f["hits"] for f in found_b] == [2]
    assert "jane" not in repr(found_b)
    result = compare(a, b, findings_b=found_b)
    (lost,) = [c for c in result.removed if c.id == email]
    assert lost.regression and lost.severity == "critical" and "Leak: 2 of 400" in lost.detail
    assert result.fails("critical")
    # an older baseline that kept the leaking invariant: judged by its hits, not its 99.5% confidence
    old = [i for i in a if i.id == email][0]
    kept = type(old).from_dict({**old.to_dict(), "confidence": 0.995, "support": 398, "total": 400})
    assert compare([old], [kept]).regressions()[0].detail.startswith("2 of 400 rows hit it")
