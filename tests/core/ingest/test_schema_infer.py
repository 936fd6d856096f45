"""Schema inference: role -> path, unit scales and confidences on realistic log shapes, checked through normalization."""
from __future__ import annotations

import json
import random
from datetime import datetime, timezone

import pytest

from pipeline.core.ingest.mapping import FieldSource, Mapping
from pipeline.core.ingest.normalize import normalize_records
from pipeline.core.ingest.records import records_from_dicts
from pipeline.core.ingest.schema_infer import infer_schema, profile_fields


def roles(inferred) -> dict[str, list[str]]:
    return {r: [s.path for s in srcs] for r, srcs in inferred.mapping.roles.items()}


def assignment(inferred, role: str):
    return next(a for a in inferred.assignments if a.role == role)


def normalized(records: list[dict], mapping: Mapping) -> list[dict]:
    table = records_from_dicts("test.jsonl", [(i + 1, 0, r) for i, r in enumerate(records)])
    res = normalize_records(table, mapping)
    assert res.rejects == []
    return res.entries.to_pylist()


def flat_records(n: int = 300) -> list[dict]:
    rng = random.Random(3)
    return [
        {
            "timestamp": f"2024-05-01T10:{i % 60:02d}:{i % 60:02d}Z",
            "request_id": f"req-{i:05d}",
            "session_id": f"sess-{i // 4}",
            "user_id": f"user-{i % 37}",
            "model": rng.choice(["gpt-4o", "gpt-4o-mini", "claude-3-5-sonnet"]),
            "prompt": f"Where is my order number {i}? It has been a week.",
            "response": f"Your order {i} ships tomorrow.",
            "latency_ms": 812 if i == 0 else rng.randint(150, 4000),
            "prompt_tokens": 41 if i == 0 else rng.randint(10, 900),
            "completion_tokens": 12 if i == 0 else rng.randint(5, 400),
            "cost_usd": 0.00123 if i == 0 else rng.random() / 100,
            "status": "ok" if i % 10 else "error",
            "error": None if i % 10 else "upstream timeout",
            "env": "prod",
            "service": "support-bot",
            "prompt_version": rng.choice(["v1", "v2"]),
            "tools_used": ["search", "orders"] if i == 0 else rng.choice([[], ["search"]]),
            "outcome": rng.choice(["resolved", "escalated"]),
            "trace_id": f"{i:032x}",
            "foo": rng.random(),  # garbage: no role
            "blob": "".join(rng.choice("abcdef0123") for _ in range(12)),
        }
        for i in range(n)
    ]


def test_flat_jsonl_roles_and_normalized_values():
    recs = flat_records()
    inf = infer_schema(recs)
    expected = {
        "ts": "$.timestamp", "request_id": "$.request_id", "session_id": "$.session_id", "user_id": "$.user_id",
        "model": "$.model", "input": "$.prompt", "output": "$.response", "latency_ms": "$.latency_ms",
        "prompt_tokens": "$.prompt_tokens", "completion_tokens": "$.completion_tokens", "cost_usd": "$.cost_usd",
        "status": "$.status", "error": "$.error", "environment": "$.env", "service": "$.service",
        "version": "$.prompt_version", "tool_calls": "$.tools_used[*]", "outcome": "$.outcome", "trace_id": "$.trace_id",
    }
    assert {r: p[0] for r, p in roles(inf).items()} == expected
    assert assignment(inf, "latency_ms").scale == 1.0
    assert "already" in assignment(inf, "latency_ms").evidence or "'ms'" in assignment(inf, "latency_ms").evidence
    assert all(a.confidence >= 0.9 for a in inf.assignments if a.role != "error")
    used = [a.path for a in inf.assignments]
    assert len(used) == len(set(used)) and "$.foo" not in used and "$.blob" not in used
    row = normalized(recs[:3], inf.mapping)[0]
    assert row["ts"] == datetime(2024, 5, 1, 10, 0, 0, tzinfo=timezone.utc)
    assert (row["latency_ms"], row["prompt_tokens"], row["completion_tokens"]) == (812.0, 41, 12)
    assert row["cost_usd"] == pytest.approx(0.00123)
    assert (row["status"], row["error"], row["environment"]) == ("error", "upstream timeout", "prod")
    assert row["tool_calls"] == ["search", "orders"]
    assert row["input"].startswith("Where is my order number 0")
    attrs = json.loads(row["attributes"])  # unmapped fields stay in attributes (array paths are not stripped by mapping)
    assert attrs["foo"] == recs[0]["foo"] and attrs["blob"] == recs[0]["blob"] and "prompt" not in attrs


