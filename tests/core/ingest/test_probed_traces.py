"""Probed span / trace exports: variants of genuine shapes (rewritten with our own values), each hand-read.

Every test asserts what a person reading the sample expects of its one entry per trace: model, summed leaf tokens,
root input/output, tool calls in call order, status, ts, latency and time to first token.
"""
from __future__ import annotations

import json

from pipeline.core.ingest.engine import ingest

T = 1730900000000000000  # ns


def kv(d):
    def value(x):
        if isinstance(x, bool):
            return {"boolValue": x}
        if isinstance(x, int):
            return {"intValue": str(x)}
        if isinstance(x, float):
            return {"doubleValue": x}
        if isinstance(x, list):
            return {"arrayValue": {"values": [value(i) for i in x]}}
        return {"stringValue": x}
    return [{"key": k, "value": value(x)} for k, x in d.items()]


def otlp(spans, service="svc"):
    return {"resourceSpans": [{"resource": {"attributes": kv({"service.name": service})},
                               "scopeSpans": [{"scope": {"name": "probe"}, "spans": spans}]}]}


def ospan(trace, sid, parent, name, start_ms, end_ms, attrs, status=None, events=()):
    return {"traceId": trace, "spanId": sid, "parentSpanId": parent or "", "name": name, "kind": 1,
            "startTimeUnixNano": str(T + start_ms * 1_000_000), "endTimeUnixNano": str(T + end_ms * 1_000_000),
            "attributes": kv(attrs), "events": list(events), "status": status or {"code": 0}}


def write(path, doc, jsonl=False):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(json.dumps(d) for d in doc) + "\n" if jsonl else json.dumps(doc, indent=2))
    return path


def one(path):
    table, result = ingest(str(path))
    rows = table.to_pylist()
    assert len(rows) == 1, (rows, result.rejects)
    return rows[0]


def iso(row):
    return row["ts"].isoformat().replace("+00:00", "Z")


def test_python_to_json_spans_over_two_files_children_first_with_error_status(tmp_path):
    def pyspan(name, sid, parent, start, end, attrs, status=None):
        return {"name": name, "context": {"trace_id": "0x4bf92f3577b34da6a3ce929d0e0e4736", "span_id": sid},
                "kind": "SpanKind.CLIENT", "parent_id": parent, "start_time": start, "end_time": end,
                "status": status or {"status_code": "UNSET"}, "attributes": attrs, "events": [], "links": [],
                "resource": {"attributes": {"service.name": "support-bot"}, "schema_url": ""}}
    llm = pyspan("chat gpt-4o-mini", "0x00f067aa0ba902b7", "0x53995c3f42cd8ad8", "2024-11-05T10:00:00.120000Z",
                 "2024-11-05T10:00:01.020000Z", {"gen_ai.operation.name": "chat", "gen_ai.system": "openai",
                                                 "gen_ai.request.model": "gpt-4o-mini", "gen_ai.usage.input_tokens": 120,
                                                 "gen_ai.usage.output_tokens": 30})
    tool = pyspan("execute_tool lookup_order", "0x1111111111111111", "0x53995c3f42cd8ad8", "2024-11-05T10:00:01.030000Z",
                  "2024-11-05T10:00:01.530000Z", {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "lookup_order"},
                  {"status_code": "ERROR", "description": "TimeoutError: order service did not answer"})
    root = pyspan("support_turn", "0x53995c3f42cd8ad8", None, "2024-11-05T10:00:00Z", "2024-11-05T10:00:02Z",
                  {"input.value": "Where is my order 1234?", "output.value": "Sorry, I could not reach it."})
    drop = tmp_path / "drop"
    # the console exporter writes pretty objects one after another
    (drop / "a.json").parent.mkdir()
    (drop / "a.json").write_text(json.dumps(llm, indent=4) + "\n" + json.dumps(tool, indent=4) + "\n")
    write(drop / "b.json", root)
    e = one(drop)
    assert (e["model"], e["prompt_tokens"], e["completion_tokens"]) == ("gpt-4o-mini", 120, 30)
    assert (e["input"], e["output"]) == ("Where is my order 1234?", "Sorry, I could not reach it.")
    assert (e["status"], e["error"], e["tool_calls"]) == ("error", "TimeoutError: order service did not answer",
                                                         ["lookup_order"])
    assert (iso(e), e["latency_ms"], e["service"]) == ("2024-11-05T10:00:00Z", 2000.0, "support-bot")


