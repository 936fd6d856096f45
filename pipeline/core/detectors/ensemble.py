"""Combining the detectors of one metric without double alerting: one signed score per point (the largest |sigma|),
the detectors that agree with it, the alert rule, severities and a one-line explanation a person can read."""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from .calibration import calibrate_scores
from .reference import NUMERIC_DETECTORS
from .vectorized import run_detectors

# Four point detectors, CUSUM (k = 0.5, h = 5) as their confirmer, and "shift": a CUSUM with a long memory
# (h = 14: about one alarm in 4 million points of Gaussian noise, a 1-sigma shift found in ~30 points) that alerts
# on a sustained shift by itself.
DEFAULT_DETECTORS = ("zscore", "ewma", "mad", "iqr", "cusum", ("shift", {"kind": "cusum", "h": 14.0}))
SHIFT_DETECTORS = {"cusum", "shift"}  # CUSUM alone means an excursion that lasts, not one odd point
UNITS = {"latency_ms": "ms", "prompt_tokens": "tokens", "completion_tokens": "tokens", "cost_usd": "USD",
         "output_chars": "chars", "tool_calls": "calls", "request_rate": "requests", "error_rate": ""}


@dataclass(frozen=True)
class AlertPolicy:
    """When the detectors of one metric raise an alert (at most one per point):
    - any detector alone at >= `critical` sigma, or
    - an `alone` detector (a sustained-shift CUSUM) at >= `threshold`, or
    - max |sigma| >= `threshold` with `quorum` of the other detectors agreeing (>= threshold, same side; capped at
      their number), one of which is a `confirm` detector when any of those is running.
    By default 4 of the 5 point detectors must agree and CUSUM must be one of them: a deviation that is large now
    against every baseline and part of an excursion; a shift that lasts is the `shift` detector's. Scores are
    sigma-equivalent (see calibration.py). On Gaussian noise this alerts on about 1 point in 18,000 (a lone
    3-sigma z-score: 1 in 370). confirm=() and alone=() make it plain quorum voting.
    Severity: "warning" from `threshold`, "critical" from `critical`."""

    threshold: float = 3.0
    critical: float = 6.0
    quorum: int = 4
    confirm: tuple[str, ...] = ("cusum",)
    alone: tuple[str, ...] = ("shift",)

    def severity(self, score: float) -> str | None:
        a = abs(score)
        return "critical" if a >= self.critical else "warning" if a >= self.threshold else None


class SeriesRun(NamedTuple):
    names: list[str]
    scores: np.ndarray  # n x d signed sigma
    expected: np.ndarray  # n x d baseline level of each detector
    state: dict[str, dict]


def detector_specs(detectors: Sequence | Mapping) -> dict[str, dict]:
    """Names ("zscore"), a mapping name -> params ({"fast": {"kind": "ewma", "alpha": 0.3}}) or (name, params)."""
    items = detectors.items() if isinstance(detectors, Mapping) else \
        [(d, {}) if isinstance(d, str) else tuple(d) for d in detectors]
    return {name: dict(params or {}) for name, params in items}


def initial_states(detectors: Sequence | Mapping = DEFAULT_DETECTORS) -> dict[str, dict]:
    states = {}
    for name, params in detector_specs(detectors).items():
        kind = params.pop("kind", name)
        if kind not in NUMERIC_DETECTORS:
            raise ValueError(f"unknown detector {kind!r}; known: {', '.join(NUMERIC_DETECTORS)}")
        states[name] = NUMERIC_DETECTORS[kind](**params).state()
    return states


def resume_states(state: dict | None, detectors: Sequence | Mapping = DEFAULT_DETECTORS,
                  fresh: dict[str, dict] | None = None) -> dict[str, dict]:
    """The given state (it carries each detector's params), plus a fresh state for each detector it lacks (a state
    saved before that detector existed). A missing CUSUM starts from the running mean/std of a saved z-score or
    CUSUM, so it scores at once. `fresh`: initial_states(detectors), when the caller has it already (states are
    never modified in place, so one can serve many series)."""
    fresh = initial_states(detectors) if fresh is None else fresh
    if not state:
        return dict(fresh)
    states = dict(state)
    for name, new in fresh.items():
        new = dict(new)
        if name in states:
            continue
        donor = next((s for s in state.values() if s.get("kind") in ("zscore", "cusum")), None)
        if new["kind"] == "cusum" and donor is not None:
            new.update(n=donor["n"], mean=donor["mean"], m2=donor["m2"])
        states[name] = new
    return states


def run_series(values, detectors: Sequence | Mapping | None = None, state: dict | None = None,
               calibrate: bool = True) -> SeriesRun:
    """All detectors over one series (vectorized): `detectors` (default DEFAULT_DETECTORS) from scratch, or
    resuming `state` (it carries the params; with `detectors` too, those it lacks are added, see resume_states).
    calibrate: scores in sigma-equivalent units (calibration.py); False gives each detector's raw score."""
    states = resume_states(state, DEFAULT_DETECTORS if detectors is None else detectors) \
        if not state or detectors is not None else state
    runs = run_detectors(values, states)
    names = list(states)
    n = len(values)
    x = np.asarray(values, dtype=np.float64)
    cols = [calibrate_scores(runs[k].scores, x, states[k]) if calibrate else runs[k].scores for k in names]
    scores = np.column_stack(cols) if names else np.empty((n, 0))
    expected = np.column_stack([runs[k].expected for k in names]) if names else np.empty((n, 0))
    return SeriesRun(names, scores, expected, {k: runs[k].state for k in names})


