"""Robust per-event detectors over a sliding window of the last W points: median/MAD and Tukey's IQR fences,
both in sigma units, exact order statistics from a sorted copy of the window."""
from __future__ import annotations

import bisect
import math
from collections import deque

from .base import IQR_TO_SIGMA, MAD_TO_SIGMA, MEANAD_TO_SIGMA, Baseline, LocalBaseline, is_number

NAN = math.nan


class _Window(LocalBaseline):
    """Order statistics of the last `window` points, kept as a deque plus a sorted list.
    Until the window holds min(warmup, window) points, a primed baseline's statistics stand in for it."""

    def __init__(self, window: int = 64, warmup: int = 30, abs_floor: float = 1e-9, rel_floor: float = 1e-3,
                 scale_floor: float = 0.0):
        super().__init__(warmup, abs_floor, rel_floor, scale_floor)
        if window < 2:
            raise ValueError(f"{self.kind}: window must be >= 2, got {window}")
        self.window = int(window)
        self.values: deque[float] = deque()
        self._sorted: list[float] = []

    @property
    def params(self) -> dict:
        return {"window": self.window, **super().params}

    def _restored(self) -> None:
        self.values = deque(float(v) for v in self.values)
        self._sorted = sorted(self.values)

    def state(self) -> dict:
        return {**super().state(), "values": [float(v) for v in self.values]}

    def _ready(self) -> bool:
        return len(self._sorted) >= min(self.warmup, self.window)

    def learn_one(self, x: float) -> None:
        if not is_number(x):
            return
        self.track(x)
        self.n += 1
        self.values.append(x)
        bisect.insort(self._sorted, x)
        if len(self.values) > self.window:
            old = self.values.popleft()
            del self._sorted[bisect.bisect_left(self._sorted, old)]

    def center_sigma(self) -> tuple[float, float]:
        raise NotImplementedError

    @property
    def expected(self) -> float:
        return self.center_sigma()[0]

    def score_one(self, x: float) -> float:
        if not is_number(x) or self.n < self.warmup:
            return NAN
        center, sigma = self.center_sigma()
        return (x - center) / max(sigma, self.floor(center))

    def median(self) -> float:
        s = self._sorted
        return (s[(len(s) - 1) // 2] + s[len(s) // 2]) / 2

    def mad(self, median: float) -> float:
        devs = sorted(abs(v - median) for v in self._sorted)
        return (devs[(len(devs) - 1) // 2] + devs[len(devs) // 2]) / 2

    def mean_abs_dev(self, median: float) -> float:
        total = 0.0
        for v in self._sorted:  # summed in sorted order, as the vectorized twin does
            total += abs(v - median)
        return total / len(self._sorted)

    def quantile(self, p: float) -> float:
        """Linear interpolation between order statistics (numpy's default method)."""
        s = self._sorted
        pos = (len(s) - 1) * p
        i = math.floor(pos)
        frac = pos - i
        return s[i] + frac * (s[i + 1] - s[i]) if frac > 0 else s[i]


class RollingMAD(_Window):
    """(x - median) / (1.4826 * MAD) over the last `window` points. When MAD is 0 (over half the window equal),
    sigma falls back to 1.2533 * mean absolute deviation from the median; the floor applies when that is 0 too."""

    kind = "mad"
    fields = ("values", "prior_median", "prior_mad")

    def __init__(self, window: int = 64, warmup: int = 30, abs_floor: float = 1e-9, rel_floor: float = 1e-3,
                 scale_floor: float = 0.0):
        super().__init__(window, warmup, abs_floor, rel_floor, scale_floor)
        self.prior_median: float | None = None
        self.prior_mad: float | None = None

    def center_sigma(self) -> tuple[float, float]:
        if self._ready():
            med = self.median()
            mad = self.mad(med)
            return med, MAD_TO_SIGMA * mad if mad > 0 else MEANAD_TO_SIGMA * self.mean_abs_dev(med)
        if self.prior_median is None:
            return NAN, NAN
        return self.prior_median, MAD_TO_SIGMA * self.prior_mad

    def prime(self, baseline: Baseline) -> None:
        self.n, self.prior_median, self.prior_mad = baseline.count, float(baseline.median), float(baseline.mad)
        self.prime_long_run(baseline)


class RollingIQR(_Window):
    """Tukey fences in sigma units over the last `window` points: sigma = IQR / 1.349, score = (x - midhinge) / sigma.
    Outside the fences (k = 1.5) this equals 2.698 + (distance beyond the fence) / sigma, so a Tukey outlier
    starts at 2.70 sigma and the common 3 sigma threshold sits 0.30 sigma (0.22 IQR) beyond the fence.
    When the IQR is 0, sigma falls back to 1.2533 * mean absolute deviation from the median, then the floor."""

    kind = "iqr"
    fields = ("values", "prior_q25", "prior_q75")

    def __init__(self, window: int = 64, warmup: int = 30, abs_floor: float = 1e-9, rel_floor: float = 1e-3,
                 scale_floor: float = 0.0):
        super().__init__(window, warmup, abs_floor, rel_floor, scale_floor)
        self.prior_q25: float | None = None
        self.prior_q75: float | None = None

    def center_sigma(self) -> tuple[float, float]:
        if self._ready():
            q25, q75 = self.quantile(0.25), self.quantile(0.75)
            sigma = (q75 - q25) / IQR_TO_SIGMA if q75 > q25 else MEANAD_TO_SIGMA * self.mean_abs_dev(self.median())
        elif self.prior_q25 is None:
            return NAN, NAN
        else:
            q25, q75 = self.prior_q25, self.prior_q75
            sigma = (q75 - q25) / IQR_TO_SIGMA
        return (q25 + q75) / 2, sigma

    def prime(self, baseline: Baseline) -> None:
        self.n, self.prior_q25, self.prior_q75 = baseline.count, float(baseline.q25), float(baseline.q75)
        self.prime_long_run(baseline)
