"""Detector state primed from stored baselines (the `baselines` table), so the first drop is scored from its first
event instead of spending a warm-up per segment and metric."""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

from .base import IQR_TO_SIGMA, MAD_TO_SIGMA, Baseline
from .ensemble import DEFAULT_DETECTORS, detector_specs
from .reference import NUMERIC_DETECTORS
from .table import METRICS, MetricSpec


def _finite(*values) -> bool:
    return all(v is not None and math.isfinite(v) for v in values)


def detector_scale_baseline(row: Mapping, spec: MetricSpec) -> Baseline | None:
    """A baseline row (count, mean, std, median, mad, p25, p75 in the metric's units) on the scale the detectors
    see. On a log scale only quantiles carry over exactly (log is monotone), so the centre is log(median) and the
    spread comes from the log quartiles (IQR / 1.349, the normal-consistent sigma), MAD from that sigma."""
    count = int(row.get("count") or 0)
    if count < 2:
        return None
    if spec.log_offset is None:
        if not _finite(row.get("mean"), row.get("std"), row.get("median"), row.get("mad"), row.get("p25"), row.get("p75")):
            return None
        return Baseline(count, float(row["mean"]), float(row["std"]), float(row["median"]), float(row["mad"]),
                        float(row["p25"]), float(row["p75"]))
    off = spec.log_offset
    if not _finite(row.get("median"), row.get("p25"), row.get("p75")) or min(row["p25"], row["median"]) + off <= 0:
        return None
    med, q25, q75 = (math.log(float(row[k]) + off) for k in ("median", "p25", "p75"))
    sigma = (q75 - q25) / IQR_TO_SIGMA
    return Baseline(count, med, sigma, med, sigma / MAD_TO_SIGMA, q25, q75)


def primed_state(baselines: Iterable[Mapping], *, detectors: Sequence | Mapping = DEFAULT_DETECTORS,
                 metrics: Mapping[str, MetricSpec] = METRICS) -> dict:
    """State for `detect_anomalies` (segment -> metric -> detector -> state) from baseline rows; the segment `all`
    and metrics the detectors don't score are skipped."""
    specs = detector_specs(detectors)
    state: dict[str, dict] = {}
    for row in baselines:
        spec = metrics.get(row.get("metric"))
        if spec is None or row.get("segment") in (None, "all"):
            continue
        base = detector_scale_baseline(row, spec)
        if base is None:
            continue
        per_metric = {}
        for name, params in specs.items():
            params = {"abs_floor": spec.floor, **params}
            detector = NUMERIC_DETECTORS[params.pop("kind", name)](**params)
            detector.prime(base)
            per_metric[name] = detector.state()
        state.setdefault(row["segment"], {})[row["metric"]] = per_metric
    return state