def openai_records(n: int = 120) -> list[dict]:
    return [
        {
            "created": 1714557600 + i,
            "request": {"model": "gpt-4o", "messages": [{"role": "system", "content": "Be brief."},
                                                         {"role": "user", "content": f"What is {i} squared?"}]},
            "response": {
                "id": f"chatcmpl-{i}",
                "choices": [{"index": 0, "finish_reason": "stop", "message": {
                    "role": "assistant", "content": f"{i * i}, computed with a tool.",
                    "tool_calls": [{"id": f"call_{i}", "type": "function", "function": {"name": "calculator", "arguments": "{}"}}]}}],
                "usage": {"prompt_tokens": 20 + i, "completion_tokens": 7, "total_tokens": 27 + i},
            },
            "duration_s": 0.81 if i == 0 else 0.5 + i / 100,
        }
        for i in range(n)
    ]


def test_nested_openai_shape():
    recs = openai_records()
    inf = infer_schema(recs)
    r = {k: v[0] for k, v in roles(inf).items()}
    assert r["input"] == "$.request.messages"
    assert r["output"] == "$.response.choices[0].message.content"
    assert r["prompt_tokens"] == "$.response.usage.prompt_tokens"
    assert r["completion_tokens"] == "$.response.usage.completion_tokens"
    assert r["tool_calls"] == "$.response.choices[0].message.tool_calls[*].function.name"
    assert r["model"] == "$.request.model" and r["ts"] == "$.created" and r["request_id"] == "$.response.id"
    assert "total_tokens" not in " ".join(r.values())
    lat = assignment(inf, "latency_ms")
    assert (lat.path, lat.scale) == ("$.duration_s", 1000.0)
    row = normalized(recs[:2], inf.mapping)[0]
    assert row["latency_ms"] == pytest.approx(810.0)
    assert row["ts"] == datetime(2024, 5, 1, 10, 0, 0, tzinfo=timezone.utc)
    assert row["output"] == "0, computed with a tool." and row["tool_calls"] == ["calculator"]
    assert json.loads(row["input"])[1]["content"] == "What is 0 squared?"
    assert (row["prompt_tokens"], row["completion_tokens"], row["provider"]) == (20, 7, "openai")


def test_csv_like_all_string_rows():
    recs = [
        {"time": f"2024-05-01 10:00:{i % 60:02d}", "latency": str(812 if i == 0 else 300 + 7 * i), "model_name": "claude-3-haiku",
         "input_tokens": str(100 + i), "output_tokens": f"{20 + i}.0", "http_status": "500" if i % 5 == 0 else "200",
         "question": f"how do I reset password {i}", "answer": f"Click 'forgot password' on screen {i}", "cost": "0.0021",
         "customer": f"c{i % 9}", "note": ""}
        for i in range(80)
    ]
    inf = infer_schema(recs)
    r = {k: v[0] for k, v in roles(inf).items()}
    assert r == {"ts": "$.time", "latency_ms": "$.latency", "model": "$.model_name", "prompt_tokens": "$.input_tokens",
                 "completion_tokens": "$.output_tokens", "status": "$.http_status", "input": "$.question",
                 "output": "$.answer", "cost_usd": "$.cost", "user_id": "$.customer"}
    assert assignment(inf, "latency_ms").scale == 1.0
    rows = normalized(recs[:2], inf.mapping)
    assert [x["status"] for x in rows] == ["error", "ok"]
    assert (rows[0]["latency_ms"], rows[0]["prompt_tokens"], rows[0]["completion_tokens"]) == (812.0, 100, 20)
    assert rows[0]["cost_usd"] == pytest.approx(0.0021)


