"""Anomaly quality bar on an LLM-log corpus: planted isolated latency spikes and a sustained latency shift must all be
found, with fewer than 1 false alarm per 10,000 normal events, over several seeds. Last line: one JSON object."""
import json
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.core.detectors import detect_anomalies  # noqa: E402
from pipeline.core.invariants.synthetic import Drift, generate_entries  # noqa: E402

N, SPIKES, SHIFT_LEN, SHIFT_FACTOR, SEEDS = 60_000, 12, 1_500, 1.6, tuple(range(11, 21))
CLEAN = Drift(pii_rate=0.0, latency_factor=1.0, removed_tool=None, added_json_key=None, model_switch=None, escalation_factor=1.0)


def corpus(seed: int):
    """Spikes (x25) on successful requests in the first half; the shift on the largest segment's events from 3/4 on
    (failed requests are the error-rate detector's, so planting latency there would test nothing)."""
    t = generate_entries(N, seed=seed, drift=CLEAN, days=14.0)
    t = t.take(pc.sort_indices(t, [("ts", "ascending")]))
    lat = t.column("latency_ms").to_numpy(zero_copy_only=False).astype(float).copy()
    ok = np.flatnonzero(pc.fill_null(pc.not_equal(t.column("status"), "error"), True).to_numpy(zero_copy_only=False))
    rng = np.random.default_rng(seed)
    spikes = np.sort(rng.choice(ok[(ok >= N // 10) & (ok < N // 2)], SPIKES, replace=False))
    lat[spikes] *= 25
    seg = pc.binary_join_element_wise(pc.fill_null(t.column("service"), "-"), pc.fill_null(t.column("model"), "-"),
                                      pc.fill_null(t.column("version"), "-"), "|").to_numpy(zero_copy_only=False)
    names, counts = np.unique(seg, return_counts=True)
    target = names[np.argmax(counts)]
    rows = np.intersect1d(np.flatnonzero(seg == target), ok)
    shift_rows = rows[rows >= N * 3 // 4][:SHIFT_LEN]
    lat[shift_rows] *= SHIFT_FACTOR
    t = t.set_column(t.schema.get_field_index("latency_ms"), "latency_ms", pa.array(lat))
    return t, spikes, shift_rows, target


def run(seed: int) -> dict:
    t, spikes, shift_rows, target = corpus(seed)
    start = time.perf_counter()
    found, _ = detect_anomalies(t, None, rates=False)
    secs = time.perf_counter() - start
    row_of = {e: i for i, e in enumerate(t.column("entry_id").to_numpy(zero_copy_only=False))}
    lat = found.filter(pc.equal(found.column("metric"), "latency_ms"))
    hit_rows = np.array(sorted(row_of[e] for e in lat.column("entry_id").to_pylist() if e in row_of), dtype=int)
    shift_hits = hit_rows[np.isin(hit_rows, shift_rows)]
    planted = set(spikes.tolist()) | set(shift_rows.tolist())
    false = [r for r in (row_of.get(e) for e in found.column("entry_id").to_pylist()) if r is not None and r not in planted]
    metrics = found.column("metric").to_numpy(zero_copy_only=False)
    by_metric = {}
    for r, m in zip((row_of.get(e) for e in found.column("entry_id").to_pylist()), metrics):
        if r is not None and r not in planted:
            by_metric[m] = by_metric.get(m, 0) + 1
    return {"seed": seed, "target": str(target), "spikes_found": int(np.isin(spikes, hit_rows).sum()),
            "shift_delay": int(np.searchsorted(shift_rows, shift_hits.min())) if len(shift_hits) else None,
            "false": len(false), "per_10k": len(false) / (N - len(planted)) * 10_000, "by_metric": by_metric,
            "seconds": secs}


def main() -> None:
    results = [run(s) for s in SEEDS]
    print(f"{N:,} events per seed, {SPIKES} planted spikes (x25 latency), a sustained x{SHIFT_FACTOR} latency shift "
          f"on {SHIFT_LEN:,} events of the largest segment")
    for r in results:
        delay = f"after {r['shift_delay']} shifted events" if r["shift_delay"] is not None else "NOT found"
        print(f"seed {r['seed']}: spikes {r['spikes_found']}/{SPIKES}; shift {delay}; false alarms {r['false']} "
              f"({r['per_10k']:.2f} per 10k normal events) {r['by_metric']}; scored in {r['seconds']:.2f}s")
    mean_fa = float(np.mean([r["per_10k"] for r in results]))
    print(f"mean false alarms per 10k: {mean_fa:.2f} (goal < 1)")
    print(json.dumps({"events": N, "seeds": len(SEEDS), "spikes": SPIKES,
                      "spikes_found": sum(r["spikes_found"] for r in results) / len(SEEDS),
                      "shift_found": all(r["shift_delay"] is not None for r in results),
                      "shift_detection_delay_events": max((r["shift_delay"] or 0) for r in results),
                      "false_alarms_per_10k": round(mean_fa, 3),
                      "false_alarms_per_10k_max": round(max(r["per_10k"] for r in results), 3),
                      "seconds": round(sum(r["seconds"] for r in results), 3)}))


if __name__ == "__main__":
    main()
