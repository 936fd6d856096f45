"""Provider payloads, recorded exchanges, datasets and spreadsheet exports probed for generalization (shapes of
genuine SDK cassettes, docs and exports, written with our own values), each checked against hand-read values."""
import csv
import io
import json

import yaml

from pipeline.core.ingest.engine import ingest


def exchange(uri, req, resp, code=200, headers=None):
    return {"request": {"method": "POST", "uri": uri, "body": json.dumps(req)},
            "response": {"status": {"code": code, "message": "OK"}, "headers": headers or {},
                         "body": {"string": resp if isinstance(resp, str) else json.dumps(resp)}}}


def entries(tmp_path, doc, name="x.json"):
    p = tmp_path / name
    if isinstance(doc, (bytes, str)):
        p.write_bytes(doc if isinstance(doc, bytes) else doc.encode())
    elif name.endswith(".yaml"):
        p.write_text(yaml.dump(doc))
    elif name.endswith(".jsonl"):
        p.write_text("".join(json.dumps(d) + "\n" for d in doc))
    else:
        p.write_text(json.dumps(doc))
    t, r = ingest(str(p))
    return t.to_pylist(), r


def invocation_log(rid, model, operation, body_in, body_out, tokens_in, tokens_out=None, **extra):
    out = {"outputContentType": "application/json", "outputBodyJson": body_out}
    if tokens_out is not None:
        out["outputTokenCount"] = tokens_out
    return {"schemaType": "ModelInvocationLog", "schemaVersion": "1.0", "timestamp": "2025-03-11T00:38:02Z",
            "accountId": "1", "identity": {"arn": "arn:aws:iam::1:user/dev"}, "region": "us-east-1",
            "requestId": rid, "operation": operation, "modelId": model,
            "input": {"inputContentType": "application/json", "inputBodyJson": body_in, "inputTokenCount": tokens_in},
            "output": out, **extra}


# ---- LiteLLM


def _slp(**over):
    rec = {"id": "chatcmpl-st1", "trace_id": "tr-1", "call_type": "acompletion", "stream": True,
           "response_cost": 0.00042, "status": "success", "custom_llm_provider": "openai", "prompt_tokens": 20,
           "completion_tokens": 40, "startTime": 1741078800.0, "endTime": 1741078803.5,
           "completionStartTime": 1741078800.6, "response_time": 0.6, "model": "gpt-4o",
           "metadata": {"user_api_key_user_id": "u-7"}, "messages": [{"role": "user", "content": "A joke"}],
           "response": {"id": "chatcmpl-st1", "object": "chat.completion", "model": "gpt-4o-2024-08-06",
                        "choices": [{"index": 0, "finish_reason": "stop",
                                     "message": {"role": "assistant", "content": "Why did the chicken..."}}]}}
    return {**rec, **over}


def test_litellm_streamed_payload_response_time_is_the_first_token(tmp_path):
    [e], r = entries(tmp_path, _slp())
    assert r.vendors == {"litellm": 1}
    # LiteLLM: "response_time ... If streaming, this is the time to first token"
    assert (e["latency_ms"], e["ttft_ms"], e["output"], e["user_id"]) == (3500.0, 600.0, "Why did the chicken...",
                                                                           "u-7")
    # not streamed: completionStartTime is the end, response_time the latency, no first-token time
    [e], _ = entries(tmp_path, _slp(stream=False, completionStartTime=1741078803.5, response_time=3.5))
    assert (e["latency_ms"], e["ttft_ms"]) == (3500.0, None)


