"""Vendor adapters on genuine samples: detection, one entry per trace/request, exact values; plus hostile input."""
import json
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path

import pytest

from pipeline.core.ingest.mapping import FieldSource, Mapping
from pipeline.core.ingest.normalize import connect, normalize_records
from pipeline.core.ingest.readers.json_doc import read_json_document
from pipeline.core.ingest.readers.jsonl import read_jsonl
from pipeline.core.ingest.records import records_from_dicts
from pipeline.core.ingest.vendors import ADAPTERS, VendorAdapter, detect_vendor, expand_records

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "vendors"
CON = connect()


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def read_fixture(name: str) -> list[tuple[int, dict]]:
    """Records as the readers produce them (arrays split into elements, JSONL into lines)."""
    data = (FIXTURES / name).read_bytes()
    parsed = read_jsonl(data, name) if name.endswith(".jsonl") else read_json_document(data, name)
    assert parsed.rejects == []
    lines = parsed.records.column("line").to_pylist()
    return list(zip(lines, (json.loads(r) for r in parsed.records.column("raw").to_pylist())))


def run(records: list[tuple[int, dict]], adapter: VendorAdapter | None = None):
    """What ingestion does: detect on the records, expand, then map in DuckDB."""
    adapter = adapter or detect_vendor([r for _, r in records])
    assert adapter is not None
    table = records_from_dicts("src", expand_records(adapter, records))
    norm = normalize_records(table, adapter.mapping, "d", CON)
    return adapter, norm.entries.to_pylist(), norm.rejects


@lru_cache(maxsize=None)
def run_fixture(name: str):
    return run(read_fixture(name))


def entries_of(name: str) -> list[dict]:
    _, entries, rejects = run_fixture(name)
    assert rejects == []
    return entries


def attrs(entry: dict) -> dict:
    return json.loads(entry["attributes"])


# ---- detection: every fixture picks exactly its vendor, and no other adapter reaches 0.5

EXPECTED = {
    "openai_chat_completion.spec_example_default.json": ("openai", 1),
    "openai_chat_completion.spec_example_tool_calls.json": ("openai", 1),
    "openai_responses_api.spec_example_functions.json": ("openai", 1),
    "openai_responses_api.spec_example_text_input.json": ("openai", 1),
    "openai_batch_output.spec_example.jsonl": ("openai", 1),
    "openai_batch_output.litellm_test_fixture.jsonl": ("openai", 2),
    "openai_batch_input.spec_example.jsonl": ("openai", 1),
    "openai_recorded_openllmetry_cassette_test_chat.decoded.json": ("openai", 4),
    "openai_recorded_openllmetry_cassette_test_chat_reasoning.decoded.json": ("openai", 3),
    "openai_recorded_openllmetry_cassette_test_chat_tool_calls.decoded.json": ("openai", 3),
    "langsmith_py_wrap_openai_default.json": ("langsmith", 1),
    "langsmith_py_wrap_openai_reasoning.json": ("langsmith", 1),
    "langsmith_py_wrap_openai_stream.json": ("langsmith", 1),
    "langsmith_js_wrap_openai_default.json": ("langsmith", 1),
    "langfuse_agno-2025-06-11.json": ("langfuse", 1),
    "langfuse_autogen-2025-06-06.json": ("langfuse", 1),
    "langfuse_google-vertex-tools-langchain-2025-09-19.json": ("langfuse", 1),
    "langfuse_koog-2025-08-26.json": ("langfuse", 1),
    "langfuse_langgraph-2025-08-22.json": ("langfuse", 1),
    "langfuse_microsoft-agent-2025-10-14.json": ("langfuse", 1),
    "langfuse_openai-agents-2025-09-30.json": ("langfuse", 1),
    "langfuse_openai-assistants-2024-05-29.json": ("langfuse", 1),
    "langfuse_pydantic-ai-tools-2025-12-04.json": ("langfuse", 1),
    "otel_example_spans_simple_chat.transcribed.json": ("otel_genai", 2),
    "otel_otlp_tool_calls.constructed.json": ("otel_genai", 2),
    "helicone_custom_log_request.docs_example_basic.json": ("helicone", 1),
    "helicone_custom_log_request.docs_example_ttft_streaming.json": ("helicone", 1),
    "weave_calls_stream_query_result.docs_example.json": ("weave", 1),
    "weave_call_start_end_payloads.docs_example.json": ("weave", 0),  # placeholder timestamps: rejected, see below
    "datadog_llmobs_spans_api_request.docs_example.json": ("datadog", 1),
    "mlflow_trace_tool_calls.constructed.json": ("mlflow", 1),
    "mlflow_trace_error.constructed.json": ("mlflow", 1),
}


