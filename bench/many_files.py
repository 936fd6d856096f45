"""Many-files benchmark: 100,000 tiny JSONL files (one to three records each) in one drop through `strata ingest`.

Reference in the same run: the very same records in ONE file, through the same command. Prints files/s, records/s,
seconds and peak RSS for both and the ratio; the last line is one JSON object. Goal: the 100,000 files within 2 minutes.
Each measurement runs in a fresh subprocess so peak RSS belongs to that run alone. BENCH_FILES changes the file count.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FILES = int(os.environ.get("BENCH_FILES", "100000"))
GOAL_SECONDS = 120

MEASURE = r"""
import json, resource, sys, time
sys.path.insert(0, sys.argv[1])
path, out = sys.argv[2], sys.argv[3]
t = time.perf_counter()
from pipeline.cli import main
import contextlib, io
buf = io.StringIO()
with contextlib.redirect_stdout(buf):
    main(["ingest", path, "--out", out, "--format", "json", "--drop", "bench"])
res = json.loads(buf.getvalue())
secs = time.perf_counter() - t
print(json.dumps({"rows": res["rows_kept"], "rejected": res["rows_rejected"], "objects": res["objects"],
                  "seconds": secs, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def record(i: int) -> str:
    return json.dumps({"ts": f"2026-11-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:{(i * 7) % 60:02d}Z",
                       "request_id": f"req_{i:09d}", "model": ("gpt-4o-mini", "claude-3-5-sonnet")[i % 2],
                       "prompt": f"Question {i % 997} about order {i}", "response": "Refund issued.",
                       "latency_ms": 200 + i % 900, "usage": {"prompt_tokens": 40 + i % 50, "completion_tokens": 9}})


def generate(drop: Path, single: Path, n: int) -> int:
    """n files of 1-3 records each under drop/<shard>/, and the same records in `single`; returns the record count."""
    rows = 0
    with single.open("w") as one:
        for f in range(n):
            shard = drop / f"hour={f % 24:02d}"
            if f < 24:
                shard.mkdir(parents=True)
            text = "".join(record(rows + k) + "\n" for k in range(1 + f % 3))
            rows += 1 + f % 3
            (shard / f"part-{f:06d}.jsonl").write_text(text)
            one.write(text)
    return rows


def measure(path: Path, out: Path) -> dict:
    proc = subprocess.run([sys.executable, "-c", MEASURE, str(REPO), str(path), str(out)], capture_output=True,
                          text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        drop, single = Path(tmp) / "drop", Path(tmp) / "single.jsonl"
        t = time.perf_counter()
        rows = generate(drop, single, FILES)
        print(f"generated {FILES:,} files holding {rows:,} records in {time.perf_counter() - t:.1f}s")
        many = measure(drop, Path(tmp) / "lake-many")
        one = measure(single, Path(tmp) / "lake-one")
    assert many["rows"] == one["rows"] == rows and many["objects"] == FILES, (many, one)
    for name, m in ((f"{FILES:,} files", many), ("one file (reference)", one)):
        print(f"{name:<22} {m['objects'] / m['seconds']:>10,.0f} objects/s {m['rows'] / m['seconds']:>10,.0f} records/s "
              f"{m['seconds']:>7.2f} s  peak RSS {m['peak_rss_mb']:>6,.0f} MB")
    ratio = many["seconds"] / one["seconds"]
    print(f"{FILES:,} files take {ratio:.1f}x the same records in one file; goal: within {GOAL_SECONDS} s "
          f"({'met' if many['seconds'] <= GOAL_SECONDS else 'NOT met'})")
    print(json.dumps({
        "files": FILES, "records": rows, "files_per_s": round(many["objects"] / many["seconds"]),
        "seconds": round(many["seconds"], 2), "peak_rss_mb": round(many["peak_rss_mb"]),
        "reference_one_file_seconds": round(one["seconds"], 2), "reference_peak_rss_mb": round(one["peak_rss_mb"]),
        "ratio_vs_one_file": round(ratio, 2), "goal_seconds": GOAL_SECONDS, "goal_met": many["seconds"] <= GOAL_SECONDS,
    }))


if __name__ == "__main__":
    main()