def test_otlp_streamed_call_time_to_first_token(tmp_path):
    spans = [ospan("5b8e", "01", None, "POST /ask", 0, 2500, {"http.route": "/ask"}),
             ospan("5b8e", "02", "01", "chat gpt-4o", 100, 2400, {
                 "gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o", "gen_ai.usage.input_tokens": 812,
                 "gen_ai.usage.output_tokens": 96, "gen_ai.response.finish_reasons": ["stop"],
                 "gen_ai.server.time_to_first_token": 0.35})]
    e = one(write(tmp_path / "x.json", otlp(spans)))
    assert (e["prompt_tokens"], e["completion_tokens"], e["status"], e["latency_ms"]) == (812, 96, "ok", 2500.0)
    assert e["ttft_ms"] == 450.0  # the call started 100 ms into the request; its first token 350 ms later


def test_openllmetry_traceloop_workflow_tool_and_entity_io(tmp_path):
    spans = [
        ospan("a1", "1", None, "weather_agent.workflow", 0, 3000, {
            "traceloop.span.kind": "workflow", "traceloop.entity.name": "weather_agent",
            "traceloop.entity.input": json.dumps({"args": [], "kwargs": {"question": "Weather in Paris?"}}),
            "traceloop.entity.output": json.dumps("It is 18C and sunny.")}),
        ospan("a1", "2", "1", "openai.chat", 100, 900, {
            "llm.request.type": "chat", "gen_ai.system": "OpenAI", "gen_ai.request.model": "gpt-4o",
            "gen_ai.prompt.0.role": "user", "gen_ai.prompt.0.content": "Weather in Paris?",
            "gen_ai.completion.0.tool_calls.0.name": "get_weather", "llm.usage.total_tokens": 62,
            "llm.usage.prompt_tokens": 50, "llm.usage.completion_tokens": 12}),
        ospan("a1", "3", "1", "fetch_forecast.tool", 1000, 1400, {"traceloop.span.kind": "tool",
                                                                  "traceloop.entity.name": "fetch_forecast"}),
        ospan("a1", "4", "1", "geo_lookup.tool", 1450, 1500, {"traceloop.span.kind": "tool",
                                                              "traceloop.entity.name": "geo_lookup"}),
        ospan("a1", "5", "1", "openai.chat", 1600, 2900, {
            "llm.request.type": "chat", "gen_ai.request.model": "gpt-4o", "gen_ai.completion.0.content": "It is 18C.",
            "llm.usage.prompt_tokens": 80, "llm.usage.completion_tokens": 10}),
    ]
    e = one(write(tmp_path / "x.json", otlp(spans)))
    assert (e["input"], e["output"]) == ("Weather in Paris?", "It is 18C and sunny.")
    assert (e["model"], e["prompt_tokens"], e["completion_tokens"]) == ("gpt-4o", 130, 22)
    assert e["tool_calls"] == ["fetch_forecast", "geo_lookup"]  # tool spans, not only what the LLM asked for


def test_traceloop_langchain_inputs_outputs_wrappers(tmp_path):
    spans = [ospan("a2", "1", None, "RunnableSequence.workflow", 0, 1000, {
        "traceloop.span.kind": "workflow",
        "traceloop.entity.input": json.dumps({"inputs": {"topic": "owls"}, "tags": [], "metadata": {}, "kwargs": {}}),
        "traceloop.entity.output": json.dumps({"outputs": "Owls hunt at night.", "kwargs": {}})})]
    e = one(write(tmp_path / "x.json", otlp(spans)))
    assert (e["input"], e["output"]) == ("owls", "Owls hunt at night.")


