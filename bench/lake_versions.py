"""The versioned lake on S3 (moto's ThreadedMotoServer on loopback): re-ingesting one drop of N rows with the
versioned layout (files under v-<id>/, one manifest PUT, then the superseded version deleted) against two references
in the same run: the previous lake.py (bench/reference/lake_before_versions.py, unchanged but for absolute imports:
staging upload, then delete the drop and copy each file in) and a bare upload of the entries (no atomicity at all). Also the read of the drop (manifest GET vs listing). Last line: one
JSON object.

    python bench/lake_versions.py [rows]     # default 300000 rows; 3 repetitions, the median reported
"""
import json
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench" / "reference"))

import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402
from moto.server import ThreadedMotoServer  # noqa: E402

from pipeline.core.entry_schema import CANONICAL_SCHEMA  # noqa: E402
from pipeline.core.ingest.sources import filesystem  # noqa: E402
from pipeline.core.storage.lake import read_entries, write_drop  # noqa: E402
from pipeline.core.storage.lake_layout import drop_dir  # noqa: E402
import lake_before_versions as before  # noqa: E402

REPS = 3


def entries(n: int) -> pa.Table:
    import numpy as np

    cols = {name: pa.nulls(n, CANONICAL_SCHEMA.field(name).type) for name in CANONICAL_SCHEMA.names}
    cols["entry_id"] = pa.array(np.char.add("e", np.arange(n).astype(str)))
    cols["input"] = pa.array(np.char.add("prompt number ", (np.arange(n) % 997).astype(str)))
    cols["latency_ms"] = pa.array(np.random.default_rng(1).gamma(2, 300, n)).cast(CANONICAL_SCHEMA.field("latency_ms").type)
    return pa.table(cols, schema=CANONICAL_SCHEMA)


def bare_upload(fs, lake: str, key: str, table: pa.Table, i: int) -> None:
    dst = drop_dir(lake, "log_entries", key)
    with fs.open(f"{dst}/part-00000.parquet", "wb") as f:
        pq.write_table(table, f, compression="zstd")
    fs.pipe_file(fs._strip_protocol(f"{dst}/_ingest.json"), b"{}")


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 300_000
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    opts = {"key": "testing", "secret": "testing", "client_kwargs": {"endpoint_url": f"http://{host}:{port}"}}
    fs = filesystem("s3://bench", opts)
    fs.mkdir("bench")
    table = entries(rows)
    out: dict = {"rows": rows, "repetitions": REPS}
    try:
        results = {"versioned": [], "old_copy": [], "bare_upload": [], "read_versioned": [], "read_flat": []}
        for i in range(REPS):
            results["versioned"].append(timed(lambda: write_drop(
                "s3://bench/v", "d", [table], lambda: [], lambda: {}, opts)))
            results["old_copy"].append(timed(lambda: before.write_drop(
                "s3://bench/o", "d", [table], lambda: [], lambda: {}, opts)))
            results["bare_upload"].append(timed(lambda: bare_upload(fs, "s3://bench/b", "d", table, i)))
            results["read_versioned"].append(timed(lambda: read_entries("s3://bench/v", "d", opts)))
            results["read_flat"].append(timed(lambda: read_entries("s3://bench/o", "d", opts)))
        med = {k: statistics.median(v) for k, v in results.items()}
        assert read_entries("s3://bench/v", "d", opts).num_rows == rows
        for k, v in med.items():
            print(f"{k:15s} {v:7.3f} s  {rows / v:12,.0f} rows/s")
        out.update({f"{k}_s": round(v, 3) for k, v in med.items()})
        out["versioned_vs_old_copy"] = round(med["versioned"] / med["old_copy"], 3)
        out["versioned_vs_bare_upload"] = round(med["versioned"] / med["bare_upload"], 3)
        out["read_versioned_vs_flat"] = round(med["read_versioned"] / med["read_flat"], 3)
        out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    finally:
        server.stop()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
