"""Per-event reference detectors (river style): score_one(x) against the past, learn_one(x), readable state:
z-score, EWMA and CUSUM here, the windowed MAD and IQR in robust.py. Every score is a signed distance in sigma
units; NaN means "not scored" (warm-up, or x was not a number)."""
from __future__ import annotations

import math

from .base import Baseline, Detector, LocalBaseline, is_number
from .robust import RollingIQR, RollingMAD

NAN = math.nan


class ZScore(Detector):
    """(x - running mean) / running std, both over everything seen so far (Welford's algorithm)."""

    kind = "zscore"
    fields = ("mean", "m2")

    def __init__(self, warmup: int = 30, abs_floor: float = 1e-9, rel_floor: float = 1e-3):
        super().__init__(warmup, abs_floor, rel_floor)
        self.mean, self.m2 = 0.0, 0.0

    @property
    def expected(self) -> float:
        return self.mean if self.n else NAN

    def sigma(self) -> float:
        std = math.sqrt(self.m2 / (self.n - 1)) if self.n > 1 else 0.0
        return max(std, self.floor(self.mean))

    def score_one(self, x: float) -> float:
        if not is_number(x) or self.n < self.warmup:
            return NAN
        return (x - self.mean) / self.sigma()

    def learn_one(self, x: float) -> None:
        if not is_number(x):
            return
        self.n += 1
        delta = x - self.mean
        self.mean += delta / self.n
        self.m2 += delta * (x - self.mean)

    def prime(self, baseline: Baseline) -> None:
        self.n, self.mean = baseline.count, float(baseline.mean)
        self.m2 = float(baseline.std) ** 2 * max(baseline.count - 1, 0)


class EWMA(LocalBaseline):
    """(x - level) / spread, where level and variance are exponentially weighted (weight alpha on the newest point)."""

    kind = "ewma"
    fields = ("mean", "var")

    def __init__(self, alpha: float = 0.05, warmup: int = 30, abs_floor: float = 1e-9, rel_floor: float = 1e-3,
                 scale_floor: float = 0.0):
        super().__init__(warmup, abs_floor, rel_floor, scale_floor)
        if not 0.0 < alpha < 1.0:
            raise ValueError(f"ewma: alpha must be in (0, 1), got {alpha}")
        self.alpha = float(alpha)
        self.mean, self.var = 0.0, 0.0

    @property
    def params(self) -> dict:
        return {"alpha": self.alpha, **super().params}

    @property
    def expected(self) -> float:
        return self.mean if self.n else NAN

    def score_one(self, x: float) -> float:
        if not is_number(x) or self.n < self.warmup:
            return NAN
        return (x - self.mean) / max(math.sqrt(self.var), self.floor(self.mean))

    def learn_one(self, x: float) -> None:
        if not is_number(x):
            return
        self.track(x)
        a, keep = self.alpha, 1.0 - self.alpha
        if self.n == 0:
            self.mean, self.var = x, 0.0
        else:  # written exactly as scipy.signal.lfilter evaluates it, so the vectorized twin matches bit for bit
            d = x - self.mean
            self.var = (keep * a) * (d * d) + keep * self.var
            self.mean = a * x + keep * self.mean
        self.n += 1

    def prime(self, baseline: Baseline) -> None:
        self.n, self.mean, self.var = baseline.count, float(baseline.mean), float(baseline.std) ** 2
        self.prime_long_run(baseline)


class CUSUM(ZScore):
    """Two-sided CUSUM on the series standardized by its running mean/std (as ZScore):
    hi = max(0, hi + z - k), lo = max(0, lo - z - k); an alarm when either reaches h, then both reset to 0.
    Score = alarm_sigma * S / h (sign of the larger side): S = h maps to alarm_sigma (default 3, the common
    threshold), so score >= 3 exactly when CUSUM alarms, and S = 2h maps to 6 (critical)."""

    kind = "cusum"
    fields = ("mean", "m2", "hi", "lo")

    def __init__(self, k: float = 0.5, h: float = 5.0, alarm_sigma: float = 3.0, warmup: int = 30,
                 abs_floor: float = 1e-9, rel_floor: float = 1e-3):
        super().__init__(warmup, abs_floor, rel_floor)
        self.k, self.h, self.alarm_sigma = float(k), float(h), float(alarm_sigma)
        self.hi, self.lo = 0.0, 0.0

    @property
    def params(self) -> dict:
        return {"k": self.k, "h": self.h, "alarm_sigma": self.alarm_sigma, **super().params}

    def _step(self, x: float) -> tuple[float, float]:
        z = (x - self.mean) / self.sigma()
        return max(0.0, self.hi + (z - self.k)), max(0.0, self.lo + (-z - self.k))

    def score_one(self, x: float) -> float:
        if not is_number(x) or self.n < self.warmup:
            return NAN
        hi, lo = self._step(x)
        return self.alarm_sigma * (hi if hi >= lo else -lo) / self.h

    def learn_one(self, x: float) -> None:
        if not is_number(x):
            return
        if self.n >= self.warmup:
            hi, lo = self._step(x)
            self.hi, self.lo = (0.0, 0.0) if max(hi, lo) >= self.h else (hi, lo)
        super().learn_one(x)


NUMERIC_DETECTORS: dict[str, type[Detector]] = {c.kind: c for c in (ZScore, EWMA, CUSUM, RollingMAD, RollingIQR)}
