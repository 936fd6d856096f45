"""The strata command, run as a real subprocess: ingest JSON output, stdin, exit codes and error messages."""
import gzip
import json
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parents[1]
ROWS = [{"ts": f"2026-11-20T10:00:{i:02d}Z", "prompt": f"q{i}", "answer": "a", "latency_ms": 10 * i, "model": "gpt-4o"}
        for i in range(30)]


def strata(*args, stdin: bytes | None = None, cwd=None):
    return subprocess.run([sys.executable, "-m", "pipeline.cli", *args], input=stdin, capture_output=True,
                          cwd=cwd or REPO, timeout=120)


def jsonl(rows, bad=0):
    return ("\n".join(json.dumps(r) for r in rows) + "\n" + "{oops\n" * bad).encode()


def test_ingest_json_output_and_files(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    (src / "a.jsonl").write_bytes(jsonl(ROWS, bad=2))
    (src / "b.log.gz").write_bytes(gzip.compress(jsonl(ROWS[:10])))
    out = tmp_path / "out"
    p = strata("ingest", str(src), "--out", str(out), "--format", "json", "--drop", "d1")
    assert p.returncode == 0, p.stderr.decode()
    res = json.loads(p.stdout)
    assert (res["rows_read"], res["rows_kept"], res["rows_rejected"]) == (42, 40, 2)
    assert res["formats"] == {"jsonl": 2}
    t = pq.read_table(out / "log_entries" / "drop=d1" / "part-00000.parquet")
    assert t.num_rows == 40 and sorted(set(t.column("model").to_pylist())) == ["gpt-4o"]
    q = pq.read_table(out / "quarantine" / "drop=d1" / "rejects.parquet").to_pylist()
    assert [(r["line"], r["raw"], r["reason"]) for r in q] == [(31, b"{oops", "malformed JSON"), (32, b"{oops", "malformed JSON")]


def test_stdin_source(tmp_path):
    p = strata("ingest", "-", "--out", str(tmp_path / "o"), "--format", "json", stdin=jsonl(ROWS[:5]))
    assert p.returncode == 0, p.stderr.decode()
    assert json.loads(p.stdout)["rows_kept"] == 5


def test_missing_source_exits_2_naming_it(tmp_path):
    p = strata("ingest", str(tmp_path / "missing.jsonl"), "--out", str(tmp_path / "o"))
    assert p.returncode == 2 and b"missing.jsonl: no such object" in p.stderr


def test_truncated_gzip_exits_2_naming_object_and_cause(tmp_path):
    blob = gzip.compress(jsonl(ROWS * 50))
    (tmp_path / "t.jsonl.gz").write_bytes(blob[: len(blob) // 2])
    p = strata("ingest", str(tmp_path / "t.jsonl.gz"), "--out", str(tmp_path / "o"))
    assert p.returncode == 2 and b"t.jsonl.gz: gzip stream is truncated or corrupt" in p.stderr


def test_summary_json(tmp_path):
    (tmp_path / "a.jsonl").write_bytes(jsonl(ROWS))
    p = strata("summary", str(tmp_path / "a.jsonl"), "--format", "json")
    assert p.returncode == 0, p.stderr.decode()
    s = json.loads(p.stdout)
    assert s["rows_kept"] == 30 and s["models"] == {"gpt-4o": 30}
    assert s["roles"]["latency_ms"]["paths"] == ["$.latency_ms"]
    assert s["roles"]["input"]["paths"] == ["$.prompt"]
    assert s["latency_ms_p50"] == 145.0


def test_bad_config_exits_2_naming_setting(tmp_path):
    (tmp_path / "strata.yml").write_text("sampling: {method: nope}\n")
    (tmp_path / "a.jsonl").write_bytes(jsonl(ROWS))
    p = strata("--config", str(tmp_path / "strata.yml"), "summary", str(tmp_path / "a.jsonl"))
    assert p.returncode == 2 and b"sampling.method" in p.stderr