@pytest.mark.parametrize(
    "field,values,scale,expected_ms",
    [
        ("duration_ns", [812_000_000 + i for i in range(50)], 1e-6, 812.0),
        ("elapsed_us", [812_000 + i for i in range(50)], 1e-3, 812.0),
        ("took", [812 + i for i in range(50)], 1.0, 812.0),  # magnitude: already ms
        ("took", [0.812 + i / 1000 for i in range(50)], 1000.0, 812.0),  # magnitude: seconds
        ("response_time_seconds", [0.812 + i for i in range(50)], 1000.0, 812.0),
    ],
)
def test_latency_unit_scale(field, values, scale, expected_ms):
    recs = [{field: v, "output": f"text {i} here"} for i, v in enumerate(values)]
    inf = infer_schema(recs)
    lat = assignment(inf, "latency_ms")
    assert (lat.path, lat.scale) == (f"$.{field}", scale)
    assert normalized(recs[:1], inf.mapping)[0]["latency_ms"] == pytest.approx(expected_ms)


def test_start_and_end_timestamps_give_duration():
    recs = [{"start_time": f"2024-05-01T10:00:{i:02d}Z", "end_time": f"2024-05-01T10:00:{i + 1:02d}.5Z",
             "query": f"status of ticket {i}", "result_text": f"ticket {i} is open"} for i in range(40)]
    inf = infer_schema(recs)
    (src,) = inf.mapping.roles["latency_ms"]
    assert src == FieldSource("$.start_time", "duration_ms", 1.0, "$.end_time")
    assert inf.mapping.roles["ts"][0].path == "$.start_time"
    row = normalized(recs[:1], inf.mapping)[0]
    assert row["latency_ms"] == pytest.approx(1500.0)
    assert row["ts"] == datetime(2024, 5, 1, 10, 0, 0, tzinfo=timezone.utc)
    assert "end_time" not in json.loads(row["attributes"])


def test_messages_array_and_comma_tools():
    recs = [{"messages": [{"role": "user", "content": f"hi {i}"}], "completion": f"hello {i}, how can I help?",
             "tool_calls": [{"name": "kb_search"}, {"name": "crm"}] if i % 2 else [], "conversation_id": f"c{i // 3}"}
            for i in range(60)]
    inf = infer_schema(recs)
    r = {k: v[0] for k, v in roles(inf).items()}
    assert r["input"] == "$.messages" and r["output"] == "$.completion"
    assert r["tool_calls"] == "$.tool_calls[*].name" and r["session_id"] == "$.conversation_id"
    rows = normalized(recs[:2], inf.mapping)
    assert json.loads(rows[0]["input"]) == [{"role": "user", "content": "hi 0"}]
    assert rows[1]["tool_calls"] == ["kb_search", "crm"] and rows[0]["tool_calls"] == []


def test_clear_name_beats_ambiguous_one():
    base = [{"id": f"r{i}", "text": f"some generated words {i}", "completion": f"the real answer is {i}"} for i in range(50)]
    both = infer_schema(base)
    assert roles(both)["output"] == ["$.completion"]
    clear = assignment(both, "output").confidence
    only_text = infer_schema([{k: v for k, v in r.items() if k != "completion"} for r in base])
    ambiguous = assignment(only_text, "output")
    assert ambiguous.path == "$.text" and 0.3 <= ambiguous.confidence < clear
    # a bare `time` holding small numbers is neither a timestamp nor (by name) a latency
    assert "ts" not in roles(infer_schema([{"time": 5 + i % 3, "response": "ok then"} for i in range(30)]))


def test_garbage_gets_no_role():
    rng = random.Random(9)
    recs = [{"x": rng.random(), "blob": "".join(rng.choice("qwxz") for _ in range(30)), "n": rng.randint(0, 99),
             "flag": rng.random() < 0.5, "nested": {"a": rng.randint(0, 5), "bb": [1, 2]}} for _ in range(100)]
    inf = infer_schema(recs)
    assert inf.assignments == [] and inf.mapping.roles == {}


def test_renamed_field_is_coalesced_newest_first():
    recs = [{("prompt" if i < 60 else "input"): f"question {i} about billing", "output": f"answer {i}"} for i in range(100)]
    inf = infer_schema(recs)
    assert roles(inf)["input"] == ["$.input", "$.prompt"]
    assert [a.path for a in inf.assignments if a.role == "input"] == ["$.input", "$.prompt"]
    assert any("coalesced" in a.evidence for a in inf.assignments if a.role == "input")
    rows = normalized(recs, inf.mapping)
    assert all(r["input"] == f"question {i} about billing" for i, r in enumerate(rows))


