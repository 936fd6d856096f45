"""Shapes found in genuine public recordings and exports (issue 12), written with our own values: provider bodies of
older API versions, token and latency headers, errors kept inside metadata, read-side rows, MLflow REST documents."""
import json

import yaml

from pipeline.core.ingest.engine import ingest


def exchange(uri, req, resp, code=200, headers=None):
    return {"request": {"method": "POST", "uri": uri, "body": json.dumps(req)},
            "response": {"status": {"code": code, "message": "OK" if code < 400 else "Bad Request"},
                         "headers": headers or {}, "body": {"string": json.dumps(resp)}}}


def entries(tmp_path, doc, name="x.json"):
    p = tmp_path / name
    p.write_text(yaml.dump(doc) if name.endswith(".yaml") else json.dumps(doc))
    t, r = ingest(str(p))
    return t.to_pylist(), r


def test_cohere_v1_chat_reads_text_actual_tokens_and_gateway_time(tmp_path):
    resp = {"response_id": "resp-1", "generation_id": "gen-1", "text": "Blueberries.", "finish_reason": "COMPLETE",
            "token_count": {"prompt_tokens": 30, "response_tokens": 5, "total_tokens": 35, "billed_tokens": 20},
            "meta": {"api_version": {"version": "1"}, "billed_units": {"input_tokens": 15, "output_tokens": 5}},
            "tool_calls": [{"name": "lookup", "parameters": {}}]}
    doc = {"interactions": [exchange("https://api.cohere.ai/v1/chat", {"message": "A blue fruit?", "model": "command"},
                                     resp, headers={"date": ["Tue, 04 Mar 2025 09:00:00 GMT"],
                                                    "x-envoy-upstream-service-time": ["700"]})], "version": 1}
    [e], r = entries(tmp_path, doc, "cohere.yaml")
    assert r.vendors == {"http_exchange": 1}
    assert (e["provider"], e["model"], e["input"], e["output"]) == ("cohere", "command", "A blue fruit?",
                                                                     "Blueberries.")
    assert (e["prompt_tokens"], e["completion_tokens"], e["request_id"]) == (30, 5, "resp-1")  # counted, not billed
    assert (e["latency_ms"], e["tool_calls"], e["status"]) == (700.0, ["lookup"], "ok")


def test_legacy_text_completions_and_bedrock_token_headers(tmp_path):
    bedrock = {"Date": ["Mon, 10 Mar 2025 10:00:00 GMT"], "x-amzn-RequestId": ["b-1"],
               "X-Amzn-Bedrock-Input-Token-Count": ["14"], "X-Amzn-Bedrock-Output-Token-Count": ["9"]}
    doc = [
        exchange("https://api.anthropic.com/v1/complete",
                 {"model": "claude-2.1", "prompt": "\n\nHuman: hi\n\nAssistant:"},
                 {"type": "completion", "id": "compl_1", "completion": " Hello!", "stop_reason": "stop_sequence",
                  "model": "claude-2.1"}, headers={"request-id": ["req_1"]}),
        exchange("https://bedrock-runtime.us-west-2.amazonaws.com/model/anthropic.claude-v2%3A1/invoke",
                 {"prompt": "\n\nHuman: a fact\n\nAssistant:"}, {"completion": " Octopuses have three hearts.",
                                                                 "stop_reason": "stop_sequence"}, headers=bedrock),
        exchange("https://bedrock-runtime.us-west-2.amazonaws.com/model/ai21.j2-ultra-v1/invoke", {"prompt": "Hallo"},
                 {"id": 1, "completions": [{"data": {"text": "Hello"}, "finishReason": {"reason": "endoftext"}}]},
                 headers={**bedrock, "x-amzn-RequestId": ["b-2"]}),
    ]
    rows, _ = entries(tmp_path, doc)
    assert [(e["provider"], e["model"], e["output"]) for e in rows] == [
        ("anthropic", "claude-2.1", " Hello!"), ("bedrock", "anthropic.claude-v2:1", " Octopuses have three hearts."),
        ("bedrock", "ai21.j2-ultra-v1", "Hello")]
    assert [(e["prompt_tokens"], e["completion_tokens"]) for e in rows] == [(None, None), (14, 9), (14, 9)]
    assert [e["request_id"] for e in rows] == ["req_1", "b-1", "b-2"]


