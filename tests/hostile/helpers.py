"""Shared builders for the hostile-input tests: records, files, and the conservation check through the lake."""
from __future__ import annotations

import json

import pyarrow.parquet as pq

from pipeline.core.ingest.drop_ingest import ingest_drop


def rec(i: int) -> dict:
    return {"ts": f"2026-11-20T10:{i // 60 % 60:02d}:{i % 60:02d}Z", "model": "gpt-4o", "input": f"question {i}",
            "output": f"answer {i}", "latency_ms": 100 + i}


def line(i: int) -> bytes:
    return json.dumps(rec(i)).encode()


def jsonl(n: int, start: int = 0) -> bytes:
    return b"".join(line(i) + b"\n" for i in range(start, start + n))


def to_lake(source, lake, drop: str = "d1", **kwargs):
    """Ingest `source` as one drop; return (kept entries, quarantine rows, result) read back from the lake."""
    out = ingest_drop(str(source), str(lake), drop, **kwargs)
    entries = pq.read_table(f"{lake}/log_entries/drop={drop}/part-00000.parquet")
    quarantine = pq.read_table(f"{lake}/quarantine/drop={drop}/rejects.parquet").to_pylist()
    r = out.result
    assert entries.num_rows == r.rows_kept and len(quarantine) == r.rows_rejected
    assert r.rows_kept + r.rows_rejected == r.rows_read
    return entries, quarantine, r