def test_litellm_spend_logs_csv_export_of_the_proxy_db(tmp_path):
    cols = ["request_id", "call_type", "api_key", "spend", "total_tokens", "prompt_tokens", "completion_tokens",
            "startTime", "endTime", "completionStartTime", "model", "model_group", "custom_llm_provider", "user",
            "metadata", "cache_hit", "end_user", "messages", "response", "session_id", "status"]
    ok = ["chatcmpl-aa11", "acompletion", "88dc28d0", "0.000123", "40", "30", "10", "2025-03-04 09:00:00.123",
          "2025-03-04 09:00:01.623", "2025-03-04 09:00:00.523", "gpt-4o-mini", "gpt-4o-mini", "openai", "alice",
          json.dumps({"user_api_key_alias": "prod"}), "False", "", json.dumps([{"role": "user", "content": "Hi"}]),
          json.dumps({"id": "chatcmpl-aa11", "object": "chat.completion", "choices": [
              {"index": 0, "message": {"role": "assistant", "content": "Hello!"}, "finish_reason": "stop"}]}),
          "sess-9", "success"]
    failed = ["chatcmpl-bb22", "acompletion", "88dc", "0.0", "0", "0", "0", "2025-03-04 09:05:00.000",
              "2025-03-04 09:05:02.000", "2025-03-04 09:05:02.000", "claude-3-5-sonnet", "claude-3-5-sonnet",
              "anthropic", "bob", json.dumps({"error_information": {"error_code": "429",
                                                                     "error_message": "rate limited"}}),
              "False", "", "{}", "{}", "", "failure"]
    buf = io.StringIO()
    csv.writer(buf).writerows([cols, ok, failed])
    rows, r = entries(tmp_path, buf.getvalue(), "spend_logs.csv")
    assert r.vendors == {"litellm": 1}
    assert [(e["request_id"], e["model"], e["provider"], e["user_id"], e["session_id"]) for e in rows] == [
        ("chatcmpl-aa11", "gpt-4o-mini", "openai", "alice", "sess-9"),
        ("chatcmpl-bb22", "claude-3-5-sonnet", "anthropic", "bob", None)]
    assert [(e["output"], e["latency_ms"], e["ttft_ms"], e["status"]) for e in rows] == [
        ("Hello!", 1500.0, 400.0, "ok"), (None, 2000.0, None, "error")]
    assert (rows[0]["prompt_tokens"], rows[0]["completion_tokens"], rows[1]["error"]) == (30, 10, "rate limited")


# ---- streams


def test_gemini_stream_answering_with_a_function_call_only_has_no_output(tmp_path):
    def chunk(parts, **kw):
        return {"candidates": [{"content": {"role": "model", "parts": parts}, **kw}],
                "modelVersion": "gemini-2.0-flash-001", "createTime": "2025-03-04T09:00:00.123456Z",
                "responseId": "vx-1"}
    sse = "".join("data: " + json.dumps(c) + "\r\n\r\n" for c in (
        chunk([{"functionCall": {"name": "find_movies", "args": {"location": "Berlin"}}}]),
        {**chunk([{"text": ""}], finishReason="STOP"),
         "usageMetadata": {"promptTokenCount": 40, "candidatesTokenCount": 8, "totalTokenCount": 48}}))
    uri = ("https://us-central1-aiplatform.googleapis.com/v1/projects/p/locations/us-central1/publishers/google/"
           "models/gemini-2.0-flash:streamGenerateContent?alt=sse")
    doc = {"interactions": [exchange(uri, {"contents": [{"role": "user", "parts": [{"text": "Movies?"}]}]}, sse,
                                     headers={"Content-Type": ["text/event-stream"]})], "version": 1}
    [e], _ = entries(tmp_path, doc, "vertex.yaml")
    assert (e["provider"], e["model"], e["request_id"], e["output"]) == ("google", "gemini-2.0-flash-001", "vx-1",
                                                                         None)
    assert (e["tool_calls"], e["prompt_tokens"], e["completion_tokens"], e["status"]) == (["find_movies"], 40, 8, "ok")
    assert e["ts"].isoformat() == "2025-03-04T09:00:00.123456+00:00"


def test_gemini_chunk_array_with_usage_in_the_last_chunk(tmp_path):
    def chunk(text, **kw):
        return {"candidates": [{"content": {"parts": [{"text": text}], "role": "model"}, "index": 0, **kw}],
                "modelVersion": "gemini-1.5-flash-002"}
    chunks = [chunk("Roses are"), chunk(" red."), {**chunk("", finishReason="STOP"), "responseId": "g-1",
              "usageMetadata": {"promptTokenCount": 7, "candidatesTokenCount": 5, "totalTokenCount": 12}}]
    uri = "https://generativelanguage.googleapis.com/v1beta/models/gemini-1.5-flash:streamGenerateContent?key=X"
    doc = {"interactions": [exchange(uri, {"contents": [{"role": "user", "parts": [{"text": "A poem"}]}]}, chunks,
                                     headers={"Server-Timing": ["gfet4t7; dur=812"]})], "version": 1}
    [e], _ = entries(tmp_path, doc, "gemini.yaml")
    assert (e["output"], e["prompt_tokens"], e["completion_tokens"], e["latency_ms"], e["request_id"]) == (
        "Roses are red.", 7, 5, 812.0, "g-1")