def test_every_fixture_is_covered():
    on_disk = {p.name for p in FIXTURES.iterdir() if p.suffix in (".json", ".jsonl")}
    assert on_disk == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_detection_and_entry_count(name):
    vendor, count = EXPECTED[name]
    records = read_fixture(name)
    sample = [r for _, r in records]
    scores = {a.name: sum(a.detect(r) for r in sample) / len(sample) for a in ADAPTERS}
    assert detect_vendor(sample).name == vendor
    assert [n for n, s in scores.items() if s >= 0.5] == [vendor], scores
    _, entries, _ = run_fixture(name)
    assert len(entries) == count


def test_adapter_names_and_openai_is_a_pure_mapping():
    assert [a.name for a in ADAPTERS] == ["http_exchange", "openai", "langsmith", "langfuse", "otel_genai", "helicone",
                                          "weave", "mlflow", "datadog", "datadog_apm", "litellm", "langfuse_batch",
                                          "sharegpt", "anthropic_batch", "bedrock_logs"]
    assert next(a for a in ADAPTERS if a.name == "openai").expand is None  # Batch files are huge: DuckDB only


# ---- OpenAI


def test_openai_chat_completion():
    [e] = entries_of("openai_chat_completion.spec_example_default.json")
    assert (e["model"], e["provider"], e["prompt_tokens"], e["completion_tokens"]) == ("gpt-5.4", "openai", 19, 10)
    assert e["ts"] == utc(2025, 3, 10, 1, 25, 52)
    assert e["request_id"] == "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT"
    assert (e["output"], e["output_kind"], e["status"], e["tool_calls"]) == ("Hello! How can I assist you today?", "text", "ok", [])
    assert attrs(e)["service_tier"] == "default"


def test_openai_tool_call_answer():
    [e] = entries_of("openai_chat_completion.spec_example_tool_calls.json")
    assert e["tool_calls"] == ["get_current_weather"]
    assert (e["prompt_tokens"], e["completion_tokens"]) == (82, 17)
    assert e["output_kind"] == "json" and json.loads(e["output"])[0]["function"]["name"] == "get_current_weather"


def test_openai_responses_api():
    [fn] = entries_of("openai_responses_api.spec_example_functions.json")
    assert fn["tool_calls"] == ["get_current_weather"]
    assert (fn["prompt_tokens"], fn["completion_tokens"], fn["latency_ms"]) == (291, 23, 1000.0)
    assert fn["ts"] == utc(2025, 3, 6, 20, 47, 1)
    [text] = entries_of("openai_responses_api.spec_example_text_input.json")
    assert text["output"].startswith("In a peaceful grove beneath a silver moon")
    assert (text["model"], text["prompt_tokens"], text["completion_tokens"], text["status"]) == ("gpt-5.4", 36, 87, "ok")


def test_openai_batch_output_lines():
    [spec] = entries_of("openai_batch_output.spec_example.jsonl")
    assert (spec["request_id"], spec["model"], spec["output"]) == ("req_c187b3", "gpt-4o-mini", "2 + 2 equals 4.")
    assert (spec["prompt_tokens"], spec["completion_tokens"], spec["ts"]) == (24, 15, utc(2024, 3, 26, 17, 44, 14))
    lines = entries_of("openai_batch_output.litellm_test_fixture.jsonl")
    assert [e["line"] for e in lines] == [1, 2]
    assert [e["prompt_tokens"] for e in lines] == [20, 22]
    assert [e["output"] for e in lines] == ["Hello! How can I assist you today?", "Hello! What can I do for you today?"]
    assert {e["model"] for e in lines} == {"gpt-4o-mini-2024-07-18"}
    assert attrs(lines[0])["custom_id"] == "request-1"


def test_openai_batch_input_line():
    [e] = entries_of("openai_batch_input.spec_example.jsonl")
    assert (e["model"], e["output"], attrs(e)["custom_id"]) == ("gpt-4o-mini", None, "request-1")
    assert json.loads(e["input"])[1] == {"role": "user", "content": "What is 2+2?"}


