"""Hostile files through the public ingest paths: nothing lost (kept + quarantined = present), rejects byte-exact."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.core.ingest import ingest
from pipeline.core.ingest.records import MAX_DEPTH

from .helpers import jsonl, line, rec, to_lake

REPO = Path(__file__).resolve().parents[2]


def cli_ingest(source, out):
    p = subprocess.run([sys.executable, "-m", "pipeline.cli", "ingest", str(source), "--out", str(out), "--format",
                        "json", "--drop", "d1"], capture_output=True, cwd=REPO, timeout=120)
    assert p.returncode == 0, p.stderr.decode()
    return json.loads(p.stdout)


# 1. NUL bytes ---------------------------------------------------------------------------------------------------------

def test_nul_byte_in_one_jsonl_line_rejects_that_line_only(tmp_path):
    lines = [line(i) for i in range(50)]
    lines[10] = lines[10].replace(b"answer 10", b"ans\x00wer 10")
    (tmp_path / "a.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    entries, q, r = to_lake(tmp_path / "a.jsonl", tmp_path / "lake")
    assert (r.rows_kept, r.rows_rejected) == (49, 1)
    assert [(x["line"], x["raw"]) for x in q] == [(11, lines[10])]
    assert "answer 10" not in entries.column("output").to_pylist()


def test_nul_in_a_csv_cell_keeps_the_file_as_csv(tmp_path):
    rows = [f"2026-11-20T10:00:{i:02d}Z,gpt-4o,q{i},{'a' + chr(0) + 'b' if i == 5 else 'ok'},{100 + i}\n" for i in range(50)]
    (tmp_path / "a.csv").write_bytes(("ts,model,input,output,latency_ms\n" + "".join(rows)).encode())
    _, q, r = to_lake(tmp_path / "a.csv", tmp_path / "lake")
    assert r.formats == {"csv": 1} and r.rows_kept + r.rows_rejected == 50 and r.rows_kept >= 49


# 2. Leading blank lines -------------------------------------------------------------------------------------------------

def test_70kb_of_blank_lines_before_the_records(tmp_path):
    (tmp_path / "a.jsonl").write_bytes(b"\n" * 70_000 + jsonl(100))
    entries, q, r = to_lake(tmp_path / "a.jsonl", tmp_path / "lake")
    assert (r.rows_kept, r.rows_rejected, r.formats) == (100, 0, {"jsonl": 1})
    assert entries.column("input").to_pylist()[:2] == ["question 0", "question 1"]
    res = cli_ingest(tmp_path / "a.jsonl", tmp_path / "out")
    assert (res["rows_kept"], res["rows_rejected"]) == (100, 0)


def test_blank_lines_with_crlf_and_spaces_before_records(tmp_path):
    (tmp_path / "a.jsonl").write_bytes(b" \r\n\t\r\n" * 20_000 + jsonl(30).replace(b"\n", b"\r\n"))
    _, _, r = to_lake(tmp_path / "a.jsonl", tmp_path / "lake")
    assert (r.rows_kept, r.rows_rejected) == (30, 0)


# 3. JSON arrays --------------------------------------------------------------------------------------------------------

def pretty_array(n: int, bad: dict[int, bytes]) -> tuple[bytes, dict[int, bytes]]:
    """A pretty-printed array of n records; element k (1-based) replaced by bad[k]. Returns (bytes, element texts)."""
    elems = {k: bad.get(k, json.dumps(rec(k), indent=2).replace("\n", "\n  ").encode()) for k in range(1, n + 1)}
    return b"[\n  " + b",\n  ".join(elems[k] for k in range(1, n + 1)) + b"\n]\n", elems


def test_array_with_one_malformed_element(tmp_path):
    good = json.dumps(rec(6), indent=2).replace("\n", "\n  ").encode()
    data, elems = pretty_array(102, {6: good.replace(b'"answer 6"', b'"answer 6" oops')})
    (tmp_path / "a.json").write_bytes(data)
    entries, q, r = to_lake(tmp_path / "a.json", tmp_path / "lake")
    assert (r.rows_kept, r.rows_rejected, r.formats) == (101, 1, {"json": 1})
    assert [(x["line"], x["raw"]) for x in q] == [(6, elems[6])]


def test_380kb_array_with_one_bad_element(tmp_path):
    good = json.dumps(rec(1000), indent=2).replace("\n", "\n  ").encode()
    data, elems = pretty_array(2600, {1000: good.replace(b'"answer 1000",', b'"answer 1000",,')})
    assert len(data) > 350_000
    (tmp_path / "a.json").write_bytes(data)
    _, q, r = to_lake(tmp_path / "a.json", tmp_path / "lake")
    assert (r.rows_kept, r.rows_rejected) == (2599, 1)
    assert q[0]["line"] == 1000 and q[0]["raw"] == elems[1000]


def test_invalid_utf8_in_pretty_array_is_one_reject_and_exit_0(tmp_path):
    good = json.dumps(rec(7), indent=2).replace("\n", "\n  ").encode()
    data, elems = pretty_array(102, {7: good.replace(b"answer 7", b"answer \xff\xfe 7")})
    (tmp_path / "a.json").write_bytes(data)
    res = cli_ingest(tmp_path / "a.json", tmp_path / "out")
    assert (res["rows_kept"], res["rows_rejected"], res["reject_reasons"]) == (101, 1, {"invalid UTF-8": 1})
    import pyarrow.parquet as pq

    q = pq.read_table(tmp_path / "out" / "quarantine" / "drop=d1" / "rejects.parquet").to_pylist()
    assert q[0]["raw"] == elems[7] and q[0]["source"].endswith("a.json")


def test_unbalanced_element_resynchronizes_at_the_next_element(tmp_path):
    good = json.dumps(rec(3), indent=2).replace("\n", "\n  ").encode()
    broken = good[: good.rindex(b"}")].rstrip()  # closing brace missing
    data, elems = pretty_array(20, {3: broken})
    (tmp_path / "a.json").write_bytes(data)
    _, q, r = to_lake(tmp_path / "a.json", tmp_path / "lake")
    assert (r.rows_kept, r.rows_rejected) == (19, 1)
    assert q[0]["raw"].rstrip(b", \n") == broken


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n=st.integers(1, 40), bad=st.sets(st.integers(1, 40), max_size=5),
       kind=st.sampled_from([b'"x" junk', b"\xc3\x28", b"nope", b"[1, 2]", b'{"a": }']), indent=st.booleans())
def test_property_array_elements_conserved_and_byte_exact(tmp_path, n, bad, kind, indent):
    """Reference: the generated element texts. Every good element is kept, every corrupted one quarantined as is."""
    bad = {k for k in bad if k <= n}
    texts = {k: (json.dumps(rec(k), indent=2 if indent else None).encode() if k not in bad else
                 b'{"ts": "2026-11-20T10:00:00Z", "output": ' + kind + b"}") for k in range(1, n + 1)}
    if kind == b"[1, 2]":
        texts = {k: (b"[1, 2]" if k in bad else v) for k, v in texts.items()}
    sep = b",\n  " if indent else b","
    path = tmp_path / f"p{n}-{len(bad)}.json"
    path.write_bytes(b"[" + sep.join(texts[k] for k in range(1, n + 1)) + b"]")
    _, r = ingest(str(path))
    assert (r.rows_kept, r.rows_rejected) == (n - len(bad), len(bad))
    assert sorted((x.line, x.raw) for x in r.rejects) == sorted((k, texts[k]) for k in bad)


# 4. CR-only line ends --------------------------------------------------------------------------------------------------

def test_cr_only_line_ends(tmp_path):
    (tmp_path / "a.jsonl").write_bytes(jsonl(100).replace(b"\n", b"\r"))
    entries, q, r = to_lake(tmp_path / "a.jsonl", tmp_path / "lake")
    assert (r.rows_kept, r.rows_rejected) == (100, 0)
    assert entries.column("input").to_pylist()[-1] == "question 99"


def test_cr_only_with_a_bad_line_rejects_it_exactly(tmp_path):
    data = jsonl(10).replace(b"\n", b"\r") + b"{broken\r" + jsonl(5, 10).replace(b"\n", b"\r")
    (tmp_path / "a.jsonl").write_bytes(data)
    _, q, r = to_lake(tmp_path / "a.jsonl", tmp_path / "lake")
    assert (r.rows_kept, r.rows_rejected) == (15, 1) and [(x["line"], x["raw"]) for x in q] == [(11, b"{broken")]


# 5. Non-finite and huge numbers, deep nesting -----------------------------------------------------------------------------

NUMBER_LINES = [
    b'{"ts": "2026-11-20T10:00:01Z", "model": "m", "output": "a", "latency_ms": NaN}',
    b'{"ts": "2026-11-20T10:00:02Z", "model": "m", "output": "a", "latency_ms": 5, "score": Infinity}',
    b'{"ts": "2026-11-20T10:00:03Z", "model": "m", "output": "a", "latency_ms": 5, "score": -Infinity}',
    b'{"ts": "2026-11-20T10:00:04Z", "model": "m", "output": "a", "latency_ms": 5, "score": 1e400}',
    b'{"ts": "2026-11-20T10:00:05Z", "model": "m", "output": "a", "latency_ms": -0}',
    b'{"ts": "2026-11-20T10:00:06Z", "model": "m", "output": "a", "latency_ms": 1180591620717411303424}',
    b'{"ts": "2026-11-20T10:00:07Z", "model": "m", "output": "a", "latency_ms": Infinity}',
    b'{"ts": "2026-11-20T10:00:08Z", "model": "m", "output": "a", "latency_ms": 1e400}',
]


def test_nonfinite_and_huge_numbers_jsonl_and_json(tmp_path):
    (tmp_path / "a.jsonl").write_bytes(b"\n".join(NUMBER_LINES * 5) + b"\n")
    (tmp_path / "b.json").write_bytes(b"[" + b",\n".join(NUMBER_LINES * 5) + b"]")
    for name in ("a.jsonl", "b.json"):
        entries, q, r = to_lake(tmp_path / name, tmp_path / f"lake-{name}")
        assert r.rows_kept + r.rows_rejected == 40
        # NaN reads as missing, non-finite scores stay in attributes, -0 and 2**70 are numbers
        kept = dict(zip(entries.column("ts").to_pylist(), entries.column("latency_ms").to_pylist()))
        assert len(kept) == 6 and [v for k, v in sorted(kept.items())][:6] == [None, 5.0, 5.0, 5.0, 0.0, 2.0**70]
        # an infinite value in a typed field is a field reject with its exact line
        assert sorted({x["raw"] for x in q}) == sorted({NUMBER_LINES[6], NUMBER_LINES[7]})
        assert all("latency_ms" in x["reason"] for x in q)


def test_python_json_dumps_nan_score(tmp_path):
    rows = [json.dumps({**rec(i), "score": float("nan") if i % 2 else 0.5}) for i in range(20)]
    (tmp_path / "a.jsonl").write_text("\n".join(rows) + "\n")
    _, _, r = to_lake(tmp_path / "a.jsonl", tmp_path / "lake")
    assert (r.rows_kept, r.rows_rejected) == (20, 0)


def deep(n: int) -> bytes:
    return b'{"ts": "2026-11-20T10:00:00Z", "model": "m", "x": ' + b"[" * n + b"]" * n + b"}"


def test_10000_deep_record_is_quarantined_not_a_traceback(tmp_path):
    (tmp_path / "a.jsonl").write_bytes(line(1) + b"\n" + deep(10_000) + b"\n" + line(2) + b"\n")
    (tmp_path / "b.json").write_bytes(b"[" + line(1) + b",\n" + deep(10_000) + b",\n" + line(2) + b"]")
    for name, where in (("a.jsonl", 2), ("b.json", 2)):
        _, q, r = to_lake(tmp_path / name, tmp_path / f"lake-{name}")
        assert (r.rows_kept, r.rows_rejected) == (2, 1)
        assert q[0]["line"] == where and q[0]["raw"] == deep(10_000)
        assert q[0]["reason"] == f"nested deeper than {MAX_DEPTH} levels"


def test_depth_cap_is_exact_and_ignores_brackets_in_strings(tmp_path):
    inside = b'{"ts": "2026-11-20T10:00:00Z", "model": "m", "s": "' + b"[" * 5000 + b'"}'
    (tmp_path / "a.jsonl").write_bytes(deep(MAX_DEPTH - 1) + b"\n" + deep(MAX_DEPTH) + b"\n" + inside + b"\n")
    _, r = ingest(str(tmp_path / "a.jsonl"))
    assert (r.rows_kept, r.rows_rejected) == (2, 1) and r.rejects[0].line == 2


# 7. Symlinks --------------------------------------------------------------------------------------------------------------

def test_dangling_symlink_and_loops_do_not_fail_the_drop(tmp_path):
    drop = tmp_path / "drop"
    (drop / "sub").mkdir(parents=True)
    (drop / "good.jsonl").write_bytes(jsonl(10))
    os.symlink("nowhere.jsonl", drop / "dangling.jsonl")
    os.symlink("loop2.jsonl", drop / "loop1.jsonl")
    os.symlink("loop1.jsonl", drop / "loop2.jsonl")
    os.symlink("..", drop / "sub" / "up")
    _, q, r = to_lake(drop, tmp_path / "lake")
    assert r.rows_kept == 10 and r.rows_rejected == 4
    reasons = {Path(x["source"]).name: x["reason"] for x in q}
    assert reasons["dangling.jsonl"] == "dangling symlink: target 'nowhere.jsonl' does not exist"
    assert reasons["loop1.jsonl"].startswith("symlink loop") and reasons["loop2.jsonl"].startswith("symlink loop")
    assert reasons["up"].startswith("symlink loop: points to its ancestor directory")
    res = cli_ingest(drop, tmp_path / "out")
    assert (res["rows_kept"], res["rows_rejected"]) == (10, 4)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet='[]{},":\\ \nab1\x00é', max_size=80) | st.binary(max_size=80))
def test_fuzz_json_document_reader_terminates_and_keeps_bytes(doc):
    """Any bytes: the reader ends, and every record or reject it returns is a piece of the input as written."""
    from pipeline.core.ingest.readers.json_doc import read_json_document

    data = doc.encode() if isinstance(doc, str) else doc
    parsed = read_json_document(b"[" + data, "x.json")
    for raw in parsed.records.column("raw").to_pylist():
        assert raw.encode() in b"[" + data
    for r in parsed.rejects:
        assert r.raw in b"[" + data


def test_one_line_full_of_nuls_does_not_make_the_file_binary(tmp_path):
    lines = [line(i) for i in range(50)]
    lines[20] = b'{"output": "' + b"\x00" * 10_000 + b'"}'
    (tmp_path / "a.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    _, q, r = to_lake(tmp_path / "a.jsonl", tmp_path / "lake")
    assert (r.rows_kept, r.rows_rejected, r.formats) == (49, 1, {"jsonl": 1})
    assert q[0]["line"] == 21 and q[0]["raw"] == lines[20]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200) | st.text(alphabet="\r\na{}", max_size=200).map(str.encode))
def test_property_cr_line_ends_matches_a_regex_reference(data):
    import re

    from pipeline.core.ingest.readers import jsonl as jsonl_reader

    lone = len(re.findall(rb"\r(?!\n)", data))
    expected = re.sub(rb"\r(?!\n)", b"\n", data) if lone > data.count(b"\n") else data
    assert jsonl_reader.cr_line_ends(data) == expected
    assert jsonl_reader.cr_line_ends(data, block=3) == expected  # block edges inside CRLF pairs
