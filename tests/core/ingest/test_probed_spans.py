"""Span exports and datasets of shapes found in genuine public files (issue 12), written with our own values: GenAI
content on span events, tools an LLM call asked for without any tool span, one-conversation documents, chat datasets."""
import json

from pipeline.core.ingest.engine import ingest


def kv(d):
    def value(v):
        if isinstance(v, int):
            return {"intValue": str(v)}
        return {"stringValue": v if isinstance(v, str) else json.dumps(v)}
    return [{"key": k, "value": value(v)} for k, v in d.items()]


def otlp_span(trace, sid, attrs, events=(), parent=None, start=0, end=1, name="chat gpt-4o"):
    return {"traceId": trace, "spanId": sid, "parentSpanId": parent, "name": name,
            "startTimeUnixNano": str(1744000000_000000000 + start * 10**9),
            "endTimeUnixNano": str(1744000000_000000000 + end * 10**9), "attributes": kv(attrs),
            "events": [{"name": n, "attributes": kv(a)} for n, a in events], "status": {}}


def ingest_doc(tmp_path, doc, name="x.json", jsonl=False):
    p = tmp_path / name
    p.write_text("".join(json.dumps(r) + "\n" for r in doc) if jsonl else json.dumps(doc))
    t, r = ingest(str(p))
    return t.to_pylist(), r


def otlp(*spans):
    return {"resourceSpans": [{"resource": {"attributes": kv({"service.name": "svc"})},
                               "scopeSpans": [{"scope": {"name": "x"}, "spans": list(spans)}]}]}


CHAT = {"gen_ai.provider.name": "openai", "gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o",
        "gen_ai.usage.input_tokens": 12, "gen_ai.usage.output_tokens": 2}


def test_content_on_the_inference_details_event(tmp_path):
    inp = [{"role": "user", "parts": [{"type": "text", "content": "Translate 'cat' to Spanish"}]}]
    out = [{"role": "assistant", "parts": [{"type": "text", "content": "gato"}], "finish_reason": "stop"}]
    event = ("gen_ai.client.inference.operation.details", {"gen_ai.input.messages": json.dumps(inp),
                                                           "gen_ai.output.messages": json.dumps(out)})
    [e], r = ingest_doc(tmp_path, otlp(otlp_span("t1", "s1", CHAT, [event])))
    assert r.vendors == {"otel_genai": 1}
    assert "Translate 'cat' to Spanish" in e["input"] and "gato" in e["output"]
    assert (e["prompt_tokens"], e["completion_tokens"], e["tool_calls"]) == (12, 2, [])


def test_content_on_per_message_events_and_span_attributes_win(tmp_path):
    events = [("gen_ai.user.message", {"gen_ai.event.content": json.dumps({"role": "user", "content": "Ahoj?"})}),
              ("gen_ai.choice", {"gen_ai.event.content": json.dumps({"index": 0, "finish_reason": "stop",
                                                                     "message": {"content": "Ahoj!"}})})]
    [e], _ = ingest_doc(tmp_path, otlp(otlp_span("t2", "s1", CHAT, events)))
    assert (json.loads(e["input"]), json.loads(e["output"])) == ([{"role": "user", "content": "Ahoj?"}],
                                                                 [{"content": "Ahoj!"}])
    own = {**CHAT, "gen_ai.input.messages": json.dumps([{"role": "user", "content": "from the span"}])}
    [e], _ = ingest_doc(tmp_path, otlp(otlp_span("t3", "s1", own, events)), "own.json")
    assert "from the span" in e["input"] and "Ahoj!" in e["output"]


def test_tools_asked_for_by_an_llm_call_when_no_tool_span(tmp_path):
    out = [{"role": "assistant", "parts": [
        {"type": "server_tool_call", "id": "c1", "name": "web_search", "server_tool_call": {"type": "web_search"}},
        {"type": "tool_call", "id": "c2", "name": "get_weather", "arguments": {"city": "Paris"}}]}]
    [e], _ = ingest_doc(tmp_path, otlp(otlp_span("t4", "s1", {**CHAT, "gen_ai.output.messages": json.dumps(out)})))
    assert e["tool_calls"] == ["web_search", "get_weather"]
    # with a tool span the tool spans are the calls: the request is not counted twice
    tool = otlp_span("t5", "s2", {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "get_weather"},
                     parent="s1", start=1, end=2, name="execute_tool get_weather")
    llm = otlp_span("t5", "s1", {**CHAT, "gen_ai.output.messages": json.dumps(out)}, end=3)
    [e], _ = ingest_doc(tmp_path, otlp(llm, tool), "with_tool.json")
    assert e["tool_calls"] == ["get_weather"]