def test_openai_recorded_cassettes():
    chat = entries_of("openai_recorded_openllmetry_cassette_test_chat.decoded.json")
    assert [e["completion_tokens"] for e in chat] == [19, 31, 22, 19]  # natural drift, per the sample's README
    assert [e["latency_ms"] for e in chat] == [495.0, 762.0, 508.0, 412.0]  # openai-processing-ms header
    assert {e["input"] for e in chat} == {'[{"role":"user","content":"Tell me a joke about opentelemetry"}]'}
    assert chat[0]["ts"] == utc(2024, 3, 7, 13, 45, 53)
    assert chat[0]["request_id"] == "req_8baa0616e963c7e2d6cc1530b70dc316"
    assert {e["model"] for e in chat} == {"gpt-3.5-turbo-0125"}
    reasoning = entries_of("openai_recorded_openllmetry_cassette_test_chat_reasoning.decoded.json")
    assert [e["completion_tokens"] for e in reasoning] == [228, 202, 138]
    assert {e["model"] for e in reasoning} == {"gpt-5-nano-2025-08-07"}
    tools = entries_of("openai_recorded_openllmetry_cassette_test_chat_tool_calls.decoded.json")
    assert [(e["prompt_tokens"], e["completion_tokens"]) for e in tools] == [(40, 12), (40, 13), (40, 13)]
    assert [e["tool_calls"] for e in tools] == [[], [], []]  # the tool call is in the request history, not the answer
    assert tools[0]["output"] == "The weather in San Francisco is 70 degrees and sunny."


# ---- LangSmith


def test_langsmith_python_post_patch_merged():
    [e] = entries_of("langsmith_py_wrap_openai_default.json")
    assert e["trace_id"] == e["request_id"] == "d0d84d31-923d-4cb5-94a8-40a0a0087578"
    assert e["ts"] == utc(2024, 10, 11, 20, 58, 23, 298773)
    assert e["latency_ms"] == pytest.approx(1118.333)
    assert (e["model"], e["provider"], e["prompt_tokens"], e["completion_tokens"]) == ("gpt-4o-mini-2024-07-18", "openai", 9, 9)
    assert e["input"] == '[{"role":"user","content":"howdy"}]'
    assert e["output"] == "Howdy! How can I assist you today?"
    assert (e["version"], e["service"], e["status"]) == ("v0.1.82-381-g03d9e1a-dirty", "default", "ok")
    assert attrs(e)["vendor_detail"]["calls"][0]["system_fingerprint"] == "fp_e2bde53e6e"


def test_langsmith_js_patch_without_id_and_epoch_ms_times():
    [e] = entries_of("langsmith_js_wrap_openai_default.json")
    assert e["ts"] == utc(2024, 10, 13, 7, 5, 37, 170000)
    assert e["latency_ms"] == 1115.0
    assert (e["output"], e["prompt_tokens"], e["completion_tokens"]) == ("Howdy! How can I assist you today?", 9, 9)
    assert attrs(e)["vendor_detail"]["run_count"] == 1


def test_langsmith_stream_and_reasoning():
    [stream] = entries_of("langsmith_py_wrap_openai_stream.json")
    assert stream["latency_ms"] == pytest.approx(1328.441)
    assert attrs(stream)["vendor_detail"]["time_to_first_token_ms"] == pytest.approx(1238.419)
    [reasoning] = entries_of("langsmith_py_wrap_openai_reasoning.json")
    assert (reasoning["model"], reasoning["prompt_tokens"], reasoning["completion_tokens"]) == ("o1-mini-2024-09-12", 43, 2497)
    assert reasoning["latency_ms"] == pytest.approx(15138.093)
    assert reasoning["output"].startswith("Certainly! Below is a **Bash script**")


def test_langsmith_runs_of_one_trace_collapse_to_one_entry():
    root = {"id": "r", "trace_id": "r", "run_type": "chain", "name": "agent", "start_time": "2024-01-01T00:00:00Z",
            "end_time": "2024-01-01T00:00:03Z", "inputs": {"question": "weather?"}, "outputs": {"output": "sunny"}}
    llm = {"id": "c1", "trace_id": "r", "parent_run_id": "r", "run_type": "llm", "start_time": "2024-01-01T00:00:01Z",
           "end_time": "2024-01-01T00:00:02Z", "outputs": {"usage_metadata": {"input_tokens": 5, "output_tokens": 2},
                                                            "model": "gpt-4o"}, "extra": {"metadata": {"thread_id": "th1"}}}
    tool = {"id": "t1", "trace_id": "r", "parent_run_id": "r", "run_type": "tool", "name": "get_weather",
            "start_time": "2024-01-01T00:00:02.5Z", "error": "HTTP 503"}
    _, [e], _ = run([(1, {"post": [root, llm, tool], "patch": []})])
    assert (e["input"], e["output"], e["latency_ms"], e["model"]) == ("weather?", "sunny", 3000.0, "gpt-4o")
    assert (e["prompt_tokens"], e["completion_tokens"], e["session_id"]) == (5, 2, "th1")
    assert (e["tool_calls"], e["status"], e["error"]) == (["get_weather"], "error", "HTTP 503")


# ---- Langfuse


