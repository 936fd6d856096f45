"""Trace assembly as an ingest stage: spans of one trace grouped across lines, objects, orders and span shapes."""
import json
import random

import pytest

from pipeline.core.config import StrataConfig
from pipeline.core.ingest.engine import ingest
from pipeline.core.ingest.traces import TraceAssembler
from pipeline.core.ingest.vendors.span_records import hrtime_us, record_spans
from pipeline.core.ingest.vendors.spans import Span


def phoenix_span(sid, kind, parent, start, end, trace="t-1", status="OK", **attrs):
    return {"name": attrs.pop("name", f"{kind.lower()}-{sid}"), "context": {"trace_id": trace, "span_id": sid},
            "span_kind": kind, "parent_id": parent, "start_time": f"2026-01-02T00:00:{start:02d}+00:00",
            "end_time": f"2026-01-02T00:00:{end:02d}+00:00", "status_code": status,
            "status_message": "tool blew up" if status == "ERROR" else "", "attributes": attrs, "events": []}


def agent_turn(trace="t-1", fail_tool=False):
    """An agent root, two LLM calls with a tool call between them (OpenInference attributes, dotted keys)."""
    return [
        phoenix_span("a", "AGENT", None, 0, 30, trace, **{"input.value": "book a table", "output.value": "Booked.",
                                                          "session.id": "s-9"}),
        phoenix_span("b", "LLM", "a", 1, 5, trace, **{"llm.model_name": "claude-x", "llm.provider": "anthropic",
                                                      "llm.token_count.prompt": 100, "llm.token_count.completion": 10}),
        phoenix_span("c", "TOOL", "a", 6, 9, trace, name="reserve", status="ERROR" if fail_tool else "OK",
                     **{"tool.name": "reserve"}),
        phoenix_span("d", "LLM", "a", 10, 20, trace, **{"llm.model_name": "claude-x", "llm.token_count.prompt": 150,
                                                        "llm.token_count.completion": 5}),
    ]


def write(path, records, jsonl=False):
    path.write_text("\n".join(json.dumps(r) for r in records) if jsonl else json.dumps(records))
    return path


def check_turn(e):
    assert (e["trace_id"], e["request_id"], e["session_id"]) == ("t-1", "t-1", "s-9")
    assert (e["input"], e["output"], e["model"], e["provider"]) == ("book a table", "Booked.", "claude-x", "anthropic")
    assert (e["prompt_tokens"], e["completion_tokens"], e["tool_calls"]) == (250, 15, ["reserve"])
    assert e["latency_ms"] == 30000.0
    detail = json.loads(e["attributes"])["vendor_detail"]
    assert detail["span_count"] == 4 and detail["span_kinds"] == {"other": 1, "llm": 2, "tool": 1}


def test_span_array_is_one_entry_per_trace(tmp_path):
    t, r = ingest(str(write(tmp_path / "spans.json", agent_turn() + agent_turn("t-2", fail_tool=True))))
    assert t.num_rows == 2 and r.rows_rejected == 0 and r.vendors == {"otel_genai": 1}
    ok, failed = sorted(t.to_pylist(), key=lambda e: e["trace_id"])
    check_turn(ok)
    assert ok["status"] == "ok" and failed["status"] == "error" and failed["error"] == "tool blew up"


def test_spans_in_any_order_over_jsonl_lines_and_several_objects(tmp_path):
    spans = agent_turn()
    random.Random(3).shuffle(spans)
    (tmp_path / "d").mkdir()
    write(tmp_path / "d" / "part-1.jsonl", spans[:2], jsonl=True)
    write(tmp_path / "d" / "part-2.jsonl", spans[2:], jsonl=True)
    t, r = ingest(str(tmp_path / "d"))
    assert t.num_rows == 1 and r.rows_kept == 1
    check_turn(t.to_pylist()[0])
    assert json.loads(t.to_pylist()[0]["attributes"])["vendor_detail"]["objects"] == 2


def test_open_trace_is_emitted_and_marked(tmp_path):
    spans = [s for s in agent_turn() if s["context"]["span_id"] != "a"]  # the root never arrived
    spans[0]["end_time"] = None
    t, _ = ingest(str(write(tmp_path / "open.json", spans)))
    [e] = t.to_pylist()
    assert json.loads(e["attributes"])["vendor_detail"]["open"] == "no root span; 1 span(s) without an end"
    assert (e["prompt_tokens"], e["tool_calls"]) == (250, ["reserve"])


