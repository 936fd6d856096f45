"""The clean-JSONL fast path yields exactly what the line-exact reader yields, and steps aside on anything unclean."""
from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.core.ingest import engine, fast_path
from pipeline.core.ingest.engine import ingest
from pipeline.core.ingest.fast_path import fast_jsonl, opening_brackets
from pipeline.core.ingest.readers.jsonl import line_starts, read_jsonl

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "vendors"
SRC = "file:///drop/a.jsonl"

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**12), 10**12),
    st.floats(allow_nan=False, allow_infinity=False, width=32), st.text(max_size=30),
)
values = st.recursive(scalars, lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=6), c, max_size=3),
                      max_leaves=6)
record = st.fixed_dictionaries(
    {},
    optional={
        "timestamp": st.sampled_from(["2026-11-01T10:00:00Z", "2026-11-02T11:30:00.5Z", "1767225600", "not a date", ""]),
        "model": st.sampled_from(["gpt-4o-mini", "claude-3-5-sonnet", "mistral-large", "x"]),
        "prompt": st.text(max_size=40),
        "response": st.fixed_dictionaries({"text": st.text(max_size=40)}),
        "latency_ms": st.one_of(st.floats(0, 1e5, allow_nan=False), st.sampled_from(["n/a", "12ms", "7"])),
        "usage": st.fixed_dictionaries({"prompt_tokens": st.integers(0, 10**6), "completion_tokens": st.integers(0, 10**6)}),
        "status": st.sampled_from(["ok", "error", "200", "503", "weird"]),
        "session": st.fixed_dictionaries({"id": st.text(max_size=8)}, optional={"user_id": st.text(max_size=8)}),
        "tools": st.lists(st.sampled_from(["search", "lookup", ""]), max_size=3),
        "extra": values,
    },
)
lines = st.lists(st.tuples(record, st.booleans(), st.booleans()), min_size=1, max_size=40)


def _jsonl(rows, trailing_newline=True) -> bytes:
    """Rows as JSON Lines; each row's flags pick ASCII escaping and (rarely) truncation into a malformed line."""
    out = []
    for rec, ascii_only, truncate in rows:
        text = json.dumps(rec, ensure_ascii=ascii_only)
        out.append(text[: max(1, len(text) // 2)] if truncate and len(rec) > 3 else text)
    return ("\n".join(out) + ("\n" if trailing_newline else "")).encode("utf-8")


def _both(path: Path, monkeypatch) -> tuple:
    """Ingest `path` with and without the fast path (objects read one by one, not batched)."""
    monkeypatch.setattr(engine, "batchable", lambda *a: False)
    out = []
    for enabled in (True, False):
        monkeypatch.setattr(fast_path, "ENABLED", enabled)
        table, res = ingest(str(path), drop="d")
        rejects = [(r.source, r.line, r.reason, r.raw, r.offset, r.field) for r in res.rejects]
        out.append((table, (res.rows_read, res.rows_kept, res.rows_rejected), rejects))
    return out


def _assert_same(a, b) -> None:
    assert a[0].schema == b[0].schema
    assert a[0].to_pylist() == b[0].to_pylist()
    assert a[1] == b[1] and a[2] == b[2]
    assert a[1][0] == a[1][1] + a[1][2]  # kept + rejected = read


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines, st.booleans())
def test_clean_records_equal_the_line_exact_reader(rows, trailing):
    data = _jsonl(rows, trailing)
    fast = fast_jsonl(data, SRC)
    assert fast is not None
    exact = read_jsonl(data, SRC)
    assert fast.records.equals(exact.records) and exact.rejects == [] and fast.bytes_read == exact.bytes_read
    assert fast.records.column("line").to_pylist() == list(range(1, len(rows) + 1))


@settings(max_examples=15, deadline=None)
@given(rows=lines)
def test_canonical_table_identical_with_and_without_fast_path(rows):
    with tempfile.TemporaryDirectory() as tmp, pytest.MonkeyPatch.context() as mp:
        path = Path(tmp) / "drop.jsonl"
        path.write_bytes(_jsonl(rows))
        fast, exact = _both(path, mp)
    _assert_same(fast, exact)


CLEAN = b'{"model": "gpt-4o", "prompt": "hi", "latency_ms": 12}\n{"model": "gpt-4o", "prompt": "yo", "latency_ms": 9}\n'
DIRTY = {
    "malformed line": CLEAN + b'{"model": "gpt-4o", "prompt": \n',
    "not an object": CLEAN + b'[1, 2]\n',
    "nul byte": CLEAN + b'{"model": "gpt\x00-4o", "prompt": "x"}\n',
    "blank lines": CLEAN + b"\n\n" + CLEAN,
    "crlf": CLEAN.replace(b"\n", b"\r\n"),
    "bom": b"\xef\xbb\xbf" + CLEAN,
    "invalid utf-8": CLEAN + b'{"model": "gpt\xff", "prompt": "x"}\n',
    "leading space": b"  " + CLEAN,
    "deep nesting": CLEAN + b'{"a": ' + b"[" * 300 + b"]" * 300 + b"}\n",
}


@pytest.mark.parametrize("case", sorted(DIRTY))
def test_unclean_objects_fall_back_with_identical_results(case, tmp_path, monkeypatch):
    data = DIRTY[case]
    if case != "malformed line" and case != "not an object":  # those two start with `{`/`[`: see below
        assert fast_jsonl(data, SRC) is None
    path = tmp_path / "drop.jsonl"
    path.write_bytes(data)
    fast, exact = _both(path, monkeypatch)
    _assert_same(fast, exact)


def test_malformed_lines_keep_their_line_and_bytes_on_either_path(tmp_path, monkeypatch):
    data = CLEAN + b'{"model": "gpt-4o", "prompt": \n' + CLEAN
    assert fast_jsonl(data, SRC) is not None  # starts with `{`: DuckDB's one parse finds it, as on the exact path
    path = tmp_path / "drop.jsonl"
    path.write_bytes(data)
    fast, exact = _both(path, monkeypatch)
    _assert_same(fast, exact)
    assert [(r[1], r[2], r[3]) for r in fast[2]] == [(3, "malformed JSON", b'{"model": "gpt-4o", "prompt": ')]
    assert fast[0].column("line").to_pylist() == [1, 2, 4, 5]


def test_schema_change_mid_file_is_identical(tmp_path, monkeypatch):
    old = [{"ts": f"2026-11-01T00:{i // 60:02d}:{i % 60:02d}Z", "model": "gpt-4o", "latency": i} for i in range(400)]
    new = [{"ts": f"2026-11-02T00:{i // 60:02d}:{i % 60:02d}Z", "model": "gpt-4o", "duration_ms": i} for i in range(400)]
    data = "".join(json.dumps(r) + "\n" for r in old + new).encode()
    assert fast_jsonl(data, SRC) is not None
    path = tmp_path / "drop.jsonl"
    path.write_bytes(data)
    fast, exact = _both(path, monkeypatch)
    _assert_same(fast, exact)
    assert fast[1] == (800, 800, 0)


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.glob("*.jsonl")))
def test_vendor_jsonl_identical(name, tmp_path, monkeypatch):
    path = tmp_path / name
    path.write_bytes((FIXTURES / name).read_bytes())
    fast, exact = _both(path, monkeypatch)
    _assert_same(fast, exact)
    assert fast[0].num_rows > 0


