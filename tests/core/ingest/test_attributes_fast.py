"""`attributes` assembled from unmapped values (records of the sampled shape) is byte-identical to the merge patch
every other record gets: checked against the merge patch alone over hostile records (optional, reordered, duplicated
and unknown keys, parents that are not objects, escapes), plus the names read from an extracted array's text."""
from __future__ import annotations

import json

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.core.ingest import normalize, normalize_sql
from pipeline.core.ingest.attributes_sql import Shape, _merged_order, record_shape, sample_dicts
from pipeline.core.ingest.mapping import FieldSource, Mapping, attributes_patch
from pipeline.core.ingest.normalize import normalize_records
from pipeline.core.ingest.normalize_sql import build_query
from pipeline.core.ingest.records import RECORDS_SCHEMA

MAPPING = Mapping({
    "model": [FieldSource("$.model")], "input": [FieldSource("$.prompt")], "output": [FieldSource("$.response.text")],
    "session_id": [FieldSource("$.session.id")], "user_id": [FieldSource("$.session.user_id")],
    "prompt_tokens": [FieldSource("$.usage.prompt_tokens")], "environment": [FieldSource("$.latency_ms")],
    "tool_calls": [FieldSource("$.tools[*]")], "trace_id": [FieldSource("$.a.b.c")],
})

texts = st.sampled_from(["", "x", "é ü 中", 'q"uote \\ back', "ctl \u0001\t\n", "</a>", "\u2028", '{"j": [1]}', "[1,2]",
                         ":{}", '"session":{}', "null"])
scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), texts,
                    st.floats(allow_nan=False, allow_infinity=False), st.sampled_from([0.1, 1e300, -0.0, 1.5, 1e-7]))
keys = st.sampled_from(["a", "b", "session", "usage", "response", "x y", "k.dot", "é", "tools", "text", "id"])
values = st.recursive(scalars, lambda c: st.lists(c, max_size=3) | st.dictionaries(keys, c, max_size=3), max_leaves=6)
parent = st.one_of(values, st.dictionaries(st.sampled_from(["id", "user_id", "text", "finish_reason", "prompt_tokens",
                                                            "completion_tokens", "extra", "b", "c"]), values, max_size=4))
record = st.dictionaries(
    st.sampled_from(["model", "prompt", "response", "session", "usage", "latency_ms", "tools", "meta", "tags", "a",
                     "new", "q\"k", "ctl\u0001", "é"]),
    st.one_of(values, parent), max_size=9)


def _line(rec: dict, dup: str | None, ascii_only: bool, compact: bool) -> str:
    sep = (",", ":") if compact else (", ", ": ")
    text = json.dumps(rec, ensure_ascii=ascii_only, separators=sep)
    if dup and rec:  # a key given twice: only the merge patch can say what that record's attributes are
        text = text[:-1] + f'{sep[0]}{json.dumps(dup)}{sep[1]}1}}'
    return text


def _records(lines: list[str]) -> pa.Table:
    return pa.table({"source": ["s"] * len(lines), "line": list(range(1, len(lines) + 1)), "sub": [0] * len(lines),
                     "raw": lines}, schema=RECORDS_SCHEMA)


def _both(records: pa.Table, monkeypatch) -> tuple[list, list]:
    fast = normalize_records(records, MAPPING, "d")
    monkeypatch.setattr(normalize, "record_shape", lambda *a: None)  # every record merge-patched
    slow = normalize_records(records, MAPPING, "d")
    monkeypatch.undo()
    return fast.entries.to_pylist(), slow.entries.to_pylist()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(base=record, rows=st.lists(st.tuples(record, st.sampled_from([None, None, None, "model", "meta", "session"]),
                                            st.booleans(), st.booleans(), st.booleans()), min_size=1, max_size=25))
def test_assembled_attributes_equal_the_merge_patch(base, rows, monkeypatch):
    lines = []
    for rec, dup, ascii_only, compact, like_base in rows:
        if like_base:  # most records share the base shape, so the assembled route is taken often
            rec = {k: rec.get(k, v) for k, v in base.items()}
        lines.append(_line(rec, dup, ascii_only, compact))
    fast, slow = _both(_records(lines), monkeypatch)
    assert fast == slow


def test_uniform_records_take_the_assembled_route_in_merge_patch_order(monkeypatch):
    rows = [{"ts": "2026-01-01T00:00:00Z", "session": {"id": "s", "user_id": "u"}, "model": "gpt-4o", "prompt": "hi",
             "response": {"text": "yo", "finish_reason": "stop"}, "tools": ["a", "", None], "usage": {"prompt_tokens": 3},
             "meta": {"usage": {}}}] * 3
    records = _records([json.dumps(r) for r in rows])
    shape = record_shape(sample_dicts(records), json.loads(attributes_patch(MAPPING)))
    assert dict(shape.levels)[()] == ("ts", "session", "model", "prompt", "response", "tools", "usage", "meta")
    query = build_query(MAPPING, "r", "d", shape=shape)
    assert "json_keys" in query and "'$.tools[*]'" in query  # the array text is parsed, not the record again
    fast, slow = _both(records, monkeypatch)
    assert fast == slow
    real = normalize_sql.fast_attributes  # every record assembled: none reaches the merge patch
    monkeypatch.setattr(normalize_sql, "fast_attributes", lambda s, p, _mp, also: real(s, p, "'MERGED'", also))
    assert "MERGED" not in normalize_records(records, MAPPING, "d").entries.column("attributes").to_pylist()
    monkeypatch.undo()
    # unmapped keys in the record's order, then the patched parents in the patch's order; emptied parents (and the
    # `"usage":{}` inside `meta`, as the merge patch's cleanup does) are gone
    assert fast[0]["attributes"] == '{"ts":"2026-01-01T00:00:00Z","tools":["a","",null],"meta":{},"response":{"finish_reason":"stop"}}'
    assert fast[0]["tool_calls"] == ["a"]


@pytest.mark.parametrize("tools", ['"a,b"', '{"x": 1}', "null", "[]", '["x", 1, {"y": [2]}]', "3"])
def test_names_from_the_array_text_match_the_record(tools, monkeypatch):
    lines = [f'{{"model": "m", "prompt": "p", "tools": {tools}}}', '{"model": "m", "prompt": "p"}'] * 2
    fast, slow = _both(_records(lines), monkeypatch)
    assert fast == slow


def test_merged_order_keeps_optional_keys_in_place_and_skips_disagreeing_records():
    assert _merged_order([("a", "b", "d"), ("a", "b", "c", "d"), ("x", "a"), ("b", "a")]) == ["x", "a", "b", "c", "d"]


def test_no_shape_without_a_sample_or_a_patch():
    assert record_shape([], {"a": None}) is None and record_shape([{"a": 1}], {}) is None
    wide = [{f"k{i}": i for i in range(600)}]
    assert record_shape(wide, {"k0": None}) is None  # too many keys to assemble: merge patch for all
    assert record_shape([{"a": 1, "b\\c": 2, "": 3}], {"a": None}) == Shape((((), ("a",)),))  # unaddressable keys left out