def test_openinference_output_tool_calls_in_call_order(tmp_path):
    attrs = {"llm.model_name": "gpt-4o-mini", "llm.token_count.prompt": 80, "llm.token_count.completion": 25,
             "llm.input_messages.0.message.role": "user", "llm.input_messages.0.message.content": "5 miles, 3 kg?",
             "llm.output_messages.0.message.role": "assistant",
             "llm.output_messages.0.message.tool_calls.10.tool_call.function.name": "convert_weight",
             "llm.output_messages.0.message.tool_calls.2.tool_call.function.name": "convert_distance"}
    span = {"name": "ChatCompletion", "context": {"trace_id": "oi-1", "span_id": "a"}, "span_kind": "LLM",
            "parent_id": None, "start_time": "2025-04-05T10:00:00+00:00", "end_time": "2025-04-05T10:00:01+00:00",
            "status_code": "OK", "attributes": attrs, "events": []}
    [e], _ = ingest_doc(tmp_path, [span], "spans.jsonl", jsonl=True)
    assert (e["model"], e["tool_calls"], e["prompt_tokens"]) == ("gpt-4o-mini", ["convert_distance", "convert_weight"],
                                                                 80)


def test_vercel_tool_without_execute_is_still_a_call(tmp_path):
    def span(sid, parent, op, **attrs):
        return {"name": op, "spanContext": {"traceId": "v-9", "spanId": sid}, "parentSpanId": parent,
                "startTime": [1767225600, 0], "endTime": [1767225602, 0], "status": {"code": 0},
                "attributes": {"ai.operationId": op, "ai.model.id": "claude-3-5-haiku", **attrs}, "events": []}
    calls = json.dumps([{"toolCallType": "function", "toolCallId": "t1", "toolName": "navigate", "args": "{}"}])
    spans = [span("1", None, "ai.streamText", **{"ai.prompt": json.dumps({"prompt": "open settings"})}),
             span("2", "1", "ai.streamText.doStream", **{"ai.response.toolCalls": calls, "ai.usage.promptTokens": 9})]
    [e], _ = ingest_doc(tmp_path, spans)
    assert (e["input"], e["tool_calls"], e["prompt_tokens"]) == ("open settings", ["navigate"], 9)


def test_one_conversation_document_is_one_record(tmp_path):
    conv = {"id": "c-1", "conversations": [{"from": "system", "value": "Be terse."}, {"from": "human", "value": "2+2?"},
                                           {"from": "gpt", "value": "4"}, {"from": "human", "value": "3+3?"},
                                           {"from": "gpt", "value": "6"}]}
    for name, doc in (("array.json", [conv]), ("object.json", conv)):
        rows, r = ingest_doc(tmp_path, doc, name)
        assert r.vendors == {"sharegpt": 1}, name
        assert [(e["session_id"], e["input"], e["output"]) for e in rows] == [("c-1", "2+2?", "4"),
                                                                               ("c-1", "3+3?", "6")]


def test_a_wrapper_document_is_still_unwrapped(tmp_path):
    rows, _ = ingest_doc(tmp_path, {"data": [{"model": "m", "prompt": "a", "completion": "b"},
                                             {"model": "m", "prompt": "c", "completion": "d"}]})
    assert len(rows) == 2


def test_chat_dataset_rows_one_entry_per_answer_but_logged_calls_are_not_datasets(tmp_path):
    rows, r = ingest_doc(tmp_path, [
        {"messages": [{"role": "system", "content": "Be terse."}, {"role": "user", "content": "Capital of France?"},
                      {"role": "assistant", "content": "Paris."}]},
        {"messages": [{"role": "user", "content": "Capital of Spain?"}, {"role": "assistant", "content": "Madrid."}]}],
        "ds.jsonl", jsonl=True)
    assert r.vendors == {"sharegpt": 1}
    assert [(e["input"], e["output"]) for e in rows] == [("Capital of France?", "Paris."),
                                                         ("Capital of Spain?", "Madrid.")]
    logged = {"model": "gpt-4o",
              "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}],
              "response": {"choices": [{"message": {"content": "hello"}}]}}
    rows, r = ingest_doc(tmp_path, [logged, logged], "calls.jsonl", jsonl=True)
    assert "sharegpt" not in r.vendors