def test_phoenix_span_json_with_nested_attributes(tmp_path):
    def px(sid, parent, kind, start, end, attrs):
        return {"name": kind.lower(), "context": {"trace_id": "6f1a", "span_id": sid}, "span_kind": kind,
                "parent_id": parent, "start_time": start, "end_time": end, "status_code": "OK", "status_message": "",
                "attributes": attrs, "events": []}
    spans = [
        px("2", "1", "LLM", "2024-12-01T09:00:00.200+00:00", "2024-12-01T09:00:01.200+00:00", {
            "llm": {"model_name": "gpt-4o-mini", "token_count": {"prompt": 200, "completion": 40, "total": 240},
                    "input_messages": [{"message": {"role": "user", "content": "Summarize the ticket"}}]},
            "openinference": {"span": {"kind": "LLM"}}}),
        px("1", None, "CHAIN", "2024-12-01T09:00:00+00:00", "2024-12-01T09:00:01.300+00:00", {
            "input": {"value": "Summarize the ticket"}, "output": {"value": "Customer wants a refund."},
            "session": {"id": "sess-77"}, "user": {"id": "u-9"}}),
    ]
    e = one(write(tmp_path / "x.jsonl", spans, jsonl=True))
    assert (e["model"], e["prompt_tokens"], e["completion_tokens"]) == ("gpt-4o-mini", 200, 40)
    assert (e["input"], e["output"]) == ("Summarize the ticket", "Customer wants a refund.")
    assert (e["session_id"], e["user_id"], e["latency_ms"]) == ("sess-77", "u-9", 1300.0)


def test_phoenix_dataframe_rows_with_message_list_columns(tmp_path):
    def row(sid, parent, kind, start, end, **attrs):
        return {"name": kind.lower(), "span_kind": kind, "parent_id": parent, "start_time": start, "end_time": end,
                "status_code": "OK", "status_message": "", "context.span_id": sid, "context.trace_id": "7a7a",
                **{f"attributes.{k.replace('__', '.')}": v for k, v in attrs.items()}}
    rows = [
        row("1", None, "AGENT", 1733050000000, 1733050004000, input__value=None),
        row("2", "1", "LLM", 1733050000100, 1733050001100, llm__model_name="claude-3-5-sonnet-20241022",
            llm__input_messages=[{"message.role": "user", "message.content": "Book a table for two"}],
            llm__output_messages=[{"message.role": "assistant", "message.tool_calls": [
                {"tool_call.function.name": "find_slot"}, {"tool_call.function.name": "book_table"}]}],
            llm__token_count__prompt=260, llm__token_count__completion=40),
        row("3", "1", "LLM", 1733050002300, 1733050003900, llm__model_name="claude-3-5-sonnet-20241022",
            llm__output_messages=[{"message.role": "assistant", "message.content": "Booked for 19:00."}],
            llm__token_count__prompt=310, llm__token_count__completion=20),
    ]
    e = one(write(tmp_path / "spans.json", rows))
    assert iso(e) == "2024-12-01T10:46:40Z" and e["latency_ms"] == 4000.0
    assert (e["prompt_tokens"], e["completion_tokens"]) == (570, 60)
    assert e["tool_calls"] == ["find_slot", "book_table"]
    assert "Book a table for two" in e["input"] and "Booked for 19:00." in e["output"]


