"""Drift speed: 100k vs 100k generated runs, every dimension, 1,000-resample bootstrap CI; prints the time of each
stage, peak RSS, and the ratio to scipy's own per-dimension tests on the same arrays (the floor any implementation
pays). Goal: the whole diff, CI included, under 2 s (Evidently's preset: ~4-5 s on 100k x 15 without a CI).
Last line: one JSON object."""
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq

import numpy as np
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.core.config import DriftSettings  # noqa: E402
from pipeline.core.drift.engine import diff_entries  # noqa: E402
from pipeline.core.drift.fingerprint import fingerprint_dimensions  # noqa: E402
from pipeline.core.drift.scoring import score_dimensions  # noqa: E402
from pipeline.core.drift.synthetic import drift_corpus  # noqa: E402

N = 100_000
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from drift_quality import EVIDENTLY_PYTHON, frame  # noqa: E402


def evidently_seconds(a, b) -> float | None:
    """Evidently's DataDriftPreset on the same runs as 13 columns (its own venv; None when not installed)."""
    if not Path(EVIDENTLY_PYTHON).exists():
        return None
    with tempfile.TemporaryDirectory() as tmp:
        pq.write_table(frame(a), f"{tmp}/bench_a.parquet")
        pq.write_table(frame(b), f"{tmp}/bench_b.parquet")
        out = subprocess.run([EVIDENTLY_PYTHON, str(ROOT / "bench" / "reference" / "evidently_drift.py"), tmp],
                             capture_output=True, text=True, check=True)
    return float(json.loads(out.stdout.strip().splitlines()[-1])["bench"]["seconds"])


def scipy_floor(dims) -> float:
    """scipy's KS / chi-square on the same dimensions, no CI: what the tests alone cost."""
    start = time.perf_counter()
    for d in dims:
        if d.kind == "continuous" and len(d.a) and len(d.b):
            stats.ks_2samp(d.a, d.b, method="asymp")
        elif d.kind != "continuous":
            keep = (d.a_counts + d.b_counts) > 0
            if keep.sum() > 1:
                stats.chi2_contingency(np.vstack([d.a_counts[keep], d.b_counts[keep]]), correction=False)
    return time.perf_counter() - start


def main() -> None:
    a, b = drift_corpus(N, seed=1, change="latency")
    print(f"{a.num_rows:,} vs {b.num_rows:,} runs")
    diff_entries(a.slice(0, 2000), b.slice(0, 2000))  # warm imports and DuckDB
    t0 = time.perf_counter()
    dims = fingerprint_dimensions(a, b)
    t1 = time.perf_counter()
    result = score_dimensions(dims, n_boot=1000, seed=0)
    t2 = time.perf_counter()
    full = diff_entries(a, b, DriftSettings(bootstrap=1000))
    t3 = time.perf_counter()
    floor = scipy_floor(dims)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    continuous = sum(d.kind == "continuous" for d in dims)
    print(f"dimensions: {len(dims)} ({continuous} continuous, {len(dims) - continuous} categorical/rate)")
    print(f"fingerprint {t1 - t0:.2f} s, tests + 1,000-resample CI {t2 - t1:.2f} s; whole diff (with explanations, "
          f"costs) {t3 - t2:.2f} s; peak RSS {peak:,.0f} MB")
    print(f"scipy's tests alone on the same dimensions (no CI): {floor:.2f} s -> whole diff is "
          f"{(t3 - t2) / floor:.1f}x that")
    ev = evidently_seconds(a, b)
    if ev is None:
        print(f"Evidently timing skipped: no {EVIDENTLY_PYTHON} (run `make bench-evidently-env` once)")
    else:
        print(f"Evidently DataDriftPreset on the same runs (13 columns, no CI): {ev:.2f} s -> Strata's whole diff "
              f"with the CI is {ev / (t3 - t2):.1f}x faster")
    print(f"score {full.score:.3f} CI [{full.ci[0]:.3f}, {full.ci[1]:.3f}] verdict {full.verdict}; goal < 2 s")
    print(json.dumps({"rows_per_side": N, "dimensions": len(dims), "fingerprint_s": round(t1 - t0, 3),
                      "scoring_with_ci_s": round(t2 - t1, 3), "diff_total_s": round(t3 - t2, 3),
                      "scipy_tests_only_s": round(floor, 3), "ratio_vs_scipy_tests": round((t3 - t2) / floor, 2),
                      "peak_rss_mb": round(peak),
                      "evidently_s": None if ev is None else round(ev, 3),
                      "ratio_evidently_vs_strata": None if ev is None else round(ev / (t3 - t2), 2), "score": round(result.score, 4), "goal_s": 2.0}))


if __name__ == "__main__":
    main()