def test_overrides_win_wholesale():
    recs = flat_records(50)
    over = Mapping({"output": [FieldSource("$.blob")], "latency_ms": [FieldSource("$.foo", "number", 1000.0)]}, {"provider": "acme"})
    inf = infer_schema(recs, over)
    assert roles(inf)["output"] == ["$.blob"] and roles(inf)["latency_ms"] == ["$.foo"]
    a = assignment(inf, "latency_ms")
    assert (a.confidence, a.evidence, a.transform, a.scale) == (1.0, "set in config", "number", 1000.0)
    assert roles(inf)["input"] == ["$.prompt"] and inf.mapping.constants == {"provider": "acme"}
    assert "$.response" not in [p for ps in roles(inf).values() for p in ps]  # overridden role: no inferred candidate


def test_profile_fields_and_to_dict():
    recs = [{"a": {"b": i, "c": "x" * 100}, "tools": [{"name": "t1"}], "maybe": None if i % 2 else "v"} for i in range(10)]
    prof = {p.path: p for p in profile_fields(recs)}
    assert prof["$.a.b"].types == {"integer": 10} and prof["$.a.b"].present == 1.0 and prof["$.a.b"].distinct_ratio == 1.0
    assert prof["$.a.c"].examples == ["x" * 60]
    assert prof["$.maybe"].types == {"string": 5, "null": 5} and prof["$.maybe"].distinct_ratio == pytest.approx(0.2)
    assert "$.tools[*].name" in prof and prof["$.tools"].types == {"array": 10}
    d = infer_schema(openai_records(20)).to_dict()
    assert json.loads(json.dumps(d))["sample_size"] == 20
    assert {"mapping", "assignments", "fields"} <= set(d)


def test_unnamed_rename_is_coalesced_by_values_and_position():
    recs = [{"latency_ms" if i < 50 else "lat": 300 + i, "output": f"answer {i}"} for i in range(100)]
    inf = infer_schema(recs)
    assert roles(inf)["latency_ms"] == ["$.lat", "$.latency_ms"]
    lat, named = ([a for a in inf.assignments if a.path == p][0] for p in ("$.lat", "$.latency_ms"))
    assert 0.3 <= lat.confidence < named.confidence
    assert "takes over" in lat.evidence
    assert [r["latency_ms"] for r in normalized(recs, inf.mapping)] == [300.0 + i for i in range(100)]
    # an unrelated field interleaved with the named one is not pulled in
    mixed = [{"latency_ms" if i % 2 else "count": 300 + i, "output": f"answer {i}"} for i in range(100)]
    assert roles(infer_schema(mixed))["latency_ms"] == ["$.latency_ms"]


def test_generic_keys_take_their_role_from_the_parent():
    recs = [{"ts": 1714557600000 + i * 1000, "success": i % 4 != 0, "cost_cents": 12, "user": {"id": f"u{i % 5}"},
             "model": {"name": "claude-3-haiku", "version": "2024"}, "service": {"name": "search-api"},
             "error": None if i % 4 else {"message": "overloaded", "code": 529}, "tokens": {"prompt": 30, "completion": 9},
             "response": {"text": f"result {i} for the query"}} for i in range(40)]
    inf = infer_schema(recs)
    r = {k: v[0] for k, v in roles(inf).items()}
    assert r["user_id"] == "$.user.id" and r["model"] == "$.model.name" and r["service"] == "$.service.name"
    assert r["error"] == "$.error.message" and r["output"] == "$.response.text"
    assert r["prompt_tokens"] == "$.tokens.prompt" and r["completion_tokens"] == "$.tokens.completion"
    assert r["status"] == "$.success" and r["ts"] == "$.ts" and assignment(inf, "cost_usd").scale == 0.01
    rows = normalized(recs[:2], inf.mapping)
    assert [x["status"] for x in rows] == ["error", "ok"] and rows[0]["error"] == "overloaded"
    assert rows[0]["ts"] == datetime(2024, 5, 1, 10, 0, 0, tzinfo=timezone.utc) and rows[0]["cost_usd"] == pytest.approx(0.12)
    assert (rows[0]["prompt_tokens"], rows[0]["user_id"], rows[0]["provider"]) == (30, "u0", "anthropic")
