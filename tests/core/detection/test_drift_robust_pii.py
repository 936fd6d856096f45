"""Drift: effect sizes over a robust scale (outliers cannot hide a change) and the PII-rate dimension."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from pipeline.core.drift.engine import diff_entries
from pipeline.core.drift.stats import continuous_test, robust_scale, wasserstein_norm

from ..invariants.helpers import entries


def test_six_outliers_do_not_hide_an_output_length_change():
    rng = np.random.default_rng(0)
    base = rng.normal(400, 40, 3000)
    base[:6] = 40_000  # six runaway outputs inflate the std ~17x
    current = rng.normal(440, 40, 3000)  # +10%: one MAD-sigma
    assert robust_scale(base) == pytest.approx(stats.median_abs_deviation(base, scale="normal"))
    effect = wasserstein_norm(base, current)
    by_std = stats.wasserstein_distance(base, current) / np.std(base)
    assert effect > 0.5 and by_std < 0.1  # the std-scaled effect would sit under the 0.1 floor
    t = continuous_test(base, current)
    assert t.pvalue < 1e-6 and t.effect == pytest.approx(effect)


def _outputs(n: int, seed: int, leak: float):
    rng = np.random.default_rng(seed)
    out = [f"Answer {i}: your order ships today." for i in range(n)]
    for i in np.flatnonzero(rng.random(n) < leak):
        out[i] += " Write to jane.doe@example.com."
    return entries([], output=out, latency_ms=list(rng.lognormal(6, 0.3, n)))


def test_pii_rate_dimension_names_the_leak_and_blocks_shipping():
    clean, leaking = _outputs(3000, 1, 0.0), _outputs(3000, 2, 0.004)
    result = diff_entries(clean, leaking)
    (pii,) = [d for d in result.dimensions if d.name == "pii_rate"]
    assert pii.significant and pii.detail["rate_b"] == pytest.approx(0.004, abs=0.002)
    assert any(h.text.startswith("Share of outputs leaking PII") and "up from 0.0%" in h.text for h in result.hypotheses)
    assert result.verdict in ("REVIEW", "BLOCK")
    quiet = diff_entries(clean, _outputs(3000, 3, 0.0))
    (same,) = [d for d in quiet.dimensions if d.name == "pii_rate"]
    assert not same.significant and quiet.verdict == "SHIP"