def test_cohere_v1_chat_stream_lines_are_assembled(tmp_path):
    events = [{"is_finished": False, "event_type": "stream-start", "generation_id": "g-1"},
              {"is_finished": False, "event_type": "text-generation", "text": "Hello"},
              {"is_finished": False, "event_type": "text-generation", "text": " world"},
              {"is_finished": True, "event_type": "stream-end", "finish_reason": "COMPLETE", "response": {
                  "response_id": "r-1", "text": "Hello world", "generation_id": "g-1", "finish_reason": "COMPLETE",
                  "meta": {"billed_units": {"input_tokens": 3, "output_tokens": 2},
                           "tokens": {"input_tokens": 70, "output_tokens": 2}}}}]
    body = "".join(json.dumps(e) + "\n" for e in events)
    doc = {"interactions": [exchange("https://api.cohere.com/v1/chat", {"message": "Say hello world",
                                                                       "model": "command-r", "stream": True}, body)]}
    [e], _ = entries(tmp_path, doc, "cohere.yaml")
    assert (e["provider"], e["model"], e["input"], e["output"]) == ("cohere", "command-r", "Say hello world",
                                                                     "Hello world")
    assert (e["request_id"], e["prompt_tokens"], e["completion_tokens"], e["status"]) == ("r-1", 70, 2, "ok")
    # cut short before stream-end: the pieces so far
    doc["interactions"][0]["response"]["body"]["string"] = "".join(json.dumps(e) + "\n" for e in events[:3])
    [e], _ = entries(tmp_path, doc, "cohere.yaml")
    assert (e["output"], e["request_id"]) == ("Hello world", "g-1")


# ---- Bedrock invocation logs


def test_bedrock_invocation_logs_of_native_and_streamed_bodies(tmp_path):
    claude_events = [
        {"type": "message_start", "message": {"id": "msg_bdrk_1", "type": "message", "role": "assistant",
                                              "model": "claude-3-haiku-20240307", "content": [],
                                              "usage": {"input_tokens": 9, "output_tokens": 1}}},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hi"}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": " there!"}},
        {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 4}},
        {"type": "message_stop", "amazon-bedrock-invocationMetrics": {
            "inputTokenCount": 9, "outputTokenCount": 4, "invocationLatency": 410, "firstByteLatency": 200}}]
    converse_events = [
        {"messageStart": {"role": "assistant"}}, {"contentBlockDelta": {"delta": {"text": "1, 2,"},
                                                                        "contentBlockIndex": 0}},
        {"contentBlockDelta": {"delta": {"text": " 3"}, "contentBlockIndex": 0}},
        {"messageStop": {"stopReason": "end_turn"}},
        {"metadata": {"usage": {"inputTokens": 5, "outputTokens": 6}, "metrics": {"latencyMs": 321}}}]
    logs = [
        invocation_log("r-llama", "meta.llama3-8b-instruct-v1:0", "InvokeModel", {"prompt": "Name a river"},
                       {"generation": "The Danube.", "prompt_token_count": 12, "generation_token_count": 4,
                        "stop_reason": "stop"}, 12, 4),
        invocation_log("r-mistral", "mistral.mistral-7b-instruct-v0:2", "InvokeModel",
                       {"prompt": "<s>[INST] Name a lake [/INST]"},
                       {"outputs": [{"text": " Lake Baikal.", "stop_reason": "stop"}]}, 11, 5),
        invocation_log("r-claude", "anthropic.claude-3-haiku-20240307-v1:0", "InvokeModelWithResponseStream",
                       {"messages": [{"role": "user", "content": "Say hi"}]}, claude_events, 9, 4),
        invocation_log("r-nova", "amazon.nova-lite-v1:0", "ConverseStream",
                       {"messages": [{"role": "user", "content": [{"text": "Count to 3"}]}]}, converse_events, 5, 6),
        invocation_log("r-jamba", "ai21.jamba-1-5-mini-v1:0", "InvokeModel",
                       {"messages": [{"role": "user", "content": "Hi Jamba"}]},
                       {"id": "chatcmpl-j1", "choices": [{"index": 0, "finish_reason": "stop",
                                                          "message": {"role": "assistant", "content": "Hello!"}}],
                        "usage": {"prompt_tokens": 4, "completion_tokens": 3}}, 4, 3),
        invocation_log("r-err", "anthropic.claude-3-5-sonnet-20240620-v1:0", "Converse",
                       {"messages": [{"role": "user", "content": [{"text": "Hello?"}]}]},
                       {"message": "Too many requests"}, 3, errorCode="ThrottlingException"),
    ]
    rows, r = entries(tmp_path, logs, "logs.jsonl")
    assert r.vendors == {"bedrock_logs": 1}
    assert [(e["request_id"], e["output"], e["prompt_tokens"], e["completion_tokens"]) for e in rows] == [
        ("r-llama", "The Danube.", 12, 4), ("r-mistral", " Lake Baikal.", 11, 5), ("r-claude", "Hi there!", 9, 4),
        ("r-nova", "1, 2, 3", 5, 6), ("r-jamba", "Hello!", 4, 3), ("r-err", None, 3, None)]
    assert [(e["latency_ms"], e["ttft_ms"]) for e in rows] == [
        (None, None), (None, None), (410.0, 200.0), (321.0, None), (None, None), (None, None)]
    assert [e["input"] for e in rows[:2]] == ["Name a river", "<s>[INST] Name a lake [/INST]"]
    assert [e["status"] for e in rows] == ["ok"] * 5 + ["error"]
    assert rows[-1]["error"] == "ThrottlingException"
    assert rows[0]["model"] == "meta.llama3-8b-instruct-v1:0"