def test_langfuse_agno_wrapper_generation_not_double_counted():
    [e] = entries_of("langfuse_agno-2025-06-11.json")
    # OpenAIChat.invoke generations wrap the real "chat gpt-4o-mini" calls: only the inner calls count
    assert (e["prompt_tokens"], e["completion_tokens"]) == (663 + 163, 225 + 20)
    assert e["cost_usd"] == pytest.approx(0.000234449999 + 3.645e-05)
    assert e["latency_ms"] == 6991.0  # trace.latency is in seconds
    assert e["ts"] == utc(2025, 6, 11, 14, 1, 32, 598000)
    assert (e["session_id"], e["model"], e["tool_calls"]) == ("35cc6c90-b657-4819-b66c-c931c03ad569", "gpt-4o-mini",
                                                              ["duckduckgo_search"])
    assert e["output"].startswith("To find out what's currently trending on Twitter")  # decoded from a JSON string
    assert attrs(e)["vendor_detail"]["llm_calls"] == 2


def test_langfuse_autogen_trace_level_fields():
    [e] = entries_of("langfuse_autogen-2025-06-06.json")
    assert (e["input"], e["output"]) == ("Say 'Hello World!'", "Hello World!")
    assert (e["session_id"], e["user_id"], e["version"], e["environment"]) == ("session_abc", "user_123", "1.0.0", "default")
    assert (e["model"], e["prompt_tokens"], e["completion_tokens"], e["latency_ms"]) == ("gpt-4o", 41, 3, 645.0)
    assert e["cost_usd"] == pytest.approx(2.5e-05)
    assert e["trace_id"] == "1b72c51fabed12ae7df83bfd4a09f545"


def test_langfuse_agent_span_repeating_usage_is_ignored():
    [e] = entries_of("langfuse_microsoft-agent-2025-10-14.json")
    assert (e["prompt_tokens"], e["completion_tokens"]) == (631 + 25, 35 + 70)  # not + the AGENT's 631/35 again
    assert e["cost_usd"] == pytest.approx(0.0019275 + 0.000762499999)
    assert (e["tool_calls"], e["service"], e["latency_ms"]) == (["get_weather"], "agent_framework", 12447.0)
    assert e["session_id"] == "thread_G78qCSLpzn0YQwFwrvK5OivI"  # gen_ai.conversation.id in the raw OTel attributes


def test_langfuse_older_export_shape():
    [e] = entries_of("langfuse_google-vertex-tools-langchain-2025-09-19.json")
    assert e["latency_ms"] == 1874.0  # no trace latency; observation latency 1.874 is seconds here: from start/end
    assert (e["prompt_tokens"], e["completion_tokens"], e["cost_usd"]) == (1200, 15, 0.00011)  # inputUsage, totalCost
    assert (e["model"], e["provider"], e["service"]) == ("gemini-2.5-flash", "google_vertexai", "test_service")
    assert e["session_id"] == "test-conversation-001"
    assert e["output"] == "Thank you, John Smith. Which of our services are you interested in?"


def test_langfuse_tools_found_by_attributes_and_conventions():
    [koog] = entries_of("langfuse_koog-2025-08-26.json")
    assert koog["tool_calls"] == ["ByeTool", "HelloTool"]  # SPANs carrying gen_ai.tool.name
    assert (koog["prompt_tokens"], koog["completion_tokens"]) == (47 + 168, 106 + 19)
    assert (koog["service"], koog["version"]) == ("ai.koog", "0.3.0")
    assert json.loads(koog["output"]) == [{"content": "Hello my darling Bob! And, bye my dear Bob!", "role": "assistant"}]
    [graph] = entries_of("langfuse_langgraph-2025-08-22.json")
    assert graph["tool_calls"] == ["Web-Search"]  # a child of LangGraph's "tools" node
    assert (graph["session_id"], graph["prompt_tokens"], graph["completion_tokens"]) == ("demo-thread-1", 168, 66)
    [pyd] = entries_of("langfuse_pydantic-ai-tools-2025-12-04.json")
    assert pyd["tool_calls"] == ["get_pun_suggestion", "get_dad_joke_suggestion", "get_one_liner_suggestion"]
    assert (pyd["prompt_tokens"], pyd["completion_tokens"]) == (265 + 417 + 502 + 131, 73 + 53 + 14 + 69)
    assert pyd["output"] == "Why do programmers hate nature?  \nIt has too many bugs!"


