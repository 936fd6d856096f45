"""Pieces every detector shares: the sigma floor, the baseline used for priming, the Scored result, the base
classes and their state plumbing (a state is a plain dict: kind, params and a few numbers, so it is JSON)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple

import numpy as np

MAD_TO_SIGMA = 1.4826  # MAD of a normal sample times this estimates sigma
IQR_TO_SIGMA = 1.349  # the IQR of a standard normal
MEANAD_TO_SIGMA = 1.2533  # sqrt(pi / 2): mean absolute deviation to sigma, the fallback when MAD or IQR is 0


def sigma_floor(level: float, abs_floor: float, rel_floor: float) -> float:
    """The smallest sigma a detector will divide by: a fraction of |level|, never below an absolute epsilon."""
    return max(abs_floor, rel_floor * abs(level))


def sigma_floor_array(level: np.ndarray, abs_floor: float, rel_floor: float) -> np.ndarray:
    return np.maximum(abs_floor, rel_floor * np.abs(level))


def is_number(x: float) -> bool:
    """Detectors skip what is not a finite number (None, NaN, +-inf): no score, no learning."""
    return x is not None and math.isfinite(x)


class Scored(NamedTuple):
    """What a vectorized detector returns: signed sigma per point (NaN = not scored), the expected value
    (the detector's baseline level before each point) and the state after the last point."""

    scores: np.ndarray
    expected: np.ndarray
    state: dict


@dataclass(frozen=True)
class Baseline:
    """Summary statistics of past normal data, used to prime a detector so it scores from the first point."""

    count: int
    mean: float | None = None
    std: float | None = None
    median: float | None = None
    mad: float | None = None
    q25: float | None = None
    q75: float | None = None

    @classmethod
    def from_values(cls, values: np.ndarray) -> Baseline:
        v = np.asarray(values, dtype=float)
        v = v[np.isfinite(v)]
        if v.size == 0:
            return cls(count=0)
        med = float(np.median(v))
        q25, q75 = (float(q) for q in np.quantile(v, [0.25, 0.75]))
        std = float(np.std(v, ddof=1)) if v.size > 1 else 0.0
        return cls(int(v.size), float(v.mean()), std, med, float(np.median(np.abs(v - med))), q25, q75)

    @classmethod
    def from_dict(cls, d: dict) -> Baseline:
        """Accepts count/mean/std/median/mad plus q25/q75 or quantiles={0.25: .., 0.75: ..} (keys may be strings)."""
        quantiles = {float(k): v for k, v in (d.get("quantiles") or {}).items()}
        get = lambda key, q=None: d.get(key) if d.get(key) is not None else quantiles.get(q)  # noqa: E731
        return cls(int(d.get("count", 0)), d.get("mean"), d.get("std"), d.get("median"), d.get("mad"),
                   get("q25", 0.25), get("q75", 0.75))


class Detector:
    """Base of the per-event detectors: score_one(x) against the past, then learn_one(x); state() is plain data."""

    kind: ClassVar[str] = ""
    fields: ClassVar[tuple[str, ...]] = ()

    def __init__(self, warmup: int = 30, abs_floor: float = 1e-9, rel_floor: float = 1e-3):
        if warmup < 2:
            raise ValueError(f"{self.kind}: warmup must be >= 2 (a spread needs two points), got {warmup}")
        self.warmup, self.abs_floor, self.rel_floor = int(warmup), float(abs_floor), float(rel_floor)
        self.n = 0

    @property
    def params(self) -> dict[str, Any]:
        return {"warmup": self.warmup, "abs_floor": self.abs_floor, "rel_floor": self.rel_floor}

    def floor(self, level: float) -> float:
        return sigma_floor(level, self.abs_floor, self.rel_floor)

    def update(self, x: float) -> float:
        """Score x against the past, then learn it."""
        score = self.score_one(x)
        self.learn_one(x)
        return score

    def score_one(self, x: float) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def learn_one(self, x: float) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def state(self) -> dict:
        return {"kind": self.kind, "params": self.params, "n": self.n,
                **{f: plain(getattr(self, f)) for f in self.fields}}

    @classmethod
    def from_state(cls, state: dict):
        if state.get("kind") != cls.kind:
            raise ValueError(f"state of kind {state.get('kind')!r} given to {cls.kind}")
        det = cls(**state["params"])
        det.n = int(state["n"])
        for f in cls.fields:
            setattr(det, f, state[f])
        det._restored()
        return det

    def _restored(self) -> None:
        """Hook: rebuild derived (non-serialized) structures after from_state."""


class LocalBaseline(Detector):
    """Base of detectors whose baseline is local (recent points). With scale_floor > 0 they also track the
    long-run spread (Welford over every point) and never let sigma drop below scale_floor x that: after a flat
    stretch a small wiggle is then a large, but not a 10^9 sigma, event."""

    long_fields = ("long_mean", "long_m2")

    def __init__(self, warmup: int = 30, abs_floor: float = 1e-9, rel_floor: float = 1e-3, scale_floor: float = 0.0):
        super().__init__(warmup, abs_floor, rel_floor)
        self.scale_floor = float(scale_floor)
        self.long_mean, self.long_m2 = 0.0, 0.0

    @property
    def params(self) -> dict:
        return {**super().params, "scale_floor": self.scale_floor}

    def state(self) -> dict:
        return {**super().state(), "long_mean": self.long_mean, "long_m2": self.long_m2}

    @classmethod
    def from_state(cls, state: dict):
        det = super().from_state(state)
        det.long_mean, det.long_m2 = float(state["long_mean"]), float(state["long_m2"])
        return det

    def floor(self, level: float) -> float:
        base = super().floor(level)
        if self.scale_floor > 0 and self.n > 1:
            return max(base, self.scale_floor * math.sqrt(self.long_m2 / (self.n - 1)))
        return base

    def track(self, x: float) -> None:
        """Welford update of the long-run spread with x (call before n counts x)."""
        if self.scale_floor > 0:
            delta = x - self.long_mean
            self.long_mean += delta / (self.n + 1)
            self.long_m2 += delta * (x - self.long_mean)

    def prime_long_run(self, baseline: Baseline) -> None:
        if baseline.mean is not None and baseline.std is not None:
            self.long_mean = float(baseline.mean)
            self.long_m2 = float(baseline.std) ** 2 * max(baseline.count - 1, 0)


def plain(v):
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, (list, tuple)):
        return [float(x) for x in v]
    if isinstance(v, (np.floating, np.integer)):
        return v.item()
    return v