# ---- recorded exchanges whose provider bodies were already read right (kept as guards)


def test_provider_bodies_of_newer_api_features(tmp_path):
    converse = {"output": {"message": {"role": "assistant", "content": [
        {"reasoningContent": {"reasoningText": {"text": "2+2 is 4.", "signature": "sig=="}}}, {"text": "4"}]}},
        "stopReason": "end_turn", "usage": {"inputTokens": 20, "outputTokens": 30}, "metrics": {"latencyMs": 1500}}
    web = {"id": "msg_01WS", "type": "message", "role": "assistant", "model": "claude-sonnet-4-20250514", "content": [
        {"type": "text", "text": "I'll search."},
        {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {"query": "tallest"}},
        {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_1", "content": [
            {"type": "web_search_result", "url": "https://example.com/b", "title": "Burj", "encrypted_content": "E"}]},
        {"type": "text", "text": " It is the Burj Khalifa.", "citations": [
            {"type": "web_search_result_location", "url": "https://example.com/b", "cited_text": "828 m"}]}],
        "stop_reason": "end_turn", "usage": {"input_tokens": 2100, "cache_read_input_tokens": 1000,
                                             "output_tokens": 120, "server_tool_use": {"web_search_requests": 1}}}
    cohere = {"id": "c2-1", "finish_reason": "TOOL_CALL", "message": {
        "role": "assistant", "tool_plan": "I will look up the weather.", "tool_calls": [
            {"id": "get_weather_k88p", "type": "function",
             "function": {"name": "get_weather", "arguments": "{\"location\":\"Toronto\"}"}}]},
        "usage": {"billed_units": {"input_tokens": 37, "output_tokens": 20},
                  "tokens": {"input_tokens": 1200, "output_tokens": 52}}}
    fim = {"id": "fim-7c1", "object": "chat.completion", "model": "codestral-latest", "created": 1741078800,
           "usage": {"prompt_tokens": 16, "completion_tokens": 13},
           "choices": [{"index": 0, "message": {"content": "    return a + b", "role": "assistant"},
                        "finish_reason": "stop"}]}
    azure = {"id": "chatcmpl-AZ1", "object": "chat.completion", "created": 1741078800,
             "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "Bonjour!"},
                          "content_filter_results": {"hate": {"filtered": False, "severity": "safe"}}}],
             "usage": {"prompt_tokens": 9, "completion_tokens": 3},
             "prompt_filter_results": [{"prompt_index": 0, "content_filter_results": {}}]}
    doc = [
        exchange("https://bedrock-runtime.us-east-1.amazonaws.com/model/"
                 "us.anthropic.claude-3-7-sonnet-20250219-v1%3A0/converse",
                 {"messages": [{"role": "user", "content": [{"text": "2+2?"}]}]}, converse,
                 headers={"x-amzn-RequestId": ["c-1"]}),
        exchange("https://api.anthropic.com/v1/messages",
                 {"model": "claude-sonnet-4-20250514", "messages": [{"role": "user", "content": "Tallest?"}],
                  "tools": [{"type": "web_search_20250305", "name": "web_search"}]}, web,
                 headers={"request-id": ["req_011"]}),
        exchange("https://api.cohere.com/v2/chat", {"model": "command-a-03-2025", "messages": [
            {"role": "user", "content": "Weather?"}]}, cohere, headers={"x-envoy-upstream-service-time": ["640"]}),
        exchange("https://api.mistral.ai/v1/fim/completions",
                 {"model": "codestral-latest", "prompt": "def add(a, b):\n", "suffix": "\nprint(add(1, 2))"}, fim),
        exchange("https://myres.openai.azure.com/openai/deployments/gpt4o-prod/chat/completions"
                 "?api-version=2024-10-21", {"messages": [{"role": "user", "content": "Hello in French"}]}, azure,
                 headers={"apim-request-id": ["apim-1"]}),
    ]
    rows, r = entries(tmp_path, doc)
    assert r.vendors == {"http_exchange": 1}
    assert [(e["provider"], e["model"], e["output"]) for e in rows] == [
        ("bedrock", "us.anthropic.claude-3-7-sonnet-20250219-v1:0", "4"),
        ("anthropic", "claude-sonnet-4-20250514", "I'll search. It is the Burj Khalifa."),
        ("cohere", "command-a-03-2025", None),  # a tool plan is no answer
        ("mistral", "codestral-latest", "    return a + b"),
        ("azure", "gpt4o-prod", "Bonjour!")]
    assert [e["tool_calls"] for e in rows] == [[], ["web_search"], ["get_weather"], [], []]
    assert [(e["prompt_tokens"], e["completion_tokens"]) for e in rows] == [
        (20, 30), (3100, 120), (1200, 52), (16, 13), (9, 3)]
    assert [e["request_id"] for e in rows] == ["c-1", "req_011", "c2-1", "fim-7c1", "apim-1"]
    assert [e["latency_ms"] for e in rows] == [1500.0, None, 640.0, None, None]