def test_span_budget_evicts_idle_traces_marked_incomplete():
    asm = TraceAssembler(max_spans=3)
    out = []
    for i, trace in enumerate(["x", "x", "y", "y", "z"]):
        out += asm.add("s", i, trace, Span(span_id=f"{trace}{i}", start_us=i, end_us=i + 1))
    out += asm.finish()
    assert sorted(o.entry["trace_id"] for o in out) == ["x", "y", "z"]
    incomplete = {o.entry["trace_id"] for o in out if "incomplete" in o.entry["vendor_detail"]}
    assert incomplete == {"x"}


def test_vercel_readable_span_dump_counts_nested_generate_once(tmp_path):
    def span(sid, parent, op, start, end, **attrs):
        return {"name": op, "kind": 0, "spanContext": {"traceId": "v-1", "spanId": sid, "traceFlags": 1},
                "parentSpanId": parent, "startTime": [1767225600 + start, 500_000_000],
                "endTime": [1767225600 + end, 0], "status": {"code": 0},
                "attributes": {"operation.name": f"{op} chat", "ai.operationId": op, **attrs}, "events": []}
    spans = [
        span("1", None, "ai.generateText", 0, 4, **{"ai.model.id": "gpt-4o-mini", "ai.model.provider": "openai.chat",
             "ai.prompt": json.dumps({"prompt": "weather in Paris?"}), "ai.response.text": "Sunny, 21C.",
             "ai.usage.promptTokens": 30, "ai.usage.completionTokens": 12}),
        span("2", "1", "ai.generateText.doGenerate", 0, 1, **{"ai.model.id": "gpt-4o-mini",
             "ai.usage.promptTokens": 10, "ai.usage.completionTokens": 5, "ai.model.provider": "openai.chat"}),
        span("3", "1", "ai.toolCall", 1, 2, **{"ai.toolCall.name": "weather", "ai.toolCall.args": '{"city":"Paris"}'}),
        span("4", "1", "ai.generateText.doGenerate", 2, 4, **{"ai.model.id": "gpt-4o-mini",
             "ai.usage.promptTokens": 20, "ai.usage.completionTokens": 7, "ai.model.provider": "openai.chat"}),
    ]
    t, r = ingest(str(write(tmp_path / "vercel.json", spans)))
    [e] = t.to_pylist()
    assert (e["input"], e["output"], e["model"], e["provider"]) == ("weather in Paris?", "Sunny, 21C.", "gpt-4o-mini",
                                                                    "openai")
    assert (e["prompt_tokens"], e["completion_tokens"], e["tool_calls"]) == (30, 12, ["weather"])
    assert e["latency_ms"] == 3500.0  # [s, ns] times: 0.5 s .. 4.0 s


def test_datadog_apm_trace_lists(tmp_path):
    spans = [[{"name": "openai.request", "service": "chat-api", "resource": "chat.completions/gpt-4o", "trace_id": 77,
               "span_id": 1, "parent_id": 0, "error": 1, "duration": 2_000_000, "start": 1700000000000000000,
               "meta": {"component": "openai", "openai.request.model": "gpt-4o", "error.message": "rate limited",
                        "openai.request.messages.0.role": "user", "openai.request.messages.0.content": "hi"},
               "metrics": {"openai.response.usage.prompt_tokens": 3, "openai.response.usage.completion_tokens": 0}}]]
    t, r = ingest(str(write(tmp_path / "apm.json", spans)))
    [e] = t.to_pylist()
    assert r.vendors == {"datadog_apm": 1}
    assert (e["trace_id"], e["model"], e["status"], e["error"], e["service"]) == ("77", "gpt-4o", "error",
                                                                                  "rate limited", "chat-api")
    assert (e["prompt_tokens"], e["latency_ms"], json.loads(e["input"])) == (3, 2.0, [{"role": "user", "content": "hi"}])


@pytest.mark.parametrize("bad", [{"spanContext": {"traceId": "t", "spanId": "s"}, "startTime": ["x", None]},
                                 {"context": {"trace_id": "t", "span_id": 5}, "attributes": "nope", "span_kind": 3},
                                 {"resourceSpans": [{"scopeSpans": [{"spans": [None, 1, {"traceId": "t"}]}]}]}])