def test_opening_brackets_counts_per_line():
    data = b'{"a": [1, {"b": "[{"}]}\n{}\n[[[]]]'
    assert opening_brackets(data, line_starts(data)).tolist() == [5, 1, 3]


def test_empty_object_is_not_fast():
    assert fast_jsonl(b"", SRC) is None
    assert isinstance(read_jsonl(b"", SRC).records, pa.Table)


def test_fast_records_skip_the_blank_line_filter():
    from pipeline.core.ingest.mapping import FieldSource, Mapping
    from pipeline.core.ingest.normalize import NO_BLANK_LINES_KEY, normalize_records
    from pipeline.core.ingest.normalize_sql import build_query

    mapping = Mapping({"model": [FieldSource("$.model", "auto", 1.0)]}, {})
    assert "WHERE NOT" in build_query(mapping, "r", None) and "WHERE NOT" not in build_query(mapping, "r", None, True)
    fast = fast_jsonl(CLEAN, SRC)
    assert fast.records.schema.metadata == {NO_BLANK_LINES_KEY: b"1"}
    got = normalize_records(fast.records, mapping, "d").entries
    want = normalize_records(read_jsonl(CLEAN, SRC).records, mapping, "d").entries
    assert got.to_pylist() == want.to_pylist() and got.column("model").to_pylist() == ["gpt-4o", "gpt-4o"]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(st.sampled_from(["{", "{", " {", "[", ""]),
                               st.one_of(st.text(st.sampled_from("{[]a\u00e9\"\\"), max_size=40),
                                         st.sampled_from(["[" * 255, "{" * 256, "[" * 257, "a[" * 256]))), max_size=8),
       tail=st.sampled_from([b"", b"\n", b"\n\n", b"\xff\n"]), block=st.sampled_from([1, 2, 7, 64]),
       parallel=st.sampled_from([1, 16, 1 << 30]))
def test_scan_in_blocks_and_halves_equals_line_starts_and_counts(rows, tail, block, parallel, monkeypatch):
    """The combined scan, cut into any blocks and split into halves, accepts exactly the clean objects and returns
    `line_starts` for them (bracket counts near the limit, lines across blocks and halves, a last line without a
    newline, invalid UTF-8)."""
    data = "\n".join(head + body for head, body in rows).encode() + tail
    monkeypatch.setattr(fast_path, "_SCAN_BLOCK", block)
    monkeypatch.setattr(fast_path, "_PARALLEL_BYTES", parallel)
    got = fast_path.clean_lines(data)
    offsets = line_starts(data)
    try:
        data.decode("utf-8")
        utf8 = True
    except UnicodeDecodeError:
        utf8 = False
    clean = (bool(data) and utf8 and all(data[o:o + 1] == b"{" for o in offsets[:-1])
             and int(opening_brackets(data, offsets).max()) <= 256)
    assert (got is not None) == clean
    if clean:
        assert got.tolist() == offsets.tolist()


def test_deep_line_across_the_halves_falls_back(monkeypatch):
    monkeypatch.setattr(fast_path, "_PARALLEL_BYTES", 1)
    deep = b'{"a": ' + b"[" * 200 + b"\n"  # the split lands inside this line: its count is summed over both halves
    data = b'{"x": 1}\n' + deep[:-1] + b"[" * 100 + b"]" * 300 + b"}\n"
    assert fast_path.clean_lines(data) is None
    assert fast_path.clean_lines(b'{"x": 1}\n' + b'{"a": ' + b"[" * 250 + b"]" * 250 + b"}\n") is not None