# ---- datasets


def test_sharegpt_tool_turns_answer_the_same_user_turn(tmp_path):
    rows = [
        {"id": "conv-1", "conversations": [
            {"from": "system", "value": "You are helpful."},
            {"from": "human", "value": "Weather in Paris?"},
            {"from": "gpt", "value": "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {}}\n</tool_call>"},
            {"from": "tool", "value": "{\"temp\": 18}"},
            {"from": "gpt", "value": "It is 18 degrees."},
            {"from": "human", "value": "Thanks!"},
            {"from": "gpt", "value": "You're welcome."},
            {"from": "gpt", "value": "Anything else?"}]},
        {"id": "lf-2", "conversations": [  # LLaMA-Factory's ShareGPT tool format
            {"from": "human", "value": "Convert 100 USD to EUR"},
            {"from": "function_call", "value": "{\"name\": \"convert_currency\", \"arguments\": {\"amount\": 100}}"},
            {"from": "observation", "value": "{\"converted\": 92.5}"},
            {"from": "gpt", "value": "100 USD is 92.50 EUR."}], "tools": "[{\"name\": \"convert_currency\"}]"}]
    got, r = entries(tmp_path, rows, "sharegpt.jsonl")
    assert r.vendors == {"sharegpt": 1}
    assert [(e["request_id"], e["input"], e["tool_calls"]) for e in got] == [
        ("conv-1#1", "Weather in Paris?", ["get_weather"]), ("conv-1#2", "Weather in Paris?", []),
        ("conv-1#3", "Thanks!", []), ("conv-1#4", None, []),
        ("lf-2#1", "Convert 100 USD to EUR", ["convert_currency"]), ("lf-2#2", "Convert 100 USD to EUR", [])]
    assert [e["output"] for e in got[1:]] == ["It is 18 degrees.", "You're welcome.", "Anything else?", None,
                                              "100 USD is 92.50 EUR."]


def test_chat_dataset_rows_with_content_parts_and_tool_calls(tmp_path):
    rows = [
        {"messages": [{"role": "system", "content": "Be brief."},
                      {"role": "user", "content": [{"type": "text", "text": "Capital of Italy?"}]},
                      {"role": "assistant", "content": [{"type": "text", "text": "Rome."}]}]},
        {"messages": [{"role": "user", "content": "Weather in Oslo?"},
                      {"role": "assistant", "content": None, "tool_calls": [
                          {"id": "call_1", "type": "function",
                           "function": {"name": "get_weather", "arguments": "{\"city\":\"Oslo\"}"}}]},
                      {"role": "tool", "tool_call_id": "call_1", "content": "{\"temp\": 3}"},
                      {"role": "assistant", "content": "It is 3 degrees in Oslo."}]}]
    got, r = entries(tmp_path, rows, "chat.jsonl")
    assert r.vendors == {"sharegpt": 1}
    assert [(e["input"], e["output"], e["tool_calls"]) for e in got] == [
        ("Capital of Italy?", "Rome.", []), ("Weather in Oslo?", None, ["get_weather"]),
        ("Weather in Oslo?", "It is 3 degrees in Oslo.", [])]


