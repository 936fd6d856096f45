"""Generic inference reads JSON held in strings (at any depth, within the field budget), and normalization reads the
same paths in SQL: records written for these tests in several shapes, with adversarial ones."""
import json

import duckdb
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.core.ingest.engine import ingest
from pipeline.core.ingest.field_values import FIELD_BUDGET
from pipeline.core.ingest.mapping import DECODE, extract_sql, json_path, path_chain
from pipeline.core.ingest.record_paths import MAX_DECODE_CHARS, decoded_json, flatten
from pipeline.core.ingest.schema_infer import infer_schema
from pipeline.core.ingest.vendors.base import decode_json


def roles(records):
    s = infer_schema(records)
    return {a.role: a.path for a in s.assignments}, s


def run(tmp_path, records, name="app.jsonl"):
    p = tmp_path / name
    p.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    t, r = ingest(str(p))
    return t.to_pylist(), r


def log_lines(n=12):
    out = []
    for i in range(n):
        msg = {"model": "claude-3-5-haiku", "prompt": f"question {i}?", "completion": f"reply number {i}",
               "usage": {"input_tokens": 30 + i, "output_tokens": 7}}
        out.append({"time": f"2024-05-01T10:00:{i:02d}Z", "level": "info", "logger": "app.llm", "message": json.dumps(msg)})
    return out


def test_log_line_message_holding_json(tmp_path):
    recs = log_lines() + [{"time": "2024-05-01T10:01:00Z", "level": "info", "logger": "app.llm", "message": "{not json"}]
    rows, r = run(tmp_path, recs)
    got = {a["role"]: a["path"] for a in r.sources[0].schema["assignments"]}
    assert got["model"] == "$.message|$.model" and got["input"] == "$.message|$.prompt"
    assert got["output"] == "$.message|$.completion" and got["prompt_tokens"] == "$.message|$.usage.input_tokens"
    assert "JSON strings read as JSON: $.message" in r.sources[0].schema["notes"]
    assert r.rows_rejected == 0 and len(rows) == 13
    e = rows[3]
    assert (e["model"], e["input"], e["output"], e["prompt_tokens"], e["completion_tokens"]) == (
        "claude-3-5-haiku", "question 3?", "reply number 3", 33, 7)
    bad = rows[-1]  # invalid JSON stays a string: no role reads into it, the text stays in attributes
    assert bad["model"] is None and bad["input"] is None and json.loads(bad["attributes"])["message"] == "{not json"


def openai_pair(i):
    req = {"model": "gpt-4o", "messages": [{"role": "user", "content": f"hello {i}"}], "max_tokens": 300,
           "tools": [{"type": "function", "function": {"name": "search_docs"}}]}
    resp = {"id": f"chatcmpl-{i}", "object": "chat.completion", "created": 1714550400 + i, "model": "gpt-4o-2024-08-06",
            "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
                "role": "assistant", "content": f"answer {i}",
                "tool_calls": [{"id": "c", "type": "function",
                                "function": {"name": "lookup", "arguments": json.dumps({"query": "q"})}}]}}],
            "usage": {"prompt_tokens": 10 + i, "completion_tokens": 5 + i}}
    return req, resp


def test_request_and_response_sides_decoded(tmp_path):
    recs = []
    for i in range(10):
        req, resp = openai_pair(i)
        recs.append({"call": {"req": json.dumps(req), "resp": json.dumps(resp)}, "elapsed_ms": 200 + i})
    got, s = roles(recs)
    assert got["input"] == "$.call.req|$.messages"
    assert got["output"] == "$.call.resp|$.choices[0].message.content"
    assert got["tool_calls"] == "$.call.resp|$.choices[0].message.tool_calls[*].function.name"  # never the offered tools
    assert got["prompt_tokens"] == "$.call.resp|$.usage.prompt_tokens"
    assert got["completion_tokens"] == "$.call.resp|$.usage.completion_tokens"  # never the request's max_tokens
    assert got["model"] in ("$.call.req|$.model", "$.call.resp|$.model")
    assert not any("arguments" in p for p in got.values())  # tool-call arguments are the model's data, not read
    rows, r = run(tmp_path, recs)
    assert r.sources[0].vendor is None
    e = rows[2]
    assert (e["output"], e["tool_calls"], e["prompt_tokens"], e["completion_tokens"], e["latency_ms"]) == (
        "answer 2", ["lookup"], 12, 7, 202.0)
    assert json.loads(e["input"]) == [{"role": "user", "content": "hello 2"}]


def test_anthropic_message_held_in_output_string(tmp_path):
    recs = [{"ts": 1714550400 + i, "input": f"summarize doc {i}", "output": json.dumps({
        "type": "message", "model": "claude-3-opus", "content": [{"type": "text", "text": f"summary {i}"}],
        "usage": {"input_tokens": 100 + i, "output_tokens": 20}})} for i in range(8)]
    rows, _ = run(tmp_path, recs)
    assert [(e["input"], e["output"], e["model"], e["prompt_tokens"]) for e in rows[:2]] == [
        ("summarize doc 0", "summary 0", "claude-3-opus", 100), ("summarize doc 1", "summary 1", "claude-3-opus", 101)]