def test_langfuse_null_trace_io_falls_back_to_llm_calls():
    [e] = entries_of("langfuse_openai-agents-2025-09-30.json")
    assert json.loads(e["input"]) == [{"content": "What's the weather in Tokyo?", "role": "user"}]
    assert e["output"].startswith("The weather in Tokyo is currently sunny.")  # text of the last Responses object
    assert (e["prompt_tokens"], e["completion_tokens"], e["tool_calls"]) == (140, 44, ["get_weather"])
    assert attrs(e)["vendor_detail"]["scores"] == {"toxicity": 0.8, "hallucination": 0}


def test_langfuse_several_roots_and_open_generation():
    [e] = entries_of("langfuse_openai-assistants-2024-05-29.json")
    assert (e["latency_ms"], e["model"], e["prompt_tokens"], e["completion_tokens"]) == (9236.0, "gpt-4", 49, 40)
    assert e["output"].startswith("Sure, first subtract 11 from both sides")
    assert json.loads(e["input"])["args"] == ["I need to solve the equation `3x + 11 = 14`. Can you help me?"]


# ---- OTel GenAI


def test_otel_flat_semconv_spans():
    plain, content = entries_of("otel_example_spans_simple_chat.transcribed.json")
    for e in (plain, content):
        assert (e["model"], e["provider"], e["prompt_tokens"], e["completion_tokens"]) == ("gpt-4-0613", "openai", 52, 47)
        assert (e["trace_id"], e["status"], e["ts"], e["latency_ms"]) == ("4bf92f3577b34da6a3ce929d0e0e4736", "ok", None, None)
    assert plain["input"] is None and plain["output"] is None  # content capturing disabled
    assert json.loads(content["input"])[1]["parts"][0]["content"] == "Tell me a joke about OpenTelemetry"
    assert json.loads(content["output"])[0]["finish_reason"] == "stop"
    assert attrs(plain)["vendor_detail"]["calls"][0]["gen_ai.response.finish_reasons"] == ["stop"]