def test_openinference_first_token_event_and_tool_named_by_its_span(tmp_path):
    def sp(sid, parent, kind, start, end, attrs, status="OK", msg="", events=()):
        return {"name": attrs.pop("name"), "context": {"trace_id": "ee00", "span_id": sid}, "parent_id": parent,
                "span_kind": kind, "start_time": start, "end_time": end, "status_code": status,
                "status_message": msg, "attributes": attrs, "events": list(events)}
    spans = [
        sp("e1", None, "AGENT", "2025-04-01T10:00:00Z", "2025-04-01T10:00:03Z",
           {"name": "agent", "input.value": "convert 10 USD", "output.value": "9.2 EUR"}),
        sp("e3", "e1", "TOOL", "2025-04-01T10:00:01Z", "2025-04-01T10:00:01.500Z",
           {"name": "currency_convert"}, status="ERROR", msg="rate service 503"),
        sp("e2", "e1", "LLM", "2025-04-01T10:00:00.100Z", "2025-04-01T10:00:00.900Z",
           {"name": "generate", "llm.model_name": "gpt-4.1", "llm.token_count.prompt": 400,
            "llm.token_count.completion": 25},
           events=[{"name": "First Token Stream Event", "timestamp": "2025-04-01T10:00:00.350Z", "attributes": {}}]),
    ]
    e = one(write(tmp_path / "x.json", spans))
    assert (e["status"], e["error"], e["tool_calls"]) == ("error", "rate service 503", ["currency_convert"])
    assert (e["model"], e["prompt_tokens"], e["ttft_ms"]) == ("gpt-4.1", 400, 350.0)


def test_openinference_total_tokens_only_is_not_split(tmp_path):
    spans = [ospan("c1", "1", None, "query", 0, 2000, {"openinference.span.kind": "CHAIN", "input.value": "q?",
                                                       "output.value": "42."}),
             ospan("c1", "2", "1", "ChatCompletion", 10, 900, {"openinference.span.kind": "LLM", "llm.model_name": "gpt-4o",
                                                               "llm.token_count.total": 150})]
    e = one(write(tmp_path / "x.json", otlp(spans)))
    assert (e["model"], e["prompt_tokens"], e["completion_tokens"]) == ("gpt-4o", None, None)


def lf_obs(oid, typ, parent, start, end, **kw):
    return {"id": oid, "traceId": "lf-1", "type": typ, "name": kw.pop("name", typ.lower()), "startTime": start,
            "endTime": end, "parentObservationId": parent, "level": "DEFAULT", "metadata": {}, "usageDetails": {},
            "costDetails": {}, "completionStartTime": None, "projectId": "p", **kw}


def test_langfuse_v3_observations_usage_details_parts_and_event(tmp_path):
    obs = [
        lf_obs("o1", "AGENT", None, "2025-01-10T08:00:00.000Z", "2025-01-10T08:00:05.000Z", name="travel-agent",
               input="Find me a flight to Rome", output={"role": "assistant", "content": "Flight AZ123."}),
        lf_obs("o2", "GENERATION", "o1", "2025-01-10T08:00:00.100Z", "2025-01-10T08:00:01.100Z", model="gpt-4o",
               completionStartTime="2025-01-10T08:00:00.400Z",
               usageDetails={"input": 900, "input_cached_tokens": 100, "output": 50, "total": 1050},
               costDetails={"total": 0.002875}),
        lf_obs("o3", "TOOL", "o1", "2025-01-10T08:00:01.200Z", "2025-01-10T08:00:02.200Z", name="search_flights"),
        lf_obs("o4", "EVENT", "o1", "2025-01-10T08:00:02.250Z", None, name="cache-miss"),
        lf_obs("o5", "GENERATION", "o1", "2025-01-10T08:00:02.300Z", "2025-01-10T08:00:04.900Z", model="gpt-4o",
               usageDetails={"input": 1200, "output": 30, "output_reasoning_tokens": 10, "total": 1240},
               costDetails={"total": 0.0034}),
    ]
    e = one(write(tmp_path / "obs.json", obs))
    assert (e["prompt_tokens"], e["completion_tokens"], e["cost_usd"]) == (2200, 90, 0.006275)
    assert (e["input"], e["output"], e["tool_calls"]) == ("Find me a flight to Rome", "Flight AZ123.",
                                                          ["search_flights"])
    assert (e["ttft_ms"], e["latency_ms"], e["status"]) == (400.0, 5000.0, "ok")
    assert "open" not in json.loads(e["attributes"])["vendor_detail"]  # an EVENT has no end by nature