def test_json_inside_json_inside_a_string_any_depth(tmp_path):
    recs = []
    for i in range(8):
        inner = json.dumps({"usage": {"prompt_tokens": 40 + i, "completion_tokens": 4}, "model": "mistral-large"})
        recs.append({"id": f"req-{i:04d}", "payload": json.dumps({"kind": "llm", "detail": inner})})
    got, s = roles(recs)
    assert got["prompt_tokens"] == "$.payload|$.detail|$.usage.prompt_tokens"
    rows, _ = run(tmp_path, recs)
    assert [(e["model"], e["prompt_tokens"], e["completion_tokens"]) for e in rows[:2]] == [
        ("mistral-large", 40, 4), ("mistral-large", 41, 4)]


def test_structured_output_string_is_kept_whole():
    recs = [{"prompt": f"classify review {i}", "response": json.dumps({"sentiment": "positive", "score": 0.5 + i / 100})}
            for i in range(10)]
    got, _ = roles(recs)
    assert got["output"] == "$.response" and got["input"] == "$.prompt"


def test_json_array_string_is_a_list_leaf(tmp_path):
    recs = [{"model": "gpt-4o-mini", "messages": json.dumps([{"role": "user", "content": f"q{i}"}]),
             "tools_used": json.dumps(["search", "calc"])} for i in range(6)]
    got, _ = roles(recs)
    assert got["input"] == "$.messages" and got["tool_calls"] == "$.tools_used|$[*]"
    rows, _ = run(tmp_path, recs)
    assert rows[0]["tool_calls"] == ["search", "calc"] and json.loads(rows[0]["input"])[0]["content"] == "q0"


def test_huge_json_string_respects_the_field_budget():
    wide = json.dumps({f"k{j}": j for j in range(FIELD_BUDGET + 500)})
    recs = [{"model": "gpt-4o", "latency_ms": 100 + i, "blob": wide, "prompt": f"p{i}"} for i in range(4)]
    got, s = roles(recs)
    assert len(s.fields) == FIELD_BUDGET and any("field budget reached" in n for n in s.notes)
    assert (got["model"], got["latency_ms"], got["input"]) == ("$.model", "$.latency_ms", "$.prompt")  # own fields first


def test_overlong_json_string_stays_text():
    long = json.dumps({"text": "x" * (MAX_DECODE_CHARS + 10)})
    flat, skipped = {}, set()
    flatten({"body": long}, (), 1, 64, flat, True, skipped)
    assert flat == {("body",): long} and skipped == {"$.body"}
    _, s = roles([{"body": long, "model": "gpt-4o"}])
    assert any("left as text: $.body" in n for n in s.notes)


def test_invalid_json_strings_stay_strings():
    for v in ("{not json}", "[1, 2", "{}", "[]", "{'single': 'quotes'}", "[INST] hi [/INST]"):
        flat = {}
        flatten({"m": v}, (), 1, 64, flat)
        assert flat == {("m",): v}


def test_one_decoder_for_inference_and_adapters():
    """Inference (`decoded_json`) and vendor adapters (`decode_json`) decode JSON strings alike: NaN, Infinity and
    overflowing numbers as null, invalid JSON left alone; only adapters undo a double encoding and read past the size
    limit (inference leaves an overlong string as text and notes it)."""
    text = '{"model": "m-1", "score": NaN, "inf": -Infinity, "big": 1e999, "n": [1.5, 2]}'
    want = {"model": "m-1", "score": None, "inf": None, "big": None, "n": [1.5, 2]}
    assert decoded_json(text) == want and decode_json(text) == want
    assert decoded_json("  [1, {\"a\": NaN}]\n") == [1, {"a": None}] == decode_json("  [1, {\"a\": NaN}]\n")
    double = json.dumps(text)
    assert decode_json(double) == want and decoded_json(double) is None and decoded_json(double, strings=True) == text
    for v in ("{not json}", "[1, 2", "{'single': 'quotes'}", "[INST] hi [/INST]", '"open', "plain", "NaN", "12"):
        assert decoded_json(v) is None and decoded_json(v, strings=True) is None and decode_json(v) == v
    assert (decoded_json("{}"), decoded_json("[]"), decode_json("{}"), decode_json("[]")) == ({}, [], {}, [])
    long = json.dumps({"text": "x" * (MAX_DECODE_CHARS + 10)})
    skipped = set()
    assert decoded_json(long, skipped, ("body",)) is None and skipped == {"$.body"}
    assert decode_json(long) == {"text": "x" * (MAX_DECODE_CHARS + 10)}
    flat = {}
    flatten({"m": '{"a": NaN, "b": 2}'}, (), 1, 64, flat)
    assert flat[("m", DECODE, "a")] is None and flat[("m", DECODE, "b")] == 2