def test_vertex_create_time_is_the_ts(tmp_path):
    resp = {"candidates": [{"content": {"role": "model", "parts": [{"functionCall": {"name": "book", "args": {}}}]},
                            "finishReason": "STOP"}],
            "usageMetadata": {"promptTokenCount": 40, "candidatesTokenCount": 8},
            "modelVersion": "gemini-1.5-pro-002", "createTime": "2025-03-08T10:00:00.123456Z", "responseId": "r-1"}
    uri = ("https://us-central1-aiplatform.googleapis.com/v1/projects/p/locations/us-central1/publishers/google/"
           "models/gemini-1.5-pro-002:generateContent")
    date = {"Date": ["Sat, 08 Mar 2025 10:00:01 GMT"]}
    [e], _ = entries(tmp_path, [exchange(uri, {"contents": []}, resp, headers=date)])
    assert (e["ts"].isoformat(), e["tool_calls"], e["output"]) == ("2025-03-08T10:00:00.123456+00:00", ["book"], None)


def spend_row(rid, status, meta, **kw):
    return {"request_id": rid, "call_type": "acompletion", "spend": 0.0, "prompt_tokens": 0, "completion_tokens": 0,
            "startTime": "2025-04-01 10:01:00.000", "endTime": "2025-04-01 10:01:00.250", "model": "gpt-4o-mini",
            "custom_llm_provider": "openai", "metadata": json.dumps(meta), "messages": "{}", "response": "{}",
            "session_id": "s-1", "status": status, **kw}


def test_litellm_spend_logs_failure_message_from_its_metadata(tmp_path):
    info = {"error_code": "429", "error_class": "RateLimitError", "error_message": "quota exceeded"}
    rows, r = entries(tmp_path, [spend_row("ok-1", "success", {"status": "success"}),
                                 spend_row("f-1", "failure", {"status": "failure", "error_information": info})])
    assert r.vendors == {"litellm": 1}
    assert [(e["request_id"], e["status"], e["error"]) for e in rows] == [("ok-1", "ok", None),
                                                                         ("f-1", "error", "quota exceeded")]
    assert rows[1]["latency_ms"] == 250.0


def test_helicone_rows_read_any_provider_body(tmp_path):
    base = {"request_created_at": "2025-04-04T10:00:00.000Z", "delay_ms": 1500, "request_properties": {}}
    rows, r = entries(tmp_path, {"data": [
        {**base, "request_id": "h-1", "provider": "ANTHROPIC", "model": "claude-3-5-sonnet-20241022",
         "request_body": {"messages": [{"role": "user", "content": "find docs"}]}, "response_status": 200,
         "response_body": {"type": "message", "role": "assistant", "content": [
             {"type": "tool_use", "id": "t1", "name": "search_docs", "input": {}}], "usage": {"input_tokens": 3}}},
        {**base, "request_id": "h-2", "provider": "OPENAI", "model": "gpt-4o", "response_status": 429,
         "request_body": {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]},
         "response_body": {"error": {"message": "Rate limit reached", "code": "rate_limit_exceeded"}}}]})
    assert r.vendors == {"helicone": 1}
    assert [(e["provider"], e["model"], e["tool_calls"], e["output"]) for e in rows] == [
        ("anthropic", "claude-3-5-sonnet-20241022", ["search_docs"], None), ("openai", "gpt-4o", [], None)]
    assert [(e["status"], e["error"]) for e in rows] == [("ok", None), ("error", "Rate limit reached")]


