"""Decompression bombs, binary objects and UTF-16: memory bounded (peak RSS measured in a child), quarantine byte-exact."""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import zlib
from pathlib import Path

from pipeline.core.ingest import ingest
from pipeline.core.ingest.compression import DECOMPRESS_CHUNK, QUARANTINE_MAX_BYTES

from .helpers import jsonl, line, to_lake

REPO = Path(__file__).resolve().parents[2]
LIMIT = 64 << 20  # MAX_OBJECT_BYTES for the child: the bound below is stated in multiples of it


def gzip_bomb(path: Path, block: bytes, member_bytes: int = 64 << 20, members: int = 32) -> None:
    """members x member_bytes of `block` repeated, as concatenated gzip members (2 GiB decompressed by default)."""
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    reps = (1 << 20) // len(block)
    chunk = block * reps
    member = b"".join(c.compress(chunk) for _ in range(member_bytes // len(chunk))) + c.flush()
    path.write_bytes(member * members)


CHILD = """
import json, resource, sys
from pipeline.core.ingest import compression as sources
from pipeline.core.ingest.drop_ingest import ingest_drop
import pyarrow.parquet as pq
sources.MAX_OBJECT_BYTES = int(sys.argv[3])
sources.MAX_RATIO = 10  # so the limit is MAX_OBJECT_BYTES for these ~2 MB bombs
ingest_drop(sys.argv[4], sys.argv[2] + "-warm", "w")  # load DuckDB and the readers before the baseline
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
out = ingest_drop(sys.argv[1], sys.argv[2], "d1")
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
q = pq.read_table(sys.argv[2] + "/quarantine/drop=d1/rejects.parquet").to_pylist()
print(json.dumps({"base_kb": base, "peak_kb": peak, "kept": out.result.rows_kept, "rejected": out.result.rows_rejected,
                  "reasons": [r["reason"] for r in q], "raw_sha": [__import__("hashlib").sha256(r["raw"]).hexdigest() for r in q]}))
"""


def run_child(src: Path, lake: Path, warm: Path) -> dict:
    p = subprocess.run([sys.executable, "-c", CHILD, str(src), str(lake), str(LIMIT), str(warm)], capture_output=True,
                       cwd=REPO, timeout=300)
    assert p.returncode == 0, p.stderr.decode()[-2000:]
    return json.loads(p.stdout.decode().strip().splitlines()[-1])


def test_gzip_bombs_bounded_memory_and_quarantined_as_stored(tmp_path):
    """A 2 GiB bomb of zeros and one of `{}` records: peak RSS grows by at most the object limit + 8 decompression
    chunks (the stated bound), each bomb is one reject holding the object as stored, the rest of the drop is kept."""
    drop = tmp_path / "drop"
    drop.mkdir()
    gzip_bomb(drop / "zeros.jsonl.gz", b"\x00")
    gzip_bomb(drop / "records.jsonl.gz", b"{}\n")
    (drop / "good.jsonl").write_bytes(jsonl(20))
    warm = tmp_path / "warm.jsonl"
    warm.write_bytes(jsonl(5))
    res = run_child(drop, tmp_path / "lake", warm)
    grown = (res["peak_kb"] - res["base_kb"]) * 1024
    assert grown <= LIMIT + 8 * DECOMPRESS_CHUNK, f"peak grew by {grown / 2**20:.0f} MiB"
    assert (res["kept"], res["rejected"]) == (20, 2)
    assert all(r.startswith("decompression bomb: gzip content over the") for r in res["reasons"])
    stored = sorted(hashlib.sha256((drop / n).read_bytes()).hexdigest() for n in ("zeros.jsonl.gz", "records.jsonl.gz"))
    assert sorted(res["raw_sha"]) == stored  # byte-exact: the objects as stored


def test_ordinary_compressed_logs_are_not_bombs(tmp_path):
    import gzip

    (tmp_path / "a.jsonl.gz").write_bytes(gzip.compress(jsonl(2000)))  # ratio ~10: read normally
    _, _, r = to_lake(tmp_path / "a.jsonl.gz", tmp_path / "lake")
    assert (r.rows_kept, r.rows_rejected) == (2000, 0)


def test_binary_object_quarantined_whole_and_over_the_cap_by_size_and_hash(tmp_path):
    drop = tmp_path / "drop"
    drop.mkdir()
    small, big = os.urandom(3_000_000), os.urandom(QUARANTINE_MAX_BYTES + 1)
    (drop / "a.bin").write_bytes(small)
    (drop / "b.bin").write_bytes(big)
    (drop / "c.jsonl").write_bytes(jsonl(7))
    _, q, r = to_lake(drop, tmp_path / "lake")
    assert (r.rows_kept, r.rows_rejected) == (7, 2)
    by_name = {Path(x["source"]).name: x for x in q}
    assert by_name["a.bin"]["raw"] == small and by_name["a.bin"]["reason"] == "unrecognized binary content"
    assert by_name["b.bin"]["raw"] == b""
    assert f"object of {len(big)} bytes" in by_name["b.bin"]["reason"]
    assert f"sha256 {hashlib.sha256(big).hexdigest()}" in by_name["b.bin"]["reason"]


def test_utf16_rejects_are_byte_exact(tmp_path):
    for enc, bom in (("utf-16-le", b"\xff\xfe"), ("utf-16-be", b"\xfe\xff")):
        lines = [line(i).decode() for i in range(6)]
        lines[3] = '{"broken": "é'
        text = "\r\n".join(lines) + "\r\n"
        path = tmp_path / f"{enc}.jsonl"
        path.write_bytes(bom + text.encode(enc))
        _, r = ingest(str(path))
        assert (r.rows_kept, r.rows_rejected) == (5, 1)
        assert r.rejects[0].line == 4 and r.rejects[0].raw == lines[3].encode(enc)


def test_utf16_json_array_reject_is_in_utf16(tmp_path):
    elems = [line(i).decode() for i in range(5)]
    elems[2] = '{"output": "é" oops}'
    path = tmp_path / "a.json"
    path.write_bytes(b"\xff\xfe" + ("[\n" + ",\n".join(elems) + "\n]\n").encode("utf-16-le"))
    _, r = ingest(str(path))
    assert (r.rows_kept, r.rows_rejected) == (4, 1)
    assert r.rejects[0].line == 3 and r.rejects[0].raw == elems[2].encode("utf-16-le")