def test_hostile_span_records_do_not_crash(bad):
    for trace_id, span in record_spans(bad):
        assert trace_id is None or isinstance(trace_id, str)
        assert isinstance(span, Span)


def test_hrtime():
    assert hrtime_us([1, 2500]) == 1_000_002 and hrtime_us("2024-01-01T00:00:00Z") == 1704067200000000


def test_max_buffered_spans_setting(tmp_path):
    cfg = StrataConfig.model_validate({"reading": {"max_buffered_spans": 2}})
    t, _ = ingest(str(write(tmp_path / "s.json", agent_turn())), config=cfg)
    assert t.num_rows >= 1 and sum(json.loads(a)["vendor_detail"]["span_count"] for a in t.column("attributes").to_pylist()) == 4


def test_langsmith_runs_of_one_trace_on_several_files(tmp_path):
    def run(rid, parent, rtype, start, end, **kw):
        return {"id": rid, "trace_id": "ls-1", "parent_run_id": parent, "run_type": rtype, "name": kw.pop("name", rtype),
                "dotted_order": f"20240101T000000000000Zls-1.{rid}", "start_time": f"2024-01-01T00:00:0{start}Z",
                "end_time": f"2024-01-01T00:00:0{end}Z", **kw}
    root = run("ls-1", None, "chain", 0, 9, inputs={"question": "sum 2+2"}, outputs={"output": "4"})
    llm = run("r2", "ls-1", "llm", 1, 3, extra={"metadata": {"ls_model_name": "gpt-4o-mini", "ls_provider": "openai"}},
              outputs={"generations": [[{"text": "call add"}]], "llm_output": {"token_usage": {"prompt_tokens": 7,
                                                                                             "completion_tokens": 2}}})
    tool = run("r3", "ls-1", "tool", 4, 5, name="add")
    (tmp_path / "d").mkdir()
    write(tmp_path / "d" / "a.jsonl", [tool], jsonl=True)
    write(tmp_path / "d" / "b.jsonl", [llm, root], jsonl=True)
    t, r = ingest(str(tmp_path / "d"))
    [e] = t.to_pylist()
    assert r.vendors == {"langsmith": 2}
    assert (e["trace_id"], e["tool_calls"], e["latency_ms"]) == ("ls-1", ["add"], 9000.0)


def test_langfuse_observation_rows_group_into_traces(tmp_path):
    def obs(oid, typ, parent, start, end, **kw):
        return {"id": oid, "traceId": "lf-1", "type": typ, "name": kw.pop("name", oid), "parentObservationId": parent,
                "startTime": f"2025-01-01T00:00:0{start}Z", "endTime": f"2025-01-01T00:00:0{end}Z", **kw}
    rows = {"data": [obs("o1", "SPAN", None, 0, 6, input="plan a trip", output="Go to Rome."),
                     obs("o2", "GENERATION", "o1", 1, 3, model="gpt-4o", usageDetails={"input": 20, "output": 5}),
                     obs("o3", "TOOL", "o1", 3, 4, name="weather"),
                     obs("o4", "GENERATION", "o1", 4, 6, model="gpt-4o", usageDetails={"input": 30, "output": 9},
                         level="ERROR", statusMessage="timeout")],
            "meta": {"page": 1, "limit": 50, "totalItems": 4, "totalPages": 1}}
    t, r = ingest(str(write(tmp_path / "observations.json", rows)))
    [e] = t.to_pylist()
    assert r.vendors == {"langfuse_batch": 1}
    assert (e["trace_id"], e["input"], e["output"], e["model"]) == ("lf-1", "plan a trip", "Go to Rome.", "gpt-4o")
    assert (e["prompt_tokens"], e["completion_tokens"], e["tool_calls"]) == (50, 14, ["weather"])
    assert (e["status"], e["error"], e["latency_ms"]) == ("error", "timeout", 6000.0)