def test_langfuse_usage_details_with_parts_left_inside_input(tmp_path):
    obs = [lf_obs("g", "GENERATION", None, "2025-01-10T08:00:00Z", "2025-01-10T08:00:01Z", model="gpt-4o",
                  usageDetails={"input": 1000, "input_cached_tokens": 800, "output": 20, "total": 1020})]
    e = one(write(tmp_path / "obs.json", obs))
    assert (e["prompt_tokens"], e["completion_tokens"]) == (1000, 20)


def test_langfuse_legacy_observation_events_in_a_batch(tmp_path):
    batch = {"batch": [
        {"id": "e1", "type": "trace-create", "timestamp": "2025-01-11T10:00:00.000Z", "body": {
            "id": "tr-8", "name": "qa", "userId": "user-5", "sessionId": "s-5", "input": "What is 2+2?", "output": "4",
            "timestamp": "2025-01-11T10:00:00.000Z"}},
        {"id": "e2", "type": "observation-create", "timestamp": "2025-01-11T10:00:00.010Z", "body": {
            "id": "g-8", "traceId": "tr-8", "type": "GENERATION", "name": "openai", "model": "gpt-3.5-turbo",
            "startTime": "2025-01-11T10:00:00.010Z"}},
        {"id": "e3", "type": "observation-update", "timestamp": "2025-01-11T10:00:00.800Z", "body": {
            "id": "g-8", "traceId": "tr-8", "type": "GENERATION", "endTime": "2025-01-11T10:00:00.800Z",
            "usage": {"promptTokens": 12, "completionTokens": 1, "totalTokens": 13}}},
        {"id": "e4", "type": "sdk-log", "timestamp": "2025-01-11T10:00:00.900Z", "body": {"log": "flushed"}},
    ], "metadata": {"sdk_name": "python", "sdk_version": "1.20.0"}}
    e = one(write(tmp_path / "batch.json", batch))
    assert (e["model"], e["prompt_tokens"], e["completion_tokens"]) == ("gpt-3.5-turbo", 12, 1)
    assert (iso(e), e["latency_ms"], e["user_id"], e["session_id"]) == ("2025-01-11T10:00:00Z", 790.0, "user-5", "s-5")
    assert (e["input"], e["output"]) == ("What is 2+2?", "4")


def test_langfuse_create_and_update_in_two_batch_files_merge(tmp_path):
    def ev(typ, body):
        return {"batch": [{"id": typ, "type": typ, "timestamp": "2025-01-12T10:00:00Z", "body": body}]}
    drop = tmp_path / "drop"
    write(drop / "1.json", ev("generation-create", {"id": "g", "traceId": "tr", "name": "llm", "model": "gpt-4o-mini",
                                                     "startTime": "2025-01-12T10:00:00Z", "input": "Hi?"}))
    write(drop / "2.json", ev("generation-update", {"id": "g", "traceId": "tr", "endTime": "2025-01-12T10:00:01.500Z",
                                                     "output": "Hello!", "usageDetails": {"input": 5, "output": 2}}))
    e = one(drop)
    assert (e["model"], e["input"], e["output"]) == ("gpt-4o-mini", "Hi?", "Hello!")
    assert (e["prompt_tokens"], e["completion_tokens"], e["latency_ms"]) == (5, 2, 1500.0)


