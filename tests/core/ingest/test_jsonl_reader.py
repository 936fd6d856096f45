"""JSONL reading: line numbers, BOM, CRLF, blank lines, invalid UTF-8, huge lines, garbage; round trip with hypothesis."""
import json

import hypothesis.strategies as st
import pyarrow as pa
from hypothesis import given, settings

from pipeline.core.ingest.mapping import FieldSource, Mapping
from pipeline.core.ingest.normalize import normalize_records
from pipeline.core.ingest.readers.jsonl import line_starts, read_jsonl

M = Mapping({"input": [FieldSource("$.q")], "output": [FieldSource("$.a")], "latency_ms": [FieldSource("$.ms")]})


def run(data: bytes):
    parsed = read_jsonl(data, "f.jsonl")
    norm = normalize_records(parsed.records, M, "d")
    return norm.entries, parsed.rejects + norm.rejects


def test_line_starts_with_and_without_final_newline():
    assert line_starts(b"a\nb\n").tolist() == [0, 2, 4]
    assert line_starts(b"a\nb").tolist() == [0, 2, 3]
    assert line_starts(b"").tolist() == [0, 0]


def test_bom_crlf_blank_lines_and_numbers():
    data = '\ufeff{"q":"é","ms":5}\r\n\r\n   \n{"q":"b","ms":"7.5"}'.encode()
    entries, rejects = run(data)
    assert rejects == []
    assert entries.column("line").to_pylist() == [1, 4]
    assert entries.column("input").to_pylist() == ["é", "b"]
    assert entries.column("latency_ms").to_pylist() == [5.0, 7.5]


def test_each_bad_line_is_rejected_with_its_line_and_bytes():
    data = b'{"q":"ok"}\n{"q": \xff\xfe}\n{broken\n[1,2]\n"str"\n{"q":"ok2","ms":"slow"}\n{"q":"ok3"}\n'
    entries, rejects = run(data)
    assert entries.column("input").to_pylist() == ["ok", "ok3"]
    got = sorted((r.line, r.raw) for r in rejects)
    assert got == [(2, b'{"q": \xff\xfe}'), (3, b"{broken"), (4, b"[1,2]"), (5, b'"str"'), (6, b'{"q":"ok2","ms":"slow"}')]
    reasons = {r.line: r.reason for r in rejects}
    assert reasons[2] == "invalid UTF-8" and reasons[3] == "malformed JSON"
    assert reasons[4] == reasons[5] == "record is JSON but not an object"
    assert reasons[6] == "field latency_ms ($.ms): cannot read slow as number"
    field_reject = next(r for r in rejects if r.line == 6)
    assert field_reject.field == "latency_ms" and "slow" in field_reject.reason


def test_ten_megabyte_single_line():
    big = "x" * 10_000_000
    entries, rejects = run(json.dumps({"q": big}).encode() + b"\n")
    assert rejects == [] and len(entries.column("input")[0].as_py()) == 10_000_000


def test_binary_garbage_is_rejected_not_raised():
    entries, rejects = run(bytes(range(256)) * 50)
    assert entries.num_rows == 0 and rejects and all(r.reason in ("invalid UTF-8", "malformed JSON") for r in rejects)


def test_empty_input():
    entries, rejects = run(b"")
    assert entries.num_rows == 0 and rejects == []


texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.fixed_dictionaries({"q": texts, "a": st.one_of(st.none(), texts), "ms": st.floats(0, 1e6)}), max_size=30))
def test_round_trip_values(rows):
    data = "".join(json.dumps(r) + "\n" for r in rows).encode()
    entries, rejects = run(data)
    assert rejects == []
    assert entries.column("input").to_pylist() == [r["q"] for r in rows]
    assert entries.column("output").to_pylist() == [r["a"] for r in rows]
    assert entries.column("latency_ms").to_pylist() == [r["ms"] for r in rows]
    assert len(set(entries.column("entry_id").to_pylist())) == len(rows)


def test_malformed_lines_do_not_break_list_paths():
    """A wildcard path (tool names) over a malformed record must reject that record, not fail the chunk."""
    m = Mapping({"input": [FieldSource("$.q")], "tool_calls": [FieldSource("$.tools[*]")]})
    parsed = read_jsonl(b'{"q":"a","tools":["x"]}\n{"q": "cut\n{"q":"b","tools":[]}\n', "f")
    norm = normalize_records(parsed.records, m, "d")
    assert norm.entries.column("tool_calls").to_pylist() == [["x"], []]
    assert [(r.line, r.reason) for r in norm.rejects] == [(2, "malformed JSON")]
