"""Ingest benchmark: a 1,000,000-row JSONL drop (~600 B/row) through `strata ingest`, next to DuckDB's own read_json_auto.

Prints rows/s, MB/s, CPU seconds and peak RSS for each, and the ratios (wall clock, and CPU seconds: the steadier
figure on a shared machine); the last line is one JSON object with the figures. Each measurement runs in a fresh
subprocess so peak RSS belongs to that run alone; both timings include the imports each side needs.
BENCH_INGEST_FAST_PATH=0 measures strata with the clean-JSONL fast path switched off (the line-exact reader).
"""
from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ROWS = int(os.environ.get("BENCH_INGEST_ROWS", "1000000"))

MEASURE = r"""
import json, resource, sys, time
sys.path.insert(0, sys.argv[1])
kind, path, out = sys.argv[2], sys.argv[3], sys.argv[4]
t = time.perf_counter()
r0 = resource.getrusage(resource.RUSAGE_SELF)
if kind == "duckdb":
    import duckdb
    con = duckdb.connect()
    rows = con.sql(f"SELECT * FROM read_json_auto('{path}')").to_arrow_table().num_rows
else:
    from pipeline.cli import main
    import contextlib, io, os
    if os.environ.get("BENCH_INGEST_FAST_PATH", "1") == "0":
        from pipeline.core.ingest import fast_path
        fast_path.ENABLED = False
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        main(["ingest", path, "--out", out, "--format", "json"])
    rows = json.loads(buf.getvalue())["rows_kept"]
secs = time.perf_counter() - t
r1 = resource.getrusage(resource.RUSAGE_SELF)
cpu = (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)
print(json.dumps({"rows": rows, "seconds": secs, "cpu_seconds": cpu, "peak_rss_mb": r1.ru_maxrss / 1024}))
"""


def generate(path: Path, n: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    models = ["gpt-4o-mini-2024-07-18", "gpt-4o-2024-08-06", "claude-3-5-sonnet-20241022"]
    with path.open("w") as f:
        for i in range(n):
            row = {
                "timestamp": f"2026-11-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:{(i * 7) % 60:02d}.{i % 1000:03d}Z",
                "request_id": f"req_{i:010d}",
                "session": {"id": f"sess_{i // 5:08d}", "user_id": f"user_{i % 5000:05d}"},
                "service": "support-bot",
                "model": models[i % 3],
                "prompt_version": "v2" if i > n // 2 else "v1",
                "prompt": f"Customer {i % 997} asks why the invoice for order {i} was charged twice and wants a refund now.",
                "response": {"text": '{"answer": "I have checked your account and the duplicate charge will be refunded within five business days.", "escalate": false}',
                             "finish_reason": "stop"},
                "latency_ms": round(rng.lognormvariate(6.6, 0.35), 1),
                "usage": {"prompt_tokens": 150 + i % 300, "completion_tokens": 20 + i % 180},
                "status": "ok" if i % 50 else "error",
                "tools": ["lookup_account", "search_kb"][: i % 3],
            }
            f.write(json.dumps(row) + "\n")


def measure(kind: str, path: Path, out: Path) -> dict:
    proc = subprocess.run([sys.executable, "-c", MEASURE, str(REPO), kind, str(path), str(out)],
                          capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "drop.jsonl"
        t = time.perf_counter()
        generate(path, ROWS)
        size_mb = path.stat().st_size / 1e6
        print(f"generated {ROWS:,} rows, {size_mb:,.0f} MB ({size_mb * 1e6 / ROWS:,.0f} B/row) in {time.perf_counter() - t:.1f}s")
        duck = measure("duckdb", path, Path(tmp) / "unused")
        ours = measure("strata", path, Path(tmp) / "lake")
    for name, m in (("duckdb read_json_auto", duck), ("strata ingest", ours)):
        print(f"{name:<22} {m['rows'] / m['seconds']:>12,.0f} rows/s {size_mb / m['seconds']:>8,.1f} MB/s "
              f"{m['seconds']:>7.2f} s {m['cpu_seconds']:>7.2f} CPU s  peak RSS {m['peak_rss_mb']:>7,.0f} MB")
    ratio = ours["seconds"] / duck["seconds"]
    cpu_ratio = ours["cpu_seconds"] / duck["cpu_seconds"]
    print(f"strata ingest takes {ratio:.2f}x DuckDB's raw read in wall time, {cpu_ratio:.2f}x in CPU time "
          f"(goal <= 2x); peak RSS goal < 2048 MB")
    print(json.dumps({
        "rows": ROWS, "mb": round(size_mb, 1),
        "strata_rows_per_s": round(ours["rows"] / ours["seconds"]), "strata_mb_per_s": round(size_mb / ours["seconds"], 1),
        "strata_seconds": round(ours["seconds"], 3), "strata_cpu_seconds": round(ours["cpu_seconds"], 3), "strata_peak_rss_mb": round(ours["peak_rss_mb"]),
        "duckdb_rows_per_s": round(duck["rows"] / duck["seconds"]), "duckdb_seconds": round(duck["seconds"], 3), "duckdb_cpu_seconds": round(duck["cpu_seconds"], 3),
        "duckdb_peak_rss_mb": round(duck["peak_rss_mb"]), "ratio_vs_duckdb": round(ratio, 3), "cpu_ratio_vs_duckdb": round(cpu_ratio, 3),
        "fast_path": os.environ.get("BENCH_INGEST_FAST_PATH", "1") != "0",
    }))


if __name__ == "__main__":
    main()