# ---- spreadsheet exports


def test_german_spreadsheet_with_thousands_groups_and_decimal_commas(tmp_path):
    text = ("Datum;Modell;Eingabe;Antwort;Dauer (ms);Kosten\n"
            "04.03.2025 09:15;gpt-4o;Wie spät ist es?;Es ist 9 Uhr.;1.234;0,0021\n"
            "05.03.2025 14:30;gpt-4o-mini;Hallo;Hallo! Wie kann ich helfen?;856;0,0004\n"
            "06.03.2025 08:00;gpt-4o;Übersetze 'Haus';house;2.050;0,0013\n")
    rows, r = entries(tmp_path, "\ufeff" + text, "export.csv")
    assert [(e["ts"].isoformat(), e["model"], e["input"], e["output"]) for e in rows] == [
        ("2025-03-04T09:15:00+00:00", "gpt-4o", "Wie spät ist es?", "Es ist 9 Uhr."),
        ("2025-03-05T14:30:00+00:00", "gpt-4o-mini", "Hallo", "Hallo! Wie kann ich helfen?"),
        ("2025-03-06T08:00:00+00:00", "gpt-4o", "Übersetze 'Haus'", "house")]
    assert [(e["latency_ms"], e["cost_usd"]) for e in rows] == [(1234.0, 0.0021), (856.0, 0.0004), (2050.0, 0.0013)]
    tokens = ("Zeitstempel;Modell;Eingabe-Tokens;Ausgabe-Tokens;Dauer (s);Kosten (€)\n"
              "04.03.2025 09:15:00;gpt-4o;1.234;56;1,5;0,0021\n"
              "04.03.2025 09:16:00;gpt-4o;12.500;1.020;2,25;0,0450\n")
    rows, _ = entries(tmp_path, tokens, "tokens.csv")
    assert [(e["prompt_tokens"], e["completion_tokens"], e["latency_ms"]) for e in rows] == [
        (1234, 56, 1500.0), (12500, 1020, 2250.0)]


def test_dotted_decimals_stay_decimals_without_a_decimal_comma(tmp_path):
    rows, _ = entries(tmp_path, "ts;model;latency_s;cost\n2025-03-04T09:00:00Z;gpt-4o;1.234;0.002\n"
                                "2025-03-04T09:01:00Z;gpt-4o;2.050;0.001\n", "dots.csv")
    assert [(e["latency_ms"], e["cost_usd"]) for e in rows] == [(1234.0, 0.002), (2050.0, 0.001)]


def test_excel_sep_line_names_the_delimiter(tmp_path):
    text = ("sep=;\r\nDate;Modèle;Question;Réponse;Durée (s);Coût (€)\r\n"
            "04/03/2025 09:15:00;mistral-large;Bonjour ?;Bonjour !;1,5;0,0021\r\n"
            "13/03/2025 10:00:00;mistral-small;Ça va ?;Oui, merci.;0,8;0,0003\r\n")
    rows, r = entries(tmp_path, text, "fr.csv")
    assert r.rejects == []
    assert [(e["ts"].isoformat(), e["model"], e["input"], e["output"], e["latency_ms"], e["cost_usd"])
            for e in rows] == [
        ("2025-03-04T09:15:00+00:00", "mistral-large", "Bonjour ?", "Bonjour !", 1500.0, 0.0021),
        ("2025-03-13T10:00:00+00:00", "mistral-small", "Ça va ?", "Oui, merci.", 800.0, 0.0003)]


def test_french_headers_with_linking_words_and_a_localized_error_status(tmp_path):
    """`Jetons d'entrée` / `Jetons de sortie` are the token columns (linking words dropped), `erreur` is an error."""
    from pipeline.core.ingest.engine import ingest as _ingest

    p = tmp_path / "export.csv"
    p.write_text("Date;Modèle;Jetons d'entrée;Jetons de sortie;Statut;Réponse\n" + "".join(
        f"2025-03-0{i + 1}T10:00:00Z;gpt-4o;{100 + i};{20 + i};{'erreur' if i == 2 else 'ok'};Bonjour {i}\n"
        for i in range(5)), encoding="utf-8")
    table, _ = _ingest(str(p))
    got = [(r["prompt_tokens"], r["completion_tokens"], r["status"]) for r in table.to_pylist()]
    assert got == [(100 + i, 20 + i, "error" if i == 2 else "ok") for i in range(5)]