def test_otel_otlp_document_grouped_by_trace():
    ok, failed = entries_of("otel_otlp_tool_calls.constructed.json")
    assert ok["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert (ok["prompt_tokens"], ok["completion_tokens"]) == (47 + 97, 17 + 52)
    assert (ok["tool_calls"], ok["model"], ok["latency_ms"]) == (["get_weather"], "gpt-4-0613", 2400.0)
    assert (ok["service"], ok["environment"], ok["ts"]) == ("weather-app", "staging", utc(2025, 5, 6, 10, 15, 30))
    assert (failed["status"], failed["error"], failed["latency_ms"]) == ("error", "Request timed out", 30000.0)
    assert failed["model"] == "gpt-4"


# ---- Helicone, Weave, Datadog, MLflow


def test_helicone_custom_logs():
    [basic] = entries_of("helicone_custom_log_request.docs_example_basic.json")
    assert basic["ts"] == utc(2023, 3, 2, 1, 49, 8, 123000)
    assert basic["latency_ms"] == 1333.0  # {seconds, milliseconds} pairs
    assert (basic["model"], basic["prompt_tokens"], basic["completion_tokens"]) == ("my-custom-model", 10, 8)
    assert (basic["output"], basic["request_id"], basic["status"]) == ("Hello! How can I assist you today?", "response-123", "ok")
    assert basic["input"] == '[{"role":"user","content":"Hello, world!"}]'
    [stream] = entries_of("helicone_custom_log_request.docs_example_ttft_streaming.json")
    assert stream["output"].startswith("Once upon a time, there was a robot named Rusty")
    assert (stream["model"], stream["prompt_tokens"]) == ("my-streaming-model", None)
    assert attrs(stream)["timing"]["timeToFirstToken"] == 150


def test_weave_call_record():
    [e] = entries_of("weave_calls_stream_query_result.docs_example.json")
    assert e["ts"] == utc(2024, 12, 6, 17, 10, 12, 590000)
    assert (e["latency_ms"], e["model"], e["prompt_tokens"], e["completion_tokens"]) == (2215963.0, "gpt-4o", 10, 20)
    assert (e["user_id"], e["service"], e["status"]) == ("VXNlcjoyMDk5Njc0", "cool-new-team/uncategorized", "ok")
    assert e["trace_id"] == "01939cf3-541f-76d3-ade3-50d5cfabe2db"
    assert e["output"].startswith("It’s due to Rayleigh scattering")
    assert attrs(e)["vendor_detail"]["root_span"] == "simple_trace"


def test_weave_placeholder_payloads_are_rejected_not_crashing():
    _, entries, rejects = run_fixture("weave_call_start_end_payloads.docs_example.json")
    assert entries == [] and len(rejects) == 1
    assert "field ts ($.ts)" in rejects[0].reason


def test_datadog_span_tree():
    [e] = entries_of("datadog_llmobs_spans_api_request.docs_example.json")
    assert e["ts"] == utc(2024, 4, 23, 16, 23, 9, 104152)  # start_ns
    assert e["latency_ms"] == 10000.0  # root duration, ns
    assert (e["session_id"], e["user_id"], e["service"], e["environment"]) == ("1", "1234", "weather-bot", "staging")
    assert e["input"] == "What is the weather like today and do i wear a jacket?"
    assert e["output"] == "It's very hot and sunny, there is no need for a jacket"
    assert (e["status"], e["trace_id"], e["model"], e["prompt_tokens"]) == ("ok", "<TEST_TRACE_ID>", None, None)
    assert attrs(e)["vendor_detail"]["span_count"] == 3


def test_mlflow_traces():
    [e] = entries_of("mlflow_trace_tool_calls.constructed.json")
    assert e["trace_id"] == "tr-7f3a0c5e1b2d4e6f8a9b0c1d2e3f4a5b"
    assert (e["ts"], e["latency_ms"]) == (utc(2025, 5, 6, 10, 15, 30, 250000), 2150.0)
    assert (e["prompt_tokens"], e["completion_tokens"]) == (47 + 97, 17 + 52)
    assert (e["model"], e["tool_calls"], e["status"]) == ("gpt-4o-mini-2024-07-18", ["get_weather"], "ok")
    assert (e["session_id"], e["user_id"], e["version"]) == ("session-7", "user-3", "m-0a1b2c3d")
    assert json.loads(e["input"]) == {"question": "What's the weather in Paris?"}
    assert e["output"] == "It is rainy and 57°F in Paris."
    [err] = entries_of("mlflow_trace_error.constructed.json")
    assert (err["status"], err["error"]) == ("error", "ConnectionError: weather service unreachable")
    assert (err["prompt_tokens"], err["completion_tokens"], err["latency_ms"]) == (47, 17, 700.0)


# ---- generic logs are nobody's


@pytest.mark.parametrize(
    "sample",
    [
        [{"timestamp": "2024-05-01T10:00:00Z", "prompt": "hi", "response": "hello", "latency_ms": 120}] * 3,
        [{"input": "what is 2+2", "output": "4"}],
        [{"ts": 1714557600, "model": "gpt-4o", "messages": [{"role": "user", "content": "x"}], "usage": {"prompt_tokens": 3}}],
        [{"level": "info", "msg": "request done", "trace_id": "abc", "span_id": "def", "duration_ms": 5}],
        [{"data": [{"id": 1}, {"id": 2}]}],
        [],
    ],
)
def test_generic_logs_detect_as_none(sample):
    assert detect_vendor(sample) is None


def test_a_few_vendor_lines_in_a_generic_log_do_not_win():
    chat = json.loads((FIXTURES / "openai_chat_completion.spec_example_default.json").read_text())
    generic = {"timestamp": "2024-05-01T10:00:00Z", "prompt": "hi", "response": "hello"}
    assert detect_vendor([chat] + [generic] * 3) is None


# ---- hostile vendor-shaped records: map with nulls or are rejected cleanly, never raise


def adapter_named(name: str) -> VendorAdapter:
    return next(a for a in ADAPTERS if a.name == name)


def test_openai_wrong_types_and_nulls():
    records = [
        (1, {"object": "chat.completion", "choices": None, "usage": {"prompt_tokens": "12", "completion_tokens": None}}),
        (2, {"object": "chat.completion", "choices": [], "usage": {"prompt_tokens": "lots"}}),
        (3, {"id": "batch_req_1", "custom_id": "request-3", "response": None,
             "error": {"code": "batch_expired", "message": "This request could not be executed before the completion window expired."}}),
        (4, {"id": "batch_req_2", "custom_id": "request-4", "error": None,
             "response": {"status_code": 400, "request_id": "req_x", "body": {"error": {"message": "Invalid model"}}}}),
        (5, {"object": "chat.completion", "model": ["not", "a", "string"], "created": "yesterday"}),
    ]
    _, entries, rejects = run(records, adapter_named("openai"))
    by_line = {e["line"]: e for e in entries}
    assert (by_line[1]["prompt_tokens"], by_line[1]["output"]) == (12, None)
    assert by_line[3]["error"].startswith("This request could not be executed")
    assert by_line[3]["status"] == "error"  # any error code makes an error (its words vary: batch_expired...)
    assert (by_line[4]["status"], by_line[4]["error"]) == ("error", "Invalid model")
    assert sorted(r.line for r in rejects) == [2, 5]
    assert any("prompt_tokens" in r.reason for r in rejects if r.line == 2)


@pytest.mark.parametrize(
    "name,record",
    [
        ("langfuse", {"trace": None, "observations": []}),
        ("langfuse", {"trace": {"id": "t1", "latency": "slow", "metadata": "{not json"}, "observations": "oops"}),
        ("langfuse", {"trace": {"id": "t1"}, "observations": [None, "x", {"type": "GENERATION", "usageDetails": {"input": "12"},
                                                                          "startTime": 5, "metadata": ["a"]}]}),
        ("langsmith", {"post": [], "patch": []}),
        ("langsmith", {"post": [{"id": "r1", "run_type": "llm", "start_time": "garbage", "outputs": None, "inputs": "q"}],
                       "patch": [None, 5, {"id": "r1", "outputs": {"choices": None}}]}),
        ("otel_genai", {"resourceSpans": []}),
        ("otel_genai", {"resourceSpans": [{"resource": None, "scopeSpans": [{"spans": [{"traceId": "t", "attributes": "bad",
                                                                                       "startTimeUnixNano": "NaN"}]}]}]}),
        ("datadog", {"data": {"type": "span", "attributes": {"spans": [{"trace_id": "x", "start_ns": "nan", "duration": "abc",
                                                                         "meta": None, "metrics": {"input_tokens": "5"}}]}}}),
        ("datadog", {"data": {"type": "span", "attributes": {"spans": None}}}),
        ("mlflow", {"info": {"trace_id": "tr-1"}, "data": {"spans": [None, {"attributes": "notadict", "status": "weird"}]}}),
        ("mlflow", {"info": None, "data": None}),
        ("weave", {"op_name": "x", "project_id": "p", "summary": {"usage": {"m": {"prompt_tokens": "ten"}, "n": None}}}),
        ("helicone", {"providerRequest": {"json": None}, "providerResponse": {"status": "500", "json": {"error": {"message": "boom"}}},
                      "timing": {"startTime": {"seconds": "x"}}}),
    ],
)
def test_hostile_records_map_with_nulls(name, record):
    adapter, entries, rejects = run([(1, record)], adapter_named(name))
    assert len(entries) + len(rejects) >= 1


def test_hostile_values_are_rejected_by_the_engine_with_the_field():
    _, entries, rejects = run([(1, {"info": {"trace_id": "tr-1", "execution_duration_ms": "slow"}, "data": {"spans": []}})],
                              adapter_named("mlflow"))
    assert entries == [] and "field latency_ms" in rejects[0].reason
    _, entries, _ = run([(1, {"providerRequest": {"json": None}, "providerResponse": {"status": "500", "json": {"error": {"message": "boom"}}}})],
                        adapter_named("helicone"))
    assert (entries[0]["status"], entries[0]["error"]) == ("error", "boom")


def test_expand_failure_keeps_the_record_and_non_objects_are_rejected():
    def explode(rec):
        raise KeyError("boom")

    adapter = VendorAdapter("x", lambda r: 1.0, Mapping({"input": [FieldSource("$.q")]}), explode)
    rows = expand_records(adapter, [(1, {"q": "kept"}), (2, ["not", "an", "object"])])
    assert rows[0] == (1, 0, {"q": "kept", "vendor_expand_error": "KeyError: 'boom'"})
    _, entries, rejects = run([(1, {"q": "kept"}), (2, ["not", "an", "object"])], adapter)
    assert [e["input"] for e in entries] == ["kept"]
    assert [(r.line, r.reason) for r in rejects] == [(2, "record is JSON but not an object")]


def test_expanded_entries_number_their_sub_index():
    doc = json.loads((FIXTURES / "otel_otlp_tool_calls.constructed.json").read_text())
    rows = expand_records(adapter_named("otel_genai"), [(7, doc)])
    assert [(line, sub) for line, sub, _ in rows] == [(7, 0), (7, 1)]


# ---- other shapes the adapters accept


def test_alternate_shapes():
    sdk_span = {"name": "chat gpt-4o", "context": {"trace_id": "0xabc", "span_id": "0x1"}, "parent_id": None,
                "start_time": "2024-06-01T12:00:00.000000Z", "end_time": "2024-06-01T12:00:01.500000Z",
                "status": {"status_code": "ERROR", "description": "rate limited"},
                "attributes": {"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o",
                               "gen_ai.usage.input_tokens": 10, "gen_ai.conversation.id": "conv-1"},
                "resource": {"attributes": {"service.name": "bot"}}}
    adapter, [e], _ = run([(1, sdk_span)])
    assert adapter.name == "otel_genai"
    assert (e["trace_id"], e["latency_ms"], e["status"], e["error"]) == ("0xabc", 1500.0, "error", "rate limited")
    assert (e["session_id"], e["service"], e["prompt_tokens"]) == ("conv-1", "bot", 10)

    trace_with_observations = {  # Langfuse GET /traces/{id}
        "id": "t-9", "projectId": "p", "timestamp": "2024-06-01T12:00:00Z", "latency": 2.5, "userId": "u-1",
        "observations": [{"id": "o1", "type": "GENERATION", "startTime": "2024-06-01T12:00:00.5Z",
                          "endTime": "2024-06-01T12:00:02Z", "model": "gpt-4o", "usageDetails": {"input": 7, "output": 3},
                          "level": "ERROR", "statusMessage": "content filter"}]}
    adapter, [e], _ = run([(1, trace_with_observations)])
    assert adapter.name == "langfuse"
    assert (e["trace_id"], e["latency_ms"], e["user_id"], e["prompt_tokens"]) == ("t-9", 2500.0, "u-1", 7)
    assert (e["status"], e["error"]) == ("error", "content filter")

    run_object = {"id": "r1", "trace_id": "r1", "run_type": "llm", "start_time": "2024-06-01T12:00:00Z",
                  "end_time": "2024-06-01T12:00:00.250Z", "inputs": {"prompt": "hi"}, "outputs": {"output": "hello"},
                  "prompt_tokens": 4, "completion_tokens": 1, "total_cost": 0.0001}
    adapter, [e], _ = run([(1, run_object)])
    assert adapter.name == "langsmith"
    assert (e["input"], e["output"], e["latency_ms"], e["cost_usd"]) == ("hi", "hello", 250.0, 0.0001)

    mlflow_v2 = {"info": {"request_id": "tr-2", "execution_time_ms": 42, "request_metadata": {"mlflow.trace.user": "u"}},
                 "data": {"spans": [], "request": '{"q": "x"}', "response": '"y"'}}
    adapter, [e], _ = run([(1, mlflow_v2)])
    assert adapter.name == "mlflow"
    assert (e["trace_id"], e["latency_ms"], e["user_id"], e["input"], e["output"]) == ("tr-2", 42.0, "u", '{"q":"x"}', "y")

    helicone_row = {"request_id": "h-1", "request_created_at": "2024-06-01T12:00:00Z", "delay_ms": 812,
                    "request_body": {"messages": [{"role": "user", "content": "hi"}]}, "response_model": "gpt-4o-mini",
                    "response_body": {"choices": [{"message": {"content": "hey"}}]}, "prompt_tokens": 5,
                    "completion_tokens": 2, "costUSD": 0.00001, "response_status": 200, "request_user_id": "u-2"}
    adapter, [e], _ = run([(1, helicone_row)])
    assert adapter.name == "helicone"
    assert (e["request_id"], e["latency_ms"], e["output"], e["user_id"], e["status"]) == ("h-1", 812.0, "hey", "u-2", "ok")


def test_out_of_range_epoch_in_a_pure_mapping_is_rejected_not_raised():
    _, entries, rejects = run([(1, {"object": "chat.completion", "created": 1e30})], adapter_named("openai"))
    assert entries == [] and "field ts" in rejects[0].reason


def test_openai_content_filter_stop_is_an_error_in_completions_and_batch_lines(tmp_path):
    """The pure OpenAI mapping: a completion stopped by the content filter answered HTTP 200 but withheld the answer."""
    import json as _json

    from pipeline.core.ingest.engine import ingest as _ingest

    def completion(i, reason, content):
        return {"id": f"chatcmpl-{i}", "object": "chat.completion", "created": 1733000000 + i, "model": "gpt-4o",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": reason}],
                "usage": {"prompt_tokens": 5, "completion_tokens": 1}}

    recs = [completion(1, "content_filter", None), completion(2, "stop", "hi"), completion(3, "length", "cut"),
            {"id": "batch_req_1", "custom_id": "r1", "error": None,
             "response": {"status_code": 200, "request_id": "x", "body": completion(4, "content_filter", "")}},
            {"id": "resp_5", "object": "response", "created_at": 1733000005, "model": "gpt-4o", "status": "incomplete",
             "incomplete_details": {"reason": "content_filter"}, "output": [],
             "usage": {"input_tokens": 7, "output_tokens": 0}}]
    path = tmp_path / "openai.jsonl"
    path.write_text("".join(_json.dumps(r) + "\n" for r in recs))
    table, result = _ingest(str(path))
    assert result.sources[0].vendor == "openai"
    got = [(r["status"], r["error"]) for r in table.to_pylist()]
    assert got == [("error", "blocked: content_filter"), ("ok", None), ("ok", None),
                   ("error", "blocked: content_filter"), ("error", "blocked: content_filter")]
