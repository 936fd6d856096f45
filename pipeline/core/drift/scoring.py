"""Turns dimensions into a scored DriftResult: per-dimension tests, Benjamini-Hochberg, significance and practical
floors, the weighted composite score and its bootstrap confidence interval (no hypotheses or verdict)."""
from __future__ import annotations

import math

import numpy as np

from .bootstrap import percentile_interval, resample_composite
from .model import Dimension, DimensionResult, DriftResult
from .stats import MIN_N, benjamini_hochberg, dimension_test

DEFAULT_WEIGHTS: dict[str, float] = {
    "pii": 3.0, "tools": 3.0, "latency": 2.0, "latency_per_token_ms": 1.0, "ttft_ms": 1.0, "errors": 2.0, "outcome": 1.5, "cost": 1.5,
    "model": 1.0, "structure": 1.0, "output": 1.0, "tokens": 0.5, "workflow": 2.0,
}
DEFAULT_FLOORS: dict[str, float] = {"wasserstein_norm": 0.1, "js_distance": 0.05, "cohens_h": 0.05}
DEFAULT_SATURATION: dict[str, float] = {"wasserstein_norm": 1.0, "js_distance": 0.5, "cohens_h": 0.5}


def score_dimensions(dims: list[Dimension], weights: dict[str, float] | None = None, *, alpha: float = 0.05,
                     floors: dict | None = None, saturation: dict | None = None, n_boot: int = 1000, seed: int = 0,
                     level: float = 0.95, min_n: int = MIN_N) -> DriftResult:
    """Test every dimension and combine them. `weights` (by dimension name, then group), `floors` and `saturation`
    (by effect name) override the defaults key by key. A dimension scores min(1, effect / saturation) when its
    BH-adjusted p < alpha and its effect reaches the floor, else 0; the composite is the weighted mean of scores
    over dimensions with enough data. `ci` is the percentile bootstrap interval of the composite at `level`
    (n_boot = 0: no resampling, ci = (score, score)); detail["ci"] is the interval of each dimension's effect."""
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    weight_of = {**DEFAULT_WEIGHTS, **(weights or {})}
    floor_of = {**DEFAULT_FLOORS, **(floors or {})}
    saturation_of = {**DEFAULT_SATURATION, **(saturation or {})}
    tests = [dimension_test(d, min_n) for d in dims]
    sufficient = np.array([t.test != "insufficient" for t in tests], dtype=bool)
    p_adjusted = np.ones(len(tests))
    p_adjusted[sufficient] = benjamini_hochberg([t.pvalue for t, ok in zip(tests, sufficient) if ok])

    w = np.array([_weight(weight_of, d) for d in dims], dtype=np.float64)
    sat = np.array([_positive(saturation_of.get(t.effect_name, 1.0), f"saturation {t.effect_name}")
                    for t in tests], dtype=np.float64)
    effect = np.array([t.effect for t in tests], dtype=np.float64)
    floor = np.array([float(floor_of.get(t.effect_name, 0.0)) for t in tests], dtype=np.float64)
    raw = np.minimum(1.0, effect / sat)
    significant = sufficient & (p_adjusted < alpha) & (effect >= floor)
    scores = np.where(significant, raw, 0.0)
    total = float(w[sufficient].sum())
    score = float(np.clip(w @ scores / total, 0.0, 1.0)) if total > 0 else 0.0

    composites, effects = resample_composite(tests, w, sat, significant, max(int(n_boot), 0), seed)
    results = [
        DimensionResult(
            name=d.name, kind=d.kind, group=d.group, test=t.test, statistic=float(t.statistic),
            p_value=float(t.pvalue), p_adjusted=float(p_adjusted[i]), effect=float(effect[i]),
            effect_name=t.effect_name, raw_score=float(raw[i]), score=float(scores[i]), weight=float(w[i]),
            significant=bool(significant[i]), n_a=t.n_a, n_b=t.n_b, psi=float(t.psi),
            detail={**t.detail, "ci": list(percentile_interval(effects[i] if sufficient[i] else effects[i][:0],
                                                               level, effect[i]))})
        for i, (d, t) in enumerate(zip(dims, tests))]
    return DriftResult(score=score, ci=percentile_interval(composites, level, score), dimensions=results,
                       n_baseline=max((t.n_a for t in tests), default=0),
                       n_current=max((t.n_b for t in tests), default=0))


def _weight(weight_of: dict, dim: Dimension) -> float:
    return _positive(weight_of.get(dim.name, weight_of.get(dim.group, 1.0)), f"weight of {dim.name!r}", zero=True)


def _positive(value, what: str, zero: bool = False) -> float:
    value = float(value)
    if not math.isfinite(value) or value < 0 or (value == 0 and not zero):
        raise ValueError(f"{what} must be a finite number {'>= 0' if zero else '> 0'}, got {value}")
    return value