def test_langsmith_run_tree_with_nested_child_runs(tmp_path):
    def llm(rid, start, end, usage, tool=None):
        message = {"kwargs": {"content": "" if tool else "21",
                              **({"tool_calls": [{"name": tool, "args": {}, "id": "t"}]} if tool else {})}}
        return {"id": rid, "name": "ChatOpenAI", "run_type": "llm", "start_time": start, "end_time": end,
                "inputs": {"messages": [[{"type": "human", "content": "3 * 7?"}]]},
                "outputs": {"generations": [[{"text": message["kwargs"]["content"], "message": message}]],
                            "llm_output": {"token_usage": usage, "model_name": "gpt-4o-mini"}},
                "extra": {"metadata": {"ls_provider": "openai"}}, "child_runs": []}
    tree = {"id": "r1", "name": "AgentExecutor", "run_type": "chain", "trace_id": "r1",
            "start_time": "2025-02-01T12:00:00", "end_time": "2025-02-01T12:00:04", "inputs": {"input": "3 * 7?"},
            "outputs": {"output": "21"}, "child_run_ids": ["r2", "r3", "r4"], "child_runs": [
                llm("r2", "2025-02-01T12:00:00.1", "2025-02-01T12:00:01", {"prompt_tokens": 70, "completion_tokens": 15},
                    tool="multiply"),
                {"id": "r3", "name": "multiply", "run_type": "tool", "start_time": "2025-02-01T12:00:01.1",
                 "end_time": "2025-02-01T12:00:01.2", "inputs": {"input": "3, 7"}, "outputs": {"output": "21"},
                 "child_runs": []},
                llm("r4", "2025-02-01T12:00:01.3", "2025-02-01T12:00:03.9", {"prompt_tokens": 100,
                                                                              "completion_tokens": 3})]}
    e = one(write(tmp_path / "run.json", tree))
    assert (e["model"], e["prompt_tokens"], e["completion_tokens"]) == ("gpt-4o-mini", 170, 18)
    assert (e["input"], e["output"], e["tool_calls"]) == ("3 * 7?", "21", ["multiply"])
    assert (e["latency_ms"], json.loads(e["attributes"])["vendor_detail"]["span_count"]) == (4000.0, 4)


def test_langsmith_usage_on_the_ai_message_and_first_token_time(tmp_path):
    root = {"id": "a1", "name": "rag", "run_type": "chain", "trace_id": "a1", "start_time": "2025-03-01T00:00:00Z",
            "end_time": "2025-03-01T00:00:02Z", "dotted_order": "20250301T000000000000Za1",
            "inputs": {"question": "Capital of Peru?"}, "outputs": {"answer": "Lima"}}
    llm = {"id": "a2", "name": "ChatAnthropic", "run_type": "llm", "trace_id": "a1", "parent_run_id": "a1",
           "start_time": "2025-03-01T00:00:00.5Z", "end_time": "2025-03-01T00:00:01.9Z",
           "dotted_order": "20250301T000000000000Za1.20250301T000000500000Za2",
           "outputs": {"generations": [[{"text": "Lima", "message": {"lc": 1, "type": "constructor", "kwargs": {
               "content": "Lima", "usage_metadata": {"input_tokens": 14, "output_tokens": 2, "total_tokens": 16}}}}]],
               "llm_output": {"model": "claude-3-5-haiku-20241022", "usage": {"input_tokens": 14, "output_tokens": 2}}},
           "first_token_time": "2025-03-01T00:00:00.8Z"}
    e = one(write(tmp_path / "runs.jsonl", [llm, root], jsonl=True))
    assert (e["model"], e["prompt_tokens"], e["completion_tokens"]) == ("claude-3-5-haiku-20241022", 14, 2)
    assert (e["input"], e["output"], e["ttft_ms"]) == ("Capital of Peru?", "Lima", 800.0)