def combine(scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per point: the signed score with the largest |sigma| (NaN when no detector scored) and its column (-1)."""
    n, d = scores.shape
    if d == 0:
        return np.full(n, np.nan), np.full(n, -1)
    winner = np.argmax(np.where(np.isnan(scores), -1.0, np.abs(scores)), axis=1)
    combined = scores[np.arange(n), winner]  # all-NaN rows pick a NaN
    return combined, np.where(np.isnan(combined), -1, winner)


def agreement(scores: np.ndarray, combined: np.ndarray, policy: AlertPolicy = AlertPolicy()) -> np.ndarray:
    """n x d: the detectors at or beyond the threshold on the same side as the combined score."""
    with np.errstate(invalid="ignore"):
        return (np.abs(scores) >= policy.threshold) & (np.sign(scores) == np.sign(combined)[:, None])


def _columns(names: Sequence[str], d: int, policy: AlertPolicy) -> tuple[list[int], list[int], list[int]]:
    """(voting columns, confirmer columns among them, alone columns); without names every column votes."""
    alone = [j for j, name in enumerate(names) if name in policy.alone]
    voting = [j for j in range(d) if j not in alone]
    return voting, [j for j in voting if j < len(names) and names[j] in policy.confirm], alone


def alerts(scores: np.ndarray, combined: np.ndarray, policy: AlertPolicy = AlertPolicy(),
           names: Sequence[str] = ()) -> np.ndarray:
    """Which points raise an alert under `policy`; `names` (the columns' detector names) locate the confirmers
    and the detectors that alert alone."""
    agree = agreement(scores, combined, policy)
    mag = np.nan_to_num(np.abs(combined), nan=0.0)
    voting, confirmers, alone = _columns(names, scores.shape[1], policy)
    voted = (mag >= policy.threshold) & (agree[:, voting].sum(axis=1) >= min(policy.quorum, len(voting)))
    if confirmers:
        voted &= agree[:, confirmers].any(axis=1)
    if alone:
        with np.errstate(invalid="ignore"):
            voted |= (np.abs(scores[:, alone]) >= policy.threshold).any(axis=1)
    return voted | (mag >= policy.critical)


def alert_strength(scores: np.ndarray, names: Sequence[str], policy: AlertPolicy = AlertPolicy()) -> np.ndarray:
    """Per point, the largest threshold t at which `policy` would still alert (critical scaled with it, to
    t * critical / threshold): a continuous score for sweeping thresholds, e.g. NAB's optimizer.
    alerts(...) == (alert_strength(...) >= policy.threshold)."""
    combined, _ = combine(scores)
    with np.errstate(invalid="ignore"):
        same = np.nan_to_num(np.where(np.sign(scores) == np.sign(combined)[:, None], np.abs(scores), 0.0))
    voting, confirmers, alone = _columns(names, scores.shape[1], policy)
    n = len(same)
    own = same[:, voting]
    d = own.shape[1]
    q = max(min(policy.quorum, d), 1)
    if q > d:
        vote = np.zeros(n)
    elif not confirmers:
        vote = np.sort(own, axis=1)[:, d - q]
    else:  # a confirmer plus q - 1 others
        vote = np.zeros(n)
        for j in (voting.index(c) for c in confirmers):
            others = np.delete(own, j, axis=1)
            kth = np.sort(others, axis=1)[:, others.shape[1] - (q - 1)] if q > 1 else np.full(n, np.inf)
            vote = np.maximum(vote, np.minimum(own[:, j], kth))
    if alone:
        vote = np.maximum(vote, np.nan_to_num(np.abs(scores[:, alone])).max(axis=1))
    override = np.nan_to_num(np.abs(combined)) * (policy.threshold / policy.critical)
    return np.maximum(vote, override)


def score_series(values: np.ndarray, detectors: Sequence | Mapping | None = None,
                 state: dict | None = None) -> tuple[np.ndarray, np.ndarray, dict]:
    """(scores n x d in sigma, combined signed score per point, new state). Columns follow `detectors`
    (or the order of `state` when resuming); feed new_state back to continue with the next values."""
    run = run_series(values, detectors, state)
    return run.scores, combine(run.scores)[0], run.state


def format_value(v: float, unit: str = "") -> str:
    if v is None or not math.isfinite(v):
        return "n/a"
    a = abs(v)
    text = f"{v:,.0f}" if a >= 100 else f"{v:,.2f}" if a >= 1 else f"{v:.3g}"
    if unit == "USD":
        return ("-$" if v < 0 else "$") + text.lstrip("-")
    return f"{text} {unit}" if unit else text


def explain(metric: str, value: float, expected: float, score: float, detectors: Sequence[str],
            unit: str | None = None) -> str:
    """'latency_ms 4,210 ms is 7.2σ above the expected 812 ms (zscore, mad agree)'."""
    unit = UNITS.get(metric, "") if unit is None else unit
    side = "above" if score >= 0 else "below"
    who = ", ".join(detectors)
    who = f"{who} agree" if len(detectors) > 1 else who
    shift = "; a sustained shift" if detectors and set(detectors) <= SHIFT_DETECTORS else ""
    return (f"{metric} {format_value(value, unit)} is {abs(score):.1f}σ {side} the expected "
            f"{format_value(expected, unit)} ({who}){shift}")
