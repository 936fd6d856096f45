"""End to end through the engine: a folder mixing formats and vendors, stable ids, costs, attributes, renames, sampling."""
import gzip
import io
import json
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.core.config import Sampling, StrataConfig
from pipeline.core.ingest.engine import ingest

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "vendors"
ROWS = [{"timestamp": f"2026-11-20T10:{i // 60:02d}:{i % 60:02d}Z", "prompt": f"question {i}", "response": {"text": f"answer {i}"},
         "model": "gpt-4o-mini", "latency_ms": 100 + i, "usage": {"prompt_tokens": 1000, "completion_tokens": 100},
         "session_id": f"s{i // 4}", "tenant": "acme", "status": "ok"} for i in range(200)]


def write_mixed_folder(root: Path) -> Path:
    d = root / "drop"
    d.mkdir()
    (d / "app.jsonl").write_text("\n".join(json.dumps(r) for r in ROWS[:100]) + "\n{broken\n")
    (d / "app2.log").write_bytes(gzip.compress(("\n".join(json.dumps(r) for r in ROWS[100:]) + "\n").encode()))
    (d / "export.csv").write_text("created_at,model,user_prompt,completion,duration_s\n"
                                  '2026-11-20T11:00:00Z,gpt-4o,"hi, there","yo",0.5\n2026-11-20T11:00:01Z,gpt-4o,"a","b",0.25\n')
    (d / "gw.logfmt").write_text('ts=2026-11-20T12:00:00Z model=gpt-4o duration_ms=12 msg="hello world"\n')
    buf = io.BytesIO()
    pq.write_table(pa.table({"ts": ["2026-11-20T13:00:00Z"], "prompt": ["p"], "output": ["o"], "latency_ms": [5.0]}), buf)
    (d / "t.parquet").write_bytes(buf.getvalue())
    shutil.copy(FIXTURES / "langfuse_agno-2025-06-11.json", d / "trace.json")
    return d


def test_mixed_folder(tmp_path):
    table, res = ingest(str(write_mixed_folder(tmp_path)), drop="d1")
    assert res.formats == {"jsonl": 2, "csv": 1, "logfmt": 1, "parquet": 1, "json": 1}
    assert res.vendors == {"langfuse": 1}
    assert (res.rows_read, res.rows_kept, res.rows_rejected) == (206, 205, 1)
    by_source = {s.url.rsplit("/", 1)[-1]: s for s in res.sources}
    assert by_source["app.jsonl"].rows_rejected == 1 and by_source["app2.log"].compression == "gzip"
    csv_rows = table.filter(pa.compute.ends_with(table.column("source"), "export.csv")).to_pylist()
    assert [(r["input"], r["output"], r["latency_ms"]) for r in csv_rows] == [("hi, there", "yo", 500.0), ("a", "b", 250.0)]
    assert all(r["provider"] == "openai" for r in csv_rows)
    (lf,) = table.filter(pa.compute.equal(table.column("source"), by_source["trace.json"].url)).to_pylist()
    assert lf["latency_ms"] == 6991.0 and (lf["prompt_tokens"], lf["completion_tokens"]) == (826, 245)


def test_entry_ids_are_stable_and_unique_across_reingest(tmp_path):
    d = write_mixed_folder(tmp_path)
    a, _ = ingest(str(d), drop="x")
    b, _ = ingest(str(d), drop="x")
    ids = a.column("entry_id").to_pylist()
    assert ids == b.column("entry_id").to_pylist() and len(set(ids)) == len(ids)


def test_costs_attributes_and_output_kind(tmp_path):
    p = tmp_path / "a.jsonl"
    p.write_text("\n".join(json.dumps(r) for r in ROWS[:3]) + "\n" + json.dumps({**ROWS[3], "response": {"text": '{"k": 1}'}}))
    t, res = ingest(str(p))
    r = t.to_pylist()
    assert res.costs_filled == 4
    assert abs(r[0]["cost_usd"] - (1000 * 0.15 + 100 * 0.60) / 1e6) < 1e-12
    assert json.loads(r[0]["attributes"]) == {"tenant": "acme"}
    assert [x["output_kind"] for x in r] == ["text", "text", "text", "json"]


def test_rename_mid_stream_fills_the_role_everywhere(tmp_path):
    rows = [dict(r) for r in ROWS] * 30
    for i, r in enumerate(rows):
        if i >= 3000:
            r = rows[i] = dict(r)
            r["input"] = r.pop("prompt")
    p = tmp_path / "r.jsonl"
    p.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    t, res = ingest(str(p))
    assert t.column("input").null_count == 0
    (rename,) = res.sources[0].evolution["renames"]
    assert (rename["old_path"], rename["new_path"], rename["first_new_line"]) == ("$.prompt", "$.input", 3001)


def test_configured_sampling_is_reported(tmp_path):
    p = tmp_path / "a.jsonl"
    p.write_text("\n".join(json.dumps(r) for r in ROWS) + "\n")
    cfg = StrataConfig(sampling=Sampling(method="random", max_rows=50, seed=3))
    t, res = ingest(str(p), config=cfg)
    assert t.num_rows == 50 and res.sample["rows_in"] == 200 and res.sample["method"] == "random"
    t2, _ = ingest(str(p), config=cfg)
    assert t.column("entry_id").to_pylist() == t2.column("entry_id").to_pylist()