def test_flattened_span_rows_as_csv(tmp_path):
    import csv

    cols = ["name", "span_kind", "parent_id", "start_time", "end_time", "status_code", "status_message",
            "context.span_id", "context.trace_id", "attributes.input.value", "attributes.output.value",
            "attributes.llm.model_name", "attributes.llm.token_count.prompt", "attributes.llm.token_count.completion"]
    rows = [["agent", "AGENT", "", "2026-01-02T00:00:00+00:00", "2026-01-02T00:00:05+00:00", "OK", "", "a", "t-9",
             "hello?", "hi!", "", "", ""],
            ["llm", "LLM", "a", "2026-01-02T00:00:01+00:00", "2026-01-02T00:00:02+00:00", "OK", "", "b", "t-9",
             "", "", "gpt-4o", "11", "3"],
            ["lookup", "TOOL", "a", "2026-01-02T00:00:03+00:00", "2026-01-02T00:00:04+00:00", "OK", "", "c", "t-9",
             "", "", "", "", ""]]
    p = tmp_path / "spans.csv"
    with p.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(cols)
        w.writerows(rows)
    t, r = ingest(str(p))
    [e] = t.to_pylist()
    assert (e["trace_id"], e["input"], e["output"], e["model"]) == ("t-9", "hello?", "hi!", "gpt-4o")
    assert (e["prompt_tokens"], e["completion_tokens"], e["tool_calls"], e["latency_ms"]) == (11, 3, ["lookup"], 5000.0)


def test_datadog_llmobs_spans_one_per_line(tmp_path):
    def span(sid, parent, kind, start, dur, **meta):
        metrics = meta.pop("metrics", {})
        return {"trace_id": "dd-7", "span_id": sid, "parent_id": parent, "name": meta.pop("name", kind),
                "start_ns": 1713889389104152000 + start, "duration": dur, "status": "ok",
                "meta": {"kind": kind, **meta}, "metrics": metrics}
    spans = [span("1", "undefined", "agent", 0, 3_000_000_000, input={"value": "jacket?"}, output={"value": "no"}),
             span("2", "1", "llm", 1000, 1_000_000_000, model_name="gpt-4o", input={"messages": []},
                  metrics={"input_tokens": 8, "output_tokens": 2}),
             span("3", "1", "tool", 2000, 500_000_000, name="weather", input={"value": "x"})]
    t, r = ingest(str(write(tmp_path / "dd.jsonl", spans, jsonl=True)))
    [e] = t.to_pylist()
    assert r.vendors == {"datadog_apm": 1}
    assert (e["trace_id"], e["input"], e["output"], e["model"], e["tool_calls"]) == ("dd-7", "jacket?", "no", "gpt-4o",
                                                                                     ["weather"])
    assert (e["prompt_tokens"], e["completion_tokens"], e["latency_ms"]) == (8, 2, 3000.0)


def test_one_giant_trace_stays_within_the_budget():
    asm = TraceAssembler(max_spans=10)
    out = []
    for i in range(35):
        out += asm.add("s", i, "big", Span(span_id=str(i), start_us=i, end_us=i + 1))
        assert asm.buffered <= 10
    out += asm.finish()
    assert sum(o.entry["vendor_detail"]["span_count"] for o in out) == 35
    assert all(o.entry["trace_id"] == "big" for o in out)


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as hst  # noqa: E402


@settings(max_examples=80, deadline=None)
@given(hst.lists(hst.tuples(hst.sampled_from("abcd"), hst.integers(0, 30), hst.integers(0, 500)), max_size=60),
       hst.integers(1, 80))
def test_assembly_matches_a_plain_group_by(spans, budget):
    """Reference: a dict grouping. Every distinct span lands in exactly one entry; without eviction each trace is one
    entry whose tokens are the sum over its (parentless, LLM) spans."""
    asm = TraceAssembler(max_spans=budget)
    out, ref = [], {}
    for i, (trace, sid, tokens) in enumerate(spans):
        span = Span(span_id=f"{trace}{sid}", kind="llm", prompt_tokens=tokens, start_us=i, end_us=i + 1)
        ref.setdefault(trace, {})[span.span_id] = tokens
        out += asm.add("s", i, trace, span)
    out += asm.finish()
    assert sum(o.entry["vendor_detail"]["span_count"] for o in out) >= sum(len(v) for v in ref.values())
    if not any("incomplete" in o.entry["vendor_detail"] for o in out):
        assert sorted(o.entry["trace_id"] for o in out) == sorted(ref)
        for o in out:
            assert o.entry["prompt_tokens"] == sum(ref[o.entry["trace_id"]].values())
            assert o.entry["vendor_detail"]["span_count"] == len(ref[o.entry["trace_id"]])
