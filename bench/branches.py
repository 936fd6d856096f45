"""Branch decisions speed: N generated runs (1 to 3 decisions each, 4 branches, 24 hourly buckets in 2 drops) through
the branch-rate detector (counting + scoring), the branch_path drift dimension (N vs N) and the branch-share check;
prints throughput, peak RSS and the ratio to a same-run reference: pyarrow's own value_counts over the flattened
decisions (the floor any columnar count pays). Last line: one JSON object.

    python bench/branches.py [N]
"""
import json
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.core.detectors.branch_rate import branch_rate_alerts  # noqa: E402
from pipeline.core.drift.branches import branch_dimension  # noqa: E402
from pipeline.core.invariants.evaluator import evaluate  # noqa: E402

PATHS = [["triage->auto_reply", "auto_reply->close"], ["triage->human_review"],
         ["triage->orders", "orders->refund", "refund->close"], ["triage->orders"]]


def runs(n: int, human: float, seed: int) -> pa.Table:
    rng = np.random.default_rng(seed)
    pick = np.where(rng.random(n) < human, 1, rng.choice([0, 2, 3], n))
    lengths = np.array([len(p) for p in PATHS])[pick]
    flat = np.concatenate([np.array(p, dtype=object) for p in PATHS])
    starts = np.cumsum([0] + [len(p) for p in PATHS])[:-1]
    idx = np.repeat(starts[pick], lengths) + (np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths))
    offsets = np.concatenate(([0], np.cumsum(lengths))).astype(np.int32)
    paths = pa.ListArray.from_arrays(pa.array(offsets), pa.array(flat[idx].tolist(), pa.string()))
    ts = np.sort(rng.integers(0, 24 * 3600 * 10**6, n)) + 1_767_225_600 * 10**6
    drop = np.where(ts < ts[n // 2], "d1", "d2")
    return pa.table({"ts": pa.array(ts, pa.timestamp("us", tz="UTC")), "drop": drop, "branch_path": paths})


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    a, b = runs(n, 0.08, 1), runs(n, 0.12, 2)
    ts = pc.cast(b.column("ts"), pa.int64()).to_numpy()
    t_ref, _ = timed(lambda: pc.value_counts(pc.list_flatten(b.column("branch_path").combine_chunks())))
    t_det, alerts = timed(lambda: branch_rate_alerts(b, np.arange(n), ts, {}, 3600.0, 3.0))
    t_drift, dim = timed(lambda: branch_dimension(a, b))
    check = {"kind": "share_between", "field": "branch_path", "value": "triage->human_review", "nonempty": True,
             "min": 0.05, "max": 0.11}
    t_check, res = timed(lambda: evaluate(check, b))
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out = {"runs": n, "detector_s": round(t_det, 3), "detector_runs_per_s": round(n / t_det),
           "drift_dimension_s": round(t_drift, 3), "drift_runs_per_s": round(2 * n / t_drift),
           "check_s": round(t_check, 3), "reference_value_counts_s": round(t_ref, 3),
           "detector_vs_reference": round(t_det / t_ref, 1), "drift_vs_reference": round(t_drift / (2 * t_ref), 1),
           "alerts": len(alerts), "check_holds": bool(res.holds), "peak_rss_mb": round(rss_mb)}
    print(f"{n:,} runs: detector {t_det:.2f} s ({n / t_det:,.0f} runs/s, {len(alerts)} alerts), drift dimension "
          f"{t_drift:.2f} s for {2 * n:,} runs, share check {t_check:.2f} s; pyarrow value_counts {t_ref:.3f} s; "
          f"peak RSS {rss_mb:,.0f} MB")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