def test_datadog_llm_obs_span_asking_for_a_tool(tmp_path):
    span = {"parent_id": "undefined", "trace_id": "dd-1", "span_id": "11", "name": "openai.chat", "status": "ok",
            "start_ns": 1744200000000000000, "duration": 1500000000,
            "metrics": {"input_tokens": 40, "output_tokens": 15},
            "meta": {"kind": "llm", "model_name": "gpt-4o", "model_provider": "openai",
                     "input": {"messages": [{"role": "user", "content": "Red shirt in stock?"}]},
                     "output": {"messages": [{"role": "assistant", "content": "", "tool_calls": [
                         {"name": "check_stock", "arguments": {"sku": "R1"}, "tool_id": "c1", "type": "function"}]}]}}}
    [e], r = ingest_doc(tmp_path, {"data": {"type": "span", "attributes": {"ml_app": "bot", "spans": [span]}}})
    assert r.vendors == {"datadog": 1}
    assert (e["tool_calls"], e["latency_ms"], e["prompt_tokens"]) == (["check_stock"], 1500.0, 40)


def test_langfuse_and_langsmith_llm_outputs_asking_for_tools(tmp_path):
    calls = [{"id": f"c{i}", "type": "function", "function": {"name": n, "arguments": "{}"}}
             for i, n in enumerate(("search_flights", "search_hotels"))]
    obs = {"id": "g1", "traceId": "lf-1", "type": "GENERATION", "name": "chat", "model": "gpt-4o",
           "startTime": "2025-04-11T09:00:00Z", "endTime": "2025-04-11T09:00:01Z", "input": [{"role": "user"}],
           "output": {"role": "assistant", "content": None, "tool_calls": calls}, "usageDetails": {"input": 5}}
    [e], r = ingest_doc(tmp_path, {"data": [obs, {**obs, "id": "g0", "type": "SPAN", "output": None}], "meta": {}})
    assert (r.vendors, e["tool_calls"]) == ({"langfuse_batch": 1}, ["search_flights", "search_hotels"])
    message = {"lc": 1, "type": "constructor", "kwargs": {"content": "", "tool_calls": [
        {"name": "fx_convert", "args": {}, "id": "x", "type": "tool_call"}]}}
    run = {"id": "r-1", "trace_id": "r-1", "name": "ChatOpenAI", "run_type": "llm", "parent_run_id": None,
           "start_time": "2025-04-11T10:00:00", "end_time": "2025-04-11T10:00:01", "status": "success",
           "inputs": {"messages": [[{"type": "human", "content": "10 USD in EUR?"}]]},
           "outputs": {"generations": [[{"text": "", "message": message}]]}}
    [e], r = ingest_doc(tmp_path, [run], "runs.jsonl", jsonl=True)
    assert (r.vendors, e["tool_calls"]) == ({"langsmith": 1}, ["fx_convert"])


def test_weave_calls_of_one_trace_are_one_entry_counted_once(tmp_path):
    usage = {"gpt-4o-mini": {"requests": 1, "prompt_tokens": 20, "completion_tokens": 10, "total_tokens": 30}}
    base = {"project_id": "team/p", "trace_id": "wt-1", "attributes": {}, "exception": None, "wb_user_id": "u"}
    parent = {**base, "id": "c-1", "op_name": "answer", "parent_id": None, "started_at": "2025-04-13T10:00:00Z",
              "ended_at": "2025-04-13T10:00:03Z", "inputs": {"question": "Warum ist der Himmel blau?"},
              "output": "Rayleigh-Streuung.", "summary": {"usage": usage, "weave": {"status": "success"}}}
    child = {**base, "id": "c-2", "op_name": "openai.chat.completions.create", "parent_id": "c-1",
             "started_at": "2025-04-13T10:00:01Z", "ended_at": "2025-04-13T10:00:02Z",
             "inputs": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Warum?"}]},
             "output": {"choices": [{"message": {"content": "", "tool_calls": [{"function": {"name": "lookup"}}]}}]},
             "summary": {"usage": usage, "weave": {"status": "success"}}}
    [e], r = ingest_doc(tmp_path, [parent, child], "calls.jsonl", jsonl=True)
    assert r.vendors == {"weave": 1}
    assert (e["trace_id"], e["input"], e["output"], e["model"]) == ("wt-1", '{"question":"Warum ist der Himmel blau?"}',
                                                                    "Rayleigh-Streuung.", "gpt-4o-mini")
    assert (e["prompt_tokens"], e["completion_tokens"], e["latency_ms"], e["tool_calls"]) == (20, 10, 3000.0, ["lookup"])
