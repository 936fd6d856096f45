"""Anomaly detectors: each scores a point against the past only, in sigma units (one threshold for all), with a
warm-up, priming from a baseline, and JSON state that resumes exactly. Per-event reference classes
(reference, rates, semantic) have vectorized twins that give the same scores; ensemble combines them per metric."""
from __future__ import annotations

from typing import NamedTuple

from . import vectorized
from .base import IQR_TO_SIGMA, MAD_TO_SIGMA, Baseline, Scored
from .ensemble import DEFAULT_DETECTORS, AlertPolicy, SeriesRun, agreement, alert_strength, alerts, combine, \
    explain, initial_states, run_series, score_series
from .rates import ErrorRate, RequestRate, bucketize, error_rate_scores, request_rate_scores
from .reference import CUSUM, EWMA, RollingIQR, RollingMAD, ZScore
from .semantic import Embedder, HashingEmbedder, SemanticNovelty, score_texts, semantic_scores
from .state import dumps_state, loads_state
from .collector import ANOMALY_SCHEMA
from .table import METRICS, MetricSpec, detect_anomalies
from .priming import primed_state


class Registered(NamedTuple):
    reference: type  # per-event class: score_one / learn_one / state / from_state
    vectorized: object  # (inputs..., state) -> Scored
    inputs: str  # what one point is: "value", "bucket count", "bucket (requests, errors)", "embedding"


REGISTRY: dict[str, Registered] = {
    "zscore": Registered(ZScore, vectorized.zscore, "value"),
    "ewma": Registered(EWMA, vectorized.ewma, "value"),
    "cusum": Registered(CUSUM, vectorized.cusum, "value"),
    "mad": Registered(RollingMAD, vectorized.mad, "value"),
    "iqr": Registered(RollingIQR, vectorized.iqr, "value"),
    "request_rate": Registered(RequestRate, request_rate_scores, "bucket count"),
    "error_rate": Registered(ErrorRate, error_rate_scores, "bucket (requests, errors)"),
    "semantic": Registered(SemanticNovelty, semantic_scores, "embedding"),
}


def make_detector(kind: str, **params):
    """A fresh per-event detector, e.g. make_detector("ewma", alpha=0.1)."""
    if kind not in REGISTRY:
        raise ValueError(f"unknown detector {kind!r}; known: {', '.join(REGISTRY)}")
    return REGISTRY[kind].reference(**params)


def restore_detector(state: dict):
    """The per-event detector a state describes (from reference .state(), a vectorized run, or loads_state)."""
    return REGISTRY[state["kind"]].reference.from_state(state)


def score_array(values, state: dict) -> Scored:
    """Run the vectorized twin of the detector a numeric-series state describes."""
    return REGISTRY[state["kind"]].vectorized(values, state)


__all__ = [
    "ANOMALY_SCHEMA", "AlertPolicy", "Baseline", "CUSUM", "DEFAULT_DETECTORS", "EWMA", "Embedder", "ErrorRate",
    "HashingEmbedder", "IQR_TO_SIGMA", "MAD_TO_SIGMA", "METRICS", "MetricSpec", "REGISTRY", "Registered", "RequestRate",
    "RollingIQR", "RollingMAD", "Scored", "SemanticNovelty", "SeriesRun", "ZScore", "agreement", "alert_strength", "alerts",
    "bucketize", "combine", "detect_anomalies", "primed_state", "dumps_state", "error_rate_scores", "explain", "initial_states",
    "loads_state", "make_detector", "request_rate_scores", "restore_detector", "run_series", "score_array",
    "score_series", "score_texts", "semantic_scores",
]