def test_datadog_apm_langchain_over_openai_counted_once_with_nested_message_tags(tmp_path):
    a = 1738400000000000000
    trace = [[
        {"name": "langchain.request", "service": "chat-svc", "resource": "ChatOpenAI", "trace_id": 123, "span_id": 1,
         "parent_id": 0, "error": 0, "start": a, "duration": 2_000_000_000,
         "meta": {"component": "langchain", "langchain.request.model": "gpt-4o",
                  "langchain.request.messages.0.0.content": "Translate hello to French",
                  "langchain.request.messages.0.0.message_type": "HumanMessage",
                  "langchain.response.completions.0.0.content": "Bonjour"},
         "metrics": {"langchain.tokens.prompt_tokens": 20, "langchain.tokens.completion_tokens": 3}},
        {"name": "openai.request", "service": "chat-svc", "resource": "createChatCompletion", "trace_id": 123,
         "span_id": 2, "parent_id": 1, "error": 0, "start": a + 100_000_000, "duration": 1_800_000_000,
         "meta": {"component": "openai", "openai.request.model": "gpt-4o",
                  "openai.response.choices.0.message.content": "Bonjour"},
         "metrics": {"openai.response.usage.prompt_tokens": 20, "openai.response.usage.completion_tokens": 3}}]]
    e = one(write(tmp_path / "apm.json", trace))
    assert (e["model"], e["prompt_tokens"], e["completion_tokens"], e["latency_ms"]) == ("gpt-4o", 20, 3, 2000.0)
    assert json.loads(e["input"]) == [{"content": "Translate hello to French", "message_type": "HumanMessage"}]
    assert e["output"] == "Bonjour"


def test_vercel_stream_text_over_two_files_children_first_time_to_first_chunk(tmp_path):
    def vs(sid, parent, op, start, end, attrs):
        return {"name": op, "spanContext": {"traceId": "d4c3", "spanId": sid},
                "parentSpanContext": {"traceId": "d4c3", "spanId": parent} if parent else None,
                "startTime": start, "endTime": end, "status": {"code": 0}, "events": [],
                "attributes": {"operation.name": op, "ai.operationId": op, "ai.model.id": "gpt-4o-mini",
                               "ai.model.provider": "openai.chat", "ai.usage.promptTokens": 9,
                               "ai.usage.completionTokens": 3, "ai.response.text": "Hi there!", **attrs}}
    drop = tmp_path / "drop"
    write(drop / "1.jsonl", [vs("b2", "b1", "ai.streamText.doStream", [1738500000, 100000000], [1738500002, 0],
                                {"ai.response.msToFirstChunk": 412.5})], jsonl=True)
    write(drop / "2.jsonl", [vs("b1", None, "ai.streamText", [1738500000, 0], [1738500002, 50000000],
                                {"ai.prompt": json.dumps({"prompt": "Say hi"})})], jsonl=True)
    e = one(drop)
    assert (e["prompt_tokens"], e["completion_tokens"], e["input"], e["output"]) == (9, 3, "Say hi", "Hi there!")
    assert (e["latency_ms"], e["ttft_ms"]) == (2050.0, 512.5)


def test_datadog_llm_obs_time_to_first_token_metric(tmp_path):
    a = 1738400000000000000
    payload = {"data": {"type": "span", "attributes": {"ml_app": "shop", "spans": [
        {"trace_id": "67a0", "span_id": "100", "parent_id": "undefined", "name": "handle", "start_ns": a,
         "duration": 3_000_000_000, "status": "ok", "meta": {"kind": "workflow", "input": {"value": "In stock?"},
                                                             "output": {"value": "Yes."}}, "metrics": {}},
        {"trace_id": "67a0", "span_id": "101", "parent_id": "100", "name": "llm", "start_ns": a + 10_000_000,
         "duration": 900_000_000, "status": "ok", "meta": {"kind": "llm", "model_name": "gpt-4o-mini"},
         "metrics": {"input_tokens": 64, "output_tokens": 18, "time_to_first_token": 0.21}}]}}}
    e = one(write(tmp_path / "llmobs.json", payload))
    assert (e["prompt_tokens"], e["completion_tokens"], e["ttft_ms"]) == (64, 18, 220.0)
