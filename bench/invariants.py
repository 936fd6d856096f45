"""Benchmark invariant discovery (all families, semantic on a sample) on 100k and 1M generated rows.

Each size runs in a fresh process so its peak RSS is its own. The last line printed is one JSON object."""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# Quoted, not measured on this machine: Sediment mines 100k rows in ~140 s at ~1 GB.
SEDIMENT_100K_SECONDS = 140.0
GOAL_1M_SECONDS, GOAL_1M_RSS_MB = 20.0, 2048


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def run_one(rows: int, seed: int) -> dict:
    from pipeline.core.invariants import check_staleness, discover
    from pipeline.core.invariants.synthetic import generate_entries

    discover(generate_entries(2_000, seed=seed + 1))  # warm-up: imports and first-call costs stay out of the timing
    t0 = time.perf_counter()
    entries = generate_entries(rows, seed=seed)
    generated = time.perf_counter() - t0
    rss_data = peak_rss_mb()
    t0, c0 = time.perf_counter(), time.process_time()
    found = discover(entries, semantic_sample=5000, seed=seed)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    t0 = time.perf_counter()
    statuses = [r.status for r in check_staleness(found, entries)]
    staleness = time.perf_counter() - t0
    families: dict[str, int] = {}
    for inv in found:
        families[inv.family] = families.get(inv.family, 0) + 1
    return {"rows": rows, "generate_s": round(generated, 2), "discover_s": round(wall, 2), "cpu_s": round(cpu, 2),
            "rows_per_s": round(rows / wall), "invariants": len(found), "by_family": families,
            "staleness_s": round(staleness, 2), "staleness_all_hold": all(s == "holds" for s in statuses),
            "peak_rss_mb": round(peak_rss_mb()), "rss_after_generate_mb": round(rss_data),
            "table_mb": round(entries.nbytes / 2**20)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, nargs="*", default=[100_000, 1_000_000])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.seed)))
        return
    results = []
    for rows in args.rows:
        out = subprocess.run([sys.executable, __file__, "--one", str(rows), "--seed", str(args.seed)],
                             capture_output=True, text=True, check=True)
        res = json.loads(out.stdout.strip().splitlines()[-1])
        results.append(res)
        print(f"{rows:>9,} rows: discover {res['discover_s']:6.2f} s ({res['rows_per_s']:>9,} rows/s, cpu {res['cpu_s']} s), "
              f"{res['invariants']} invariants, re-check {res['staleness_s']} s, peak RSS {res['peak_rss_mb']} MB (table {res['table_mb']} MB); "
              f"generating took {res['generate_s']} s", flush=True)
    summary = {"bench": "invariants.discover", "results": results,
               "sediment_100k_s_quoted": SEDIMENT_100K_SECONDS}
    for res in results:
        if res["rows"] == 100_000:
            summary["speedup_vs_sediment_100k"] = round(SEDIMENT_100K_SECONDS / res["discover_s"], 1)
        if res["rows"] == 1_000_000:
            summary["goal_1m"] = {"seconds": GOAL_1M_SECONDS, "rss_mb": GOAL_1M_RSS_MB,
                                  "met": res["discover_s"] < GOAL_1M_SECONDS and res["peak_rss_mb"] < GOAL_1M_RSS_MB}
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
