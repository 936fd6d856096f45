"""Anomaly quality bar on an LLM-log corpus: planted isolated latency spikes and a sustained latency shift must all be
found, with fewer than 1 false alarm per 10,000 normal events. Last line: one JSON object."""
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

N, SPIKES, SHIFT_LEN, SHIFT_FACTOR, SEED = 60_000, 12, 1_500, 1.6, 11
CLEAN = Drift(pii_rate=0.0, latency_factor=1.0, removed_tool=None, added_json_key=None, model_switch=None, escalation_factor=1.0)


def corpus():
    t = generate_entries(N, seed=SEED, drift=CLEAN, days=14.0)
    t = t.take(pc.sort_indices(t, [("ts", "ascending")]))
    lat = t.column("latency_ms").to_numpy(zero_copy_only=False).astype(float).copy()
    rng = np.random.default_rng(SEED)
    spikes = np.sort(rng.choice(np.arange(N // 10, N // 2), SPIKES, replace=False))
    lat[spikes] *= 25
    seg = pc.binary_join_element_wise(pc.fill_null(t.column("service"), "-"), pc.fill_null(t.column("model"), "-"),
                                      pc.fill_null(t.column("version"), "-"), "|").to_numpy(zero_copy_only=False)
    target = seg[N * 3 // 4]
    rows = np.flatnonzero(seg == target)
    shift_rows = rows[(rows >= N * 3 // 4)][:SHIFT_LEN]
    lat[shift_rows] *= SHIFT_FACTOR
    t = t.set_column(t.schema.get_field_index("latency_ms"), "latency_ms", pa.array(lat))
    return t, spikes, shift_rows, target


def main() -> None:
    t, spikes, shift_rows, target = corpus()
    start = time.perf_counter()
    found, _ = detect_anomalies(t, None, rates=False)
    secs = time.perf_counter() - start
    ids = t.column("entry_id").to_numpy(zero_copy_only=False)
    row_of = {e: i for i, e in enumerate(ids)}
    lat = found.filter(pc.equal(found.column("metric"), "latency_ms"))
    hit_rows = np.array(sorted(row_of[e] for e in lat.column("entry_id").to_pylist() if e in row_of), dtype=int)
    spikes_found = int(np.isin(spikes, hit_rows).sum())
    shift_hits = hit_rows[np.isin(hit_rows, shift_rows)]
    delay = int(np.searchsorted(shift_rows, shift_hits.min())) if len(shift_hits) else None
    planted = set(spikes.tolist()) | set(shift_rows.tolist())
    all_rows = [row_of.get(e) for e in found.column("entry_id").to_pylist()]
    false = sum(1 for r in all_rows if r is not None and r not in planted)
    normal = N - len(planted)
    per_10k = false / normal * 10_000
    print(f"{N:,} events, {SPIKES} planted spikes (x25 latency), a sustained x{SHIFT_FACTOR} latency shift on {len(shift_rows):,} "
          f"events of segment {target}; scored in {secs:.2f}s")
    print(f"spikes found: {spikes_found}/{SPIKES}; shift found: {'yes' if delay is not None else 'NO'}"
          f"{f' after {delay} shifted events' if delay is not None else ''}; "
          f"false alarms: {false} ({per_10k:.2f} per 10,000 normal events; goal < 1)")
    print(json.dumps({"events": N, "spikes": SPIKES, "spikes_found": spikes_found, "shift_found": delay is not None,
                      "shift_detection_delay_events": delay, "false_alarms": false,
                      "false_alarms_per_10k": round(per_10k, 3), "seconds": round(secs, 3)}))


if __name__ == "__main__":
    main()
