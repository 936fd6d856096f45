"""Schema evolution: renames, additions and removals located at exact lines, and renamed fields feeding one role."""
from __future__ import annotations

import json
import time

import numpy as np
import pyarrow as pa
import pytest

from pipeline.core.ingest.normalize import connect, normalize_records
from pipeline.core.ingest.records import RECORDS_SCHEMA, records_from_dicts
from pipeline.core.ingest.schema_evolution import FieldRename, SchemaEvolution, detect_evolution, take_rows
from pipeline.core.ingest.schema_infer import infer_schema


def stream(n: int, make) -> pa.Table:
    return records_from_dicts("app.jsonl", [(i + 1, 0, make(i)) for i in range(n)])


def prompt_to_input(i: int) -> dict:
    rec = {"ts": f"2024-06-01T12:{i % 60:02d}:00Z", "model": ["gpt-4o", "gpt-4o-mini"][i % 2], "latency_ms": 200 + i % 700,
           "output": f"answer number {i}", "request_id": f"r{i}"}
    rec["prompt" if i < 4999 else "input"] = f"user question number {i}"  # line 5000 (i = 4999) is the first `input`
    if i % 20 == 0:
        rec["error"] = "rate limited"  # sparse optional field: not an evolution
    return rec


def test_rename_at_exact_line_and_inferred_mapping_fills_every_row():
    records = stream(10_000, prompt_to_input)
    con = connect()
    evo = detect_evolution(records, con=con)
    assert evo.renames == [FieldRename("$.prompt", "$.input", "input", 5000, 4999, evo.renames[0].confidence)]
    assert evo.renames[0].confidence >= 0.9
    assert evo.added == [] and evo.removed == [] and evo.probe_rows == 10_000
    assert evo.describe() == [
        "field `prompt` renamed to `input` around entry 5000 (last old at line 4999, first new at line 5000), role input"
    ]
    assert json.loads(json.dumps(evo.to_dict()))["renames"][0]["first_new_line"] == 5000

    raws = records.column("raw").to_pylist()
    sample = [json.loads(r) for r in raws[:: len(raws) // 2000]]  # strided, as ingest samples
    inferred = infer_schema(sample)
    assert [s.path for s in inferred.mapping.roles["input"]] == ["$.input", "$.prompt"]
    entries = normalize_records(records, inferred.mapping, con=con).entries
    assert entries.num_rows == 10_000 and entries.column("input").null_count == 0
    got = entries.column("input").to_pylist()
    assert got[4998] == "user question number 4998" and got[4999] == "user question number 4999"
    assert got == [f"user question number {i}" for i in range(10_000)]


def test_small_probe_still_finds_exact_lines():
    evo = detect_evolution(stream(10_000, prompt_to_input), probe_rows=400)
    assert evo.probe_rows == 400
    assert [(r.old_path, r.new_path, r.first_new_line, r.last_old_line) for r in evo.renames] == [("$.prompt", "$.input", 5000, 4999)]


def test_nested_rename_added_and_removed_fields():
    def make(i: int) -> dict:
        usage = {"prompt_tokens": 10 + i % 5} if i < 3000 else {"input_tokens": 10 + i % 5}
        rec = {"ts": 1717243200 + i, "output": f"text {i}", "usage": {**usage, "completion_tokens": 3}}
        if i < 2000:
            rec["latency_ms"] = 100 + i % 50  # removed at line 2000 ...
        else:
            rec["region"] = ["eu-west", "us-east"][i % 2]  # ... while an unrelated string field appears: not a rename
        return rec

    evo = detect_evolution(stream(4000, make))
    assert [(r.old_path, r.new_path, r.role, r.first_new_line, r.last_old_line) for r in evo.renames] == [
        ("$.usage.prompt_tokens", "$.usage.input_tokens", "prompt_tokens", 3001, 3000)
    ]
    assert evo.added == [("$.region", 2001)] and evo.removed == [("$.latency_ms", 2000)]
    assert "field `region` appears from line 2001" in evo.describe()
    assert "field `latency_ms` last seen at line 2000" in evo.describe()


def test_renamed_object_is_reported_once():
    def make(i: int) -> dict:
        meta = {"user": f"u{i % 7}", "plan": "pro"}
        return {"output": f"o{i}", ("meta" if i < 500 else "metadata"): meta}

    evo = detect_evolution(stream(1000, make))
    assert [(r.old_path, r.new_path, r.first_new_line) for r in evo.renames] == [("$.meta", "$.metadata", 501)]
    assert evo.added == [] and evo.removed == []


def test_stable_stream_malformed_lines_and_empty_table():
    records = stream(3000, lambda i: {"a": i, "b": "x" * (i % 9), **({"err": "e"} if i % 37 == 0 else {})})
    raw = records.column("raw").to_pylist()
    raw[10], raw[20] = "{not json", "[1, 2]"
    records = records.set_column(3, "raw", pa.array(raw, pa.large_string()))
    evo = detect_evolution(records)
    assert evo == SchemaEvolution([], [], [], 2998) and evo.describe() == []
    assert detect_evolution(RECORDS_SCHEMA.empty_table()).to_dict()["renames"] == []


def test_large_stream_is_fast():
    n = 300_000
    tpl_a = '{"ts": "2024-05-01T10:00:00Z", "model": "m", "prompt": "question %d", "latency_ms": %d, "usage": {"prompt_tokens": 12}}'
    tpl_b = '{"ts": "2024-05-01T10:00:00Z", "model": "m", "input": "question %d", "latency_ms": %d, "usage": {"prompt_tokens": 12}}'
    raws = [(tpl_a if i < 123_456 else tpl_b) % (i, 300 + i % 900) for i in range(n)]
    table = pa.table({"source": pa.array(["big.jsonl"] * n), "line": pa.array(np.arange(1, n + 1)),
                      "sub": pa.array(np.zeros(n, np.int32)), "raw": pa.array(raws, pa.large_string())}, schema=RECORDS_SCHEMA)
    con = connect()
    detect_evolution(table.slice(0, 1000), con=con)  # warm up
    t0 = time.perf_counter()
    evo = detect_evolution(table, con=con)
    elapsed = time.perf_counter() - t0
    assert [(r.old_path, r.new_path, r.first_new_line, r.last_old_line) for r in evo.renames] == [("$.prompt", "$.input", 123_457, 123_456)]
    assert elapsed < 5.0, f"detect_evolution took {elapsed:.2f}s on {n} rows"


@pytest.mark.parametrize("cut", [1, 2, 9_998])
def test_switch_near_the_edges(cut):
    evo = detect_evolution(stream(10_000, lambda i: {("q" if i < cut else "question"): f"text {i}", "n": i}))
    if cut <= 2:  # one or two rows are too little evidence of a field being switched off
        assert all(r.first_new_line == cut + 1 for r in evo.renames)
    else:
        assert [(r.old_path, r.new_path, r.first_new_line) for r in evo.renames] == [("$.q", "$.question", cut + 1)]


@pytest.mark.parametrize("seed", range(20))
def test_take_rows_matches_a_take_on_the_concatenated_column(seed):
    """The probe's chunk-by-chunk take (no concatenation of a large column) against the plain take."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(0, 7, size=rng.integers(1, 6))
    chunks = [pa.array([f"r{seed}-{i}-{j}" for j in range(n)], pa.large_string()) for i, n in enumerate(sizes)]
    col = pa.chunked_array(chunks, pa.large_string())
    total = len(col)
    idx = np.unique(rng.integers(0, max(total, 1), size=rng.integers(0, total + 1))) if total else np.empty(0, np.int64)
    got = take_rows(col, idx.astype(np.int64))
    assert got.to_pylist() == col.combine_chunks().take(pa.array(idx, pa.int64())).to_pylist()


def test_duckdb_never_draws_a_progress_bar_on_stdout(tmp_path):
    """A normalize query over 2 s would otherwise print DuckDB's bar into `strata ingest --format json` output."""
    from pipeline.core.storage.warehouse_lock import connect_warehouse

    assert connect().sql("SELECT current_setting('enable_progress_bar')").fetchall() == [(False,)]
    with connect_warehouse(str(tmp_path / "w.duckdb")) as con:
        assert con.sql("SELECT current_setting('enable_progress_bar')").fetchall() == [(False,)]