def test_mlflow_rest_get_trace_and_search_results(tmp_path):
    info = {"trace_id": "tr-1", "trace_location": {"type": "MLFLOW_EXPERIMENT"}, "request_time": "2025-04-08T12:00:00Z",
            "execution_duration": "1.500s", "state": "ERROR", "request_preview": "Wer bist du?",
            "trace_metadata": {"mlflow.trace.session": "s-42", "mlflow.trace.user": "u-9"}}
    [e], r = entries(tmp_path, {"trace": {"trace_info": info}}, "get.json")
    assert r.vendors == {"mlflow": 1}
    assert (e["trace_id"], e["latency_ms"], e["status"], e["session_id"], e["user_id"]) == ("tr-1", 1500.0, "error",
                                                                                          "s-42", "u-9")
    meta = [{"key": "mlflow.traceInputs", "value": json.dumps({"query": "What is MLflow?"})},
            {"key": "mlflow.traceOutputs", "value": json.dumps("An ML platform.")}]
    search = {"traces": [{"request_id": f"tr-{i}", "experiment_id": "3", "timestamp_ms": 1744113600000 + i,
                          "execution_time_ms": 820, "status": "OK", "request_metadata": meta, "tags": []}
                         for i in (2, 3)], "next_page_token": ""}
    rows, r = entries(tmp_path, search, "search.json")
    assert r.vendors == {"mlflow": 1} and len(rows) == 2
    e = rows[0]
    assert (e["trace_id"], e["output"], e["latency_ms"], e["status"]) == ("tr-2", "An ML platform.", 820.0, "ok")
    assert "What is MLflow?" in e["input"] and e["ts"].isoformat() == "2025-04-08T12:00:00.002000+00:00"


def test_failed_responses_call_with_http_200_is_an_error(tmp_path):
    ok = {"id": "resp_1", "object": "response", "created_at": 1744300200, "status": "completed", "error": None,
          "model": "o4-mini", "output": [{"type": "reasoning", "summary": []},
                                         {"type": "function_call", "name": "get_weather", "arguments": "{}"}],
          "usage": {"input_tokens": 60, "output_tokens": 80}}
    failed = {"id": "resp_2", "object": "response", "created_at": 1744300300, "status": "failed", "output": [],
              "model": "gpt-4.1", "usage": None,
              "error": {"code": "server_error", "message": "The server had an error."}}
    rows, r = entries(tmp_path, [exchange("https://api.openai.com/v1/responses", {"input": "Rome?"}, ok),
                                 exchange("https://api.openai.com/v1/responses", {"input": "Hi"}, failed)])
    assert r.vendors == {"http_exchange": 1}
    assert [(e["status"], e["error"], e["tool_calls"]) for e in rows] == [("ok", None, ["get_weather"]),
                                                                         ("error", "The server had an error.", [])]


def test_embedding_and_rerank_calls_keep_their_usage_and_input(tmp_path):
    doc = [exchange("https://api.openai.com/v1/embeddings", {"input": "hello world", "model": "text-embedding-3-small"},
                    {"object": "list", "data": [{"object": "embedding", "index": 0, "embedding": [0.1]}],
                     "model": "text-embedding-3-small", "usage": {"prompt_tokens": 2, "total_tokens": 2}}),
           exchange("https://api.cohere.com/v2/embed", {"texts": ["hola"], "model": "embed-multilingual-v3.0"},
                    {"id": "emb-2", "embeddings": {"float": [[0.1]]}, "meta": {"billed_units": {"input_tokens": 3}}}),
           exchange("https://api.cohere.com/v2/rerank", {"model": "rerank-v3.5", "query": "q", "documents": ["a"]},
                    {"id": "rr-3", "results": [{"index": 0, "relevance_score": 0.9}], "meta": {}})]
    rows, _ = entries(tmp_path, doc)
    assert [(e["provider"], e["prompt_tokens"], e["output"], e["status"]) for e in rows] == [
        ("openai", 2, None, "ok"), ("cohere", 3, None, "ok"), ("cohere", None, None, "ok")]
    assert [e["input"] for e in rows] == ["hello world", '["hola"]', "q"]
    assert rows[1]["request_id"] == "emb-2"