def test_path_chain_splits_only_outside_quoted_keys():
    assert json_path("a", DECODE, "b", 0) == "$.a|$.b[0]"
    assert path_chain("$.a|$.b[0]") == ["$.a", "$.b[0]"]
    assert path_chain('$."x|$y".z') == ['$."x|$y".z']
    assert path_chain(json_path("p|$q", DECODE, "r")) == ['$."p|$q"', "$.r"]


leaf = st.one_of(st.integers(-10**6, 10**6), st.text(st.characters(blacklist_categories=("Cs",)), max_size=8),
                 st.booleans())
keys = st.text("abcxyz_", min_size=1, max_size=4)
trees = st.recursive(leaf, lambda ch: st.dictionaries(keys, ch, min_size=1, max_size=3), max_leaves=12)


def encode_some(obj, flags):
    """Replace some nested objects by their JSON text (the reference keeps them as objects)."""
    if not isinstance(obj, dict):
        return obj
    out = {}
    for k, v in obj.items():
        v = encode_some(v, flags)
        out[k] = json.dumps(v) if isinstance(v, dict) and flags.draw(st.booleans()) else v
    return out


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(keys, trees, min_size=1, max_size=4), st.data())
def test_decoded_paths_read_what_the_object_form_holds(rec, data):
    """Reference: the record with objects in place. Every leaf flattened from the encoded record, read back in DuckDB
    through its DECODE path, equals that leaf read from the reference by its plain path."""
    enc = encode_some(rec, data)
    flat = {}
    flatten(enc, (), 1, 64, flat)
    con = duckdb.connect()
    for k, v in flat.items():
        if isinstance(v, (dict, list)) or (isinstance(v, str) and k + (DECODE,) in {f[:len(k) + 1] for f in flat}):
            continue
        plain = json_path(*[x for x in k if x is not DECODE])
        got = con.execute(f"SELECT {extract_sql('?::VARCHAR', json_path(*k))}", [json.dumps(enc)]).fetchone()[0]
        want = con.execute("SELECT json_extract_string(?::VARCHAR, ?)", [json.dumps(rec), plain]).fetchone()[0]
        assert got == want, (k, enc)


def test_csv_columns_holding_request_and_response_json(tmp_path):
    """Side words inside a column name (`request_json`, `response_json`) and a Gemini request's `contents`."""
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["created_at", "request_json", "response_json", "duration_s"])
    for i in range(6):
        req = {"model": "gemini-1.5-pro", "contents": [{"role": "user", "parts": [{"text": f"q{i}"}]}],
               "generationConfig": {"maxOutputTokens": 64}}
        resp = {"candidates": [{"content": {"role": "model", "parts": [{"text": f"gem answer {i}"}]}}],
                "usageMetadata": {"promptTokenCount": 9 + i, "candidatesTokenCount": 3}}
        w.writerow([f"2024-06-01 12:00:0{i}", json.dumps(req), json.dumps(resp), 1.5 + i])
    p = tmp_path / "export.csv"
    p.write_text(buf.getvalue())
    t, r = ingest(str(p))
    e = t.to_pylist()[1]
    assert (e["model"], e["output"], e["prompt_tokens"], e["completion_tokens"], e["latency_ms"]) == (
        "gemini-1.5-pro", "gem answer 1", 10, 3, 2500.0)
    assert json.loads(e["input"])[0]["parts"][0]["text"] == "q1"
    got = {a["role"]: a["path"] for a in r.sources[0].schema["assignments"]}
    assert got["completion_tokens"] == "$.response_json|$.usageMetadata.candidatesTokenCount"  # never maxOutputTokens


def test_text_log_lines_with_json_payloads(tmp_path):
    """`<ts> INFO logger: {json}` lines about an LLM call become records (their `message` JSON string decoded);
    JSON payloads with nothing of an LLM call and plain lines stay skipped level lines."""
    lines = []
    for i in range(6):
        msg = json.dumps({"model": "gpt-4o", "usage": {"prompt_tokens": 10 + i, "completion_tokens": 3}})
        lines.append(f"2024-05-01 10:00:0{i},123 INFO app.llm: " + json.dumps({"event": "llm_call", "prompt": f"p{i}?",
                                                                                  "message": msg, "latency_ms": 120 + i}))
        lines.append(f"2024-05-01 10:00:0{i},200 INFO app.web: " + json.dumps({"event": "request", "path": "/x"}))
        lines.append(f"2024-05-01 10:00:0{i},300 WARNING app.cache: cache miss {{key {i}}}")
    p = tmp_path / "app.log"
    p.write_text("\n".join(lines) + "\n")
    t, r = ingest(str(p))
    rows = t.to_pylist()
    assert (r.rows_rejected, r.rows_skipped, len(rows)) == (0, 12, 6)
    e = rows[1]
    assert (e["line"], e["ts"].isoformat(), e["model"], e["input"], e["prompt_tokens"], e["latency_ms"]) == (
        4, "2024-05-01T10:00:01.123000+00:00", "gpt-4o", "p1?", 11, 121.0)
