"""What one drop's run does to the warehouse, as a function a separate process runs (multiprocessing spawn, the way
the queued run coordinator launches runs as processes): ingest the drop into the lake, then write the drop's
per-drop tables (the lake's entries, drops, schemas, anomalies) and one row of a daily table with the run's token."""
from __future__ import annotations

import json
import time

import pyarrow as pa
import pyarrow.compute as pc

N_ROWS = 60


def drop_rows(i: int) -> list[dict]:
    return [{"timestamp": f"2026-11-{10 + i:02d}T10:{j // 60:02d}:{j % 60:02d}Z", "prompt": f"q{i}-{j}",
             "response": {"text": "ok"}, "model": "gpt-4o-mini", "latency_ms": 100 + j + (5000 if j == 7 else 0),
             "usage": {"prompt_tokens": 10, "completion_tokens": 5}, "session_id": f"s{j // 4}", "status": "ok"}
            for j in range(N_ROWS)]


def drop_bytes(i: int) -> bytes:
    return ("\n".join(json.dumps(r) for r in drop_rows(i)) + "\n").encode()


def make_store(kind: str, where: str, options: dict):
    if kind == "delta":
        from pipeline.core.storage.store_delta import DeltaStore

        return DeltaStore(where, options)
    from pipeline.core.storage.store_duckdb import DuckDBFileStore

    return DuckDBFileStore(where, lock_timeout_s=120)


def run_drop(kind: str, where: str, drops_url: str, lake_url: str, options: dict, key: str, run_id: str) -> dict:
    """`options` are the warehouse's storage options (drops and lake are local folders here)."""
    """One run for one drop; returns what it wrote and any error (as text, so the parent can assert none)."""
    from pipeline.core.ingest.drop_ingest import ingest_drop
    from pipeline.core.storage.anomaly_store import store_anomalies
    from pipeline.core.storage.drops import drop_objects
    from pipeline.core.storage.lake import read_entries
    from pipeline.core.storage.warehouse import record_drop

    t0 = time.perf_counter()
    try:
        done = ingest_drop(drop_objects(drops_url, key), lake_url, key)
        entries = read_entries(lake_url, key).select(["ts", "line", "model", "latency_ms", "input"])
        entries = entries.add_column(0, "drop", pa.array([key] * entries.num_rows, pa.string()))
        slow = entries.filter(pc.greater(entries.column("latency_ms"), 1000))
        found = pa.table({"ts": slow.column("ts"), "line": slow.column("line"), "metric": ["latency_ms"] * slow.num_rows,
                          "score": pa.array([9.0] * slow.num_rows), "severity": ["critical"] * slow.num_rows})
        store = make_store(kind, where, options)
        try:
            store.replace("log_entries", entries, {"drop": key})
            record_drop(store, key, done.report())
            store_anomalies(store, key, found)
            store.append("ingest_runs", pa.table({"run_id": [run_id], "drop": [key], "rows": [entries.num_rows]}),
                         token=run_id)
        finally:
            getattr(store, "close", lambda: None)()
        return {"key": key, "rows": entries.num_rows, "error": None, "seconds": time.perf_counter() - t0,
                "retries": getattr(store, "retries", 0)}
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which asserts there were none
        return {"key": key, "rows": 0, "error": f"{type(exc).__name__}: {exc}", "seconds": time.perf_counter() - t0}


def replace_forever(where: str, options: dict, key: str, rows: int) -> None:
    """Rewrite one drop's rows with a large table again and again (killed from outside mid-write)."""
    from pipeline.core.storage.store_delta import DeltaStore

    store = DeltaStore(where, options)
    n = 0
    while True:
        n += 1
        store.replace("log_entries", pa.table({"drop": [key] * rows, "line": pa.array(range(rows), pa.int64()),
                                               "model": [f"v{n}"] * rows}), {"drop": key})


def replace_forever_duckdb(path: str, key: str, rows: int) -> None:
    """The same on the DuckDB file: each replace is one transaction, killed from outside at some point."""
    from pipeline.core.storage.store_duckdb import DuckDBFileStore

    n = 0
    with DuckDBFileStore(path, lock_timeout_s=60) as store:
        while True:
            n += 1
            store.replace("log_entries", pa.table({"drop": [key] * rows, "line": pa.array(range(rows), pa.int64()),
                                                   "model": [f"v{n}"] * rows}), {"drop": key})