def test_bedrock_invocation_logs_with_model_arns_and_command_r_bodies(tmp_path):
    def log(rid, model, body, out):
        return {"schemaType": "ModelInvocationLog", "schemaVersion": "1.0", "timestamp": "2025-04-14T12:00:00Z",
                "requestId": rid, "operation": "InvokeModel", "modelId": model, "region": "us-east-1",
                "input": {"inputBodyJson": body, "inputTokenCount": 8},
                "output": {"outputBodyJson": out, "outputTokenCount": 20}}
    rows, r = entries(tmp_path, [
        log("b-1", "arn:aws:bedrock:us-east-1::foundation-model/cohere.command-r-plus-v1:0",
            {"message": "A joke about engineers?"}, {"text": "They never commit.", "finish_reason": "COMPLETE"}),
        log("b-2", "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123",
            {"inputText": "Hola"}, {"results": [{"outputText": "Hello", "completionReason": "FINISH"}]})])
    assert r.vendors == {"bedrock_logs": 1}
    assert [(e["model"], e["input"], e["output"], e["completion_tokens"]) for e in rows] == [
        ("cohere.command-r-plus-v1:0", "A joke about engineers?", "They never commit.", 20),
        ("arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123", "Hola", "Hello", 20)]
    url = ("https://bedrock-runtime.us-east-1.amazonaws.com/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A%3A"
           "foundation-model%2Famazon.nova-lite-v1%3A0/converse")
    [e], _ = entries(tmp_path, [exchange(url, {"messages": []}, {"output": {"message": {"content": [{"text": "Hi"}]}},
                                                                  "usage": {"inputTokens": 1, "outputTokens": 1}})],
                     "arn.json")
    assert (e["model"], e["provider"], e["output"]) == ("amazon.nova-lite-v1:0", "bedrock", "Hi")


def test_batch_lines_with_any_error_code_are_errors(tmp_path):
    """An OpenAI Batch error line's code is whatever the API says (`batch_expired`, `model_not_found`...): its presence
    makes the line an error, never a status named after the code; a success line with `"error": null` stays ok."""
    ok = {"id": "batch_req_1", "custom_id": "a", "error": None, "response": {"status_code": 200, "request_id": "r1",
          "body": {"id": "c1", "object": "chat.completion", "created": 1733000000, "model": "gpt-4o-mini",
                   "choices": [{"index": 0, "message": {"role": "assistant", "content": "Paris."},
                                "finish_reason": "stop"}], "usage": {"prompt_tokens": 9, "completion_tokens": 2}}}}
    lines = [ok] + [{"id": f"batch_req_{i}", "custom_id": f"e{i}", "response": None,
                     "error": {"code": code, "message": f"request {i} failed"}}
                    for i, code in enumerate(("batch_expired", "batch_cancelled", "quota_exceeded_7"), start=2)]
    p = tmp_path / "batch_output.jsonl"
    p.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    t, _ = ingest(str(p))
    rows = t.to_pylist()
    assert [r["status"] for r in rows] == ["ok", "error", "error", "error"]
    assert rows[0]["output"] == "Paris." and rows[0]["error"] is None
    assert [r["error"] for r in rows[1:]] == [f"request {i} failed" for i in (2, 3, 4)]


def test_litellm_and_helicone_read_provider_refusals(tmp_path):
    """A content-filtered answer logged as a success by the proxy is an error all the same, with the block's reason."""
    filtered = {"id": "chatcmpl-9", "object": "chat.completion", "model": "gpt-4o-mini",
                "choices": [{"index": 0, "finish_reason": "content_filter", "message": {"role": "assistant",
                                                                                     "content": None}}],
                "usage": {"prompt_tokens": 14, "completion_tokens": 0}}
    rows, r = entries(tmp_path, [spend_row("ok-1", "success", {}), spend_row("cf-1", "success", {},
                                                                             response=json.dumps(filtered))])
    assert r.vendors == {"litellm": 1}
    assert [(e["request_id"], e["status"], e["error"], e["output"]) for e in rows] == [
        ("ok-1", "ok", None, None), ("cf-1", "error", "blocked: content_filter", None)]
    base = {"request_created_at": "2025-04-04T10:00:00.000Z", "delay_ms": 900, "request_properties": {},
            "provider": "GOOGLE", "model": "gemini-2.0-flash", "response_status": 200,
            "request_body": {"contents": [{"role": "user", "parts": [{"text": "q"}]}]}}
    rows, r = entries(tmp_path, {"data": [
        {**base, "request_id": "h-1", "response_body": {"promptFeedback": {"blockReason": "SAFETY"},
                                                        "usageMetadata": {"promptTokenCount": 4}}},
        {**base, "request_id": "h-2", "response_body": {"candidates": [{"content": {"role": "model", "parts": [
            {"text": "Fine."}]}, "finishReason": "STOP"}], "usageMetadata": {"promptTokenCount": 4}}}]}, "h.json")
    assert r.vendors == {"helicone": 1}
    assert [(e["status"], e["error"], e["output"]) for e in rows] == [("error", "blocked: SAFETY", None),
                                                                     ("ok", None, "Fine.")]
