"""The drift engine's data contract: a behavioral dimension of two entry sets, its test result, and the whole diff."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

Kind = Literal["continuous", "categorical", "rate"]


@dataclass
class Dimension:
    """One behavioral dimension measured on a baseline set (a) and a current set (b).

    continuous: `a`, `b` are float64 samples (NaN already removed).
    categorical: `labels` with `a_counts`, `b_counts` (int64, same length, aligned to labels); a count may come
      from several per entry (tool n-grams) and that is fine.
    rate: `labels == ["no", "yes"]`, counts of entries without / with the property (error, retry, ...).
    `group` names the weight group (tools, latency, errors, outcome, cost, tokens, output, structure, model).
    `summary` holds facts for explanations (e.g. {"p95_a": .., "p95_b": .., "mean_a": ..} or {"shares_a": {..}}).
    """

    name: str
    kind: Kind
    group: str
    a: np.ndarray | None = None
    b: np.ndarray | None = None
    labels: list[str] | None = None
    a_counts: np.ndarray | None = None
    b_counts: np.ndarray | None = None
    unit: str = ""
    summary: dict = field(default_factory=dict)

    @property
    def n_a(self) -> int:
        return int(len(self.a) if self.kind == "continuous" else np.sum(self.a_counts))

    @property
    def n_b(self) -> int:
        return int(len(self.b) if self.kind == "continuous" else np.sum(self.b_counts))


@dataclass
class DimensionResult:
    """A dimension's test: `test` names it (ks, chi2, z_prop, insufficient), `effect` is its effect size
    (`effect_name`: wasserstein_norm, js_distance, cohens_h), `score` in [0, 1] is the effect scaled to its
    saturation and zeroed when not significant (p_adjusted >= alpha) or below the practical floor."""

    name: str
    kind: Kind
    group: str
    test: str
    statistic: float
    p_value: float
    p_adjusted: float
    effect: float
    effect_name: str
    raw_score: float
    score: float
    weight: float
    significant: bool
    n_a: int
    n_b: int
    psi: float = 0.0
    detail: dict = field(default_factory=dict)


@dataclass
class Hypothesis:
    """A plain-English reason, ranked by `contribution` (the dimension's weighted share of the score)."""

    text: str
    dimension: str
    contribution: float


@dataclass
class DriftResult:
    score: float
    ci: tuple[float, float]
    dimensions: list[DimensionResult]
    hypotheses: list[Hypothesis] = field(default_factory=list)
    verdict: str = "SHIP"
    financial_impact: dict = field(default_factory=dict)
    n_baseline: int = 0
    n_current: int = 0
    baseline_label: str = "baseline"
    current_label: str = "current"
