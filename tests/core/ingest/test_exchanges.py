"""Provider adapters on hand-written records of the real shapes: what the model did, never what was offered."""
import json

import pytest

from pipeline.core.ingest.engine import ingest
from pipeline.core.ingest.vendors.providers import model_of_url, provider_of_url, read_response

DATE = {"Date": ["Tue, 25 Feb 2025 08:56:15 GMT"]}
TOOLS = [{"name": "offered_tool", "description": "never called", "input_schema": {"type": "object"}}]


def vcr(uri, req, resp, code=200, headers=None, as_string=False):
    body = json.dumps(resp) if as_string else resp
    return {"request": {"method": "POST", "uri": uri, "body": req},
            "response": {"status": {"code": code, "message": "OK" if code < 400 else "Bad Request"},
                         "headers": {**DATE, **(headers or {})}, "body": {"string": body} if as_string else body}}


def one(tmp_path, rec, name="x.json"):
    p = tmp_path / name
    p.write_text(json.dumps([rec]))
    t, r = ingest(str(p))
    assert t.num_rows == 1, r.summary()
    return t.to_pylist()[0], r


def test_anthropic_messages_thinking_and_tool_use_as_json_string(tmp_path):
    resp = {"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
            "content": [{"type": "thinking", "thinking": "hmm", "signature": "x"},
                        {"type": "text", "text": "Let me check."},
                        {"type": "tool_use", "id": "tu_1", "name": "get_weather", "input": {"city": "Oslo"}}],
            "stop_reason": "tool_use", "usage": {"input_tokens": 40, "cache_read_input_tokens": 60, "output_tokens": 9}}
    e, r = one(tmp_path, vcr("https://api.anthropic.com/v1/messages",
                             {"model": "claude-sonnet-4-5", "tools": TOOLS, "messages": [{"role": "user", "content": "Oslo?"}]},
                             resp, headers={"request-id": ["req_a1"]}, as_string=True))
    assert r.vendors == {"http_exchange": 1}
    assert (e["provider"], e["model"], e["output"], e["tool_calls"]) == ("anthropic", "claude-sonnet-4-5",
                                                                         "Let me check.", ["get_weather"])
    assert (e["prompt_tokens"], e["completion_tokens"], e["request_id"], e["status"]) == (100, 9, "req_a1", "ok")
    assert e["ts"].isoformat() == "2025-02-25T08:56:15+00:00"


def test_bedrock_converse_guardrail_not_mistaken(tmp_path):
    req = {"messages": [{"role": "user", "content": [{"text": "capital of Japan?"}]}],
           "guardrailConfig": {"guardrailIdentifier": "g1", "trace": "enabled"}}
    resp = {"metrics": {"latencyMs": 512}, "output": {"message": {"role": "assistant", "content": [
        {"text": "Tokyo."}, {"toolUse": {"toolUseId": "t1", "name": "lookup", "input": {}}}]}},
        "stopReason": "guardrail_intervened", "usage": {"inputTokens": 20, "outputTokens": 3, "totalTokens": 23}}
    e, _ = one(tmp_path, vcr("https://bedrock-runtime.eu-west-1.amazonaws.com/model/amazon.nova-lite-v1%3A0/converse",
                             req, resp, headers={"x-amzn-RequestId": ["rq-1"]}))
    assert (e["trace_id"], e["output"], e["model"], e["provider"]) == (None, "Tokyo.", "amazon.nova-lite-v1:0", "bedrock")
    assert (e["latency_ms"], e["prompt_tokens"], e["completion_tokens"], e["tool_calls"]) == (512.0, 20, 3, ["lookup"])
    assert json.loads(e["attributes"])["vendor_detail"]["finish_reason"] == "guardrail_intervened"


def test_bedrock_error_is_an_error_not_an_output(tmp_path):
    nock = {"scope": "https://bedrock-runtime.us-east-1.amazonaws.com:443", "method": "POST",
            "path": "/model/bad-id/invoke", "body": {"messages": [{"role": "user", "content": "x"}]}, "status": 400,
            "response": {"message": "The provided model identifier is invalid."},
            "rawHeaders": ["Date", "Thu, 10 Jul 2025 01:27:19 GMT", "x-amzn-RequestId", "r-9"]}
    e, _ = one(tmp_path, nock)
    assert (e["status"], e["error"], e["output"], e["request_id"]) == ("error", "The provided model identifier is invalid.",
                                                                       None, "r-9")


def test_gemini_thinking_tokens_are_output_tokens(tmp_path):
    resp = {"candidates": [{"content": {"role": "model", "parts": [{"text": "plan", "thought": True},
                                                                    {"text": "AI is..."}]}, "finishReason": "STOP"}],
            "usageMetadata": {"promptTokenCount": 5, "candidatesTokenCount": 100, "thoughtsTokenCount": 120,
                              "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 5}]},
            "modelVersion": "gemini-2.5-flash", "responseId": "resp-1"}
    e, _ = one(tmp_path, vcr("https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent",
                             {"contents": [{"role": "user", "parts": [{"text": "What is AI?"}]}]}, resp,
                             headers={"Server-Timing": ["gfet4t7; dur=1234"]}))
    assert (e["output"], e["prompt_tokens"], e["completion_tokens"]) == ("AI is...", 5, 220)
    assert (e["model"], e["provider"], e["latency_ms"], e["request_id"]) == ("gemini-2.5-flash", "google", 1234.0, "resp-1")
    assert json.loads(e["input"])[0]["parts"][0]["text"] == "What is AI?"


def test_cohere_v2_and_mistral_and_azure(tmp_path):
    cohere = {"id": "c-1", "finish_reason": "COMPLETE", "message": {"role": "assistant", "content": [
        {"type": "text", "text": "Bonjour"}], "tool_calls": [{"id": "1", "type": "function",
                                                              "function": {"name": "translate", "arguments": "{}"}}]},
        "usage": {"billed_units": {"input_tokens": 5, "output_tokens": 2}, "tokens": {"input_tokens": 70,
                                                                                    "output_tokens": 2}}}
    e, _ = one(tmp_path, vcr("https://api.cohere.com/v2/chat", {"model": "command-r", "messages": []}, cohere))
    assert (e["provider"], e["model"], e["output"], e["tool_calls"], e["prompt_tokens"]) == (
        "cohere", "command-r", "Bonjour", ["translate"], 70)
    chat = {"id": "cmpl-1", "object": "chat.completion", "created": 1757759489, "model": "mistral-tiny",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "A joke."}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 11, "completion_tokens": 3}}
    e, _ = one(tmp_path, vcr("https://api.mistral.ai/v1/chat/completions", {"model": "mistral-tiny"}, chat), "m.json")
    assert (e["provider"], e["model"], e["output"]) == ("mistral", "mistral-tiny", "A joke.")
    azure = dict(chat, model=None)
    e, _ = one(tmp_path, vcr("https://acme.openai.azure.com/openai/deployments/gpt4o-prod/chat/completions?api-version=1",
                             {"messages": []}, azure), "a.json")
    assert (e["provider"], e["model"]) == ("azure", "gpt4o-prod")


def test_litellm_payloads_and_numeric_session(tmp_path):
    spend = {"request_id": "chatcmpl-1", "session_id": "1234567890", "call_type": "acompletion",
             "startTime": "2025-01-24 09:20:46.847371", "endTime": "2025-01-24 09:20:47.847371", "model": "gpt-4o",
             "user": "", "spend": 0.0002, "prompt_tokens": 10, "completion_tokens": 20, "custom_llm_provider": "openai",
             "messages": "{}", "response": "{}", "status": "failure", "metadata": "{}", "end_user": "u-7",
             "error_str": "boom"}
    e, r = one(tmp_path, spend)
    assert r.vendors == {"litellm": 1}
    assert (e["session_id"], e["user_id"], e["input"], e["output"]) == ("1234567890", "u-7", None, None)
    assert (e["status"], e["error"], e["latency_ms"], e["cost_usd"]) == ("error", "boom", 1000.0, 0.0002)


def test_sharegpt_one_entry_per_assistant_turn(tmp_path):
    rows = [{"id": "c1", "conversations": [{"from": "system", "value": "be nice"}, {"from": "human", "value": "hi"},
                                           {"from": "gpt", "value": "hello"}, {"from": "human", "value": "bye"},
                                           {"from": "gpt", "value": "ciao"}]},
            {"id": "c2", "conversations": [{"from": "human", "value": "q"}, {"from": "gpt", "value": "a"}]}]
    p = tmp_path / "sg.json"
    p.write_text(json.dumps(rows))
    t, r = ingest(str(p))
    got = [(e["request_id"], e["session_id"], e["input"], e["output"]) for e in t.to_pylist()]
    assert got == [("c1#1", "c1", "hi", "hello"), ("c1#2", "c1", "bye", "ciao"), ("c2#1", "c2", "q", "a")]


def test_langfuse_ingestion_batch_reads_every_event(tmp_path):
    batch = {"batch": [
        {"id": "e1", "type": "trace-create", "timestamp": "2025-01-22T15:31:28Z",
         "body": {"id": "tr-1", "name": "chat", "userId": "u1", "sessionId": "s1", "input": {"q": "Hello!"},
                  "output": {"content": "Hi there", "role": "assistant"}}},
        {"id": "e2", "type": "generation-create", "timestamp": "2025-01-22T15:31:28Z",
         "body": {"traceId": "tr-1", "id": "g1", "name": "llm", "startTime": "2025-01-22T15:31:28.000Z",
                  "model": "gpt-3.5-turbo", "usage": {"input": 10, "output": 20}}},
        {"id": "e3", "type": "generation-update", "timestamp": "2025-01-22T15:31:29Z",
         "body": {"traceId": "tr-1", "id": "g1", "endTime": "2025-01-22T15:31:29.500Z"}},
        {"id": "e4", "type": "span-create", "timestamp": "2025-01-22T15:31:29Z",
         "body": {"traceId": "tr-1", "id": "sp1", "name": "search", "parentObservationId": "g1",
                  "startTime": "2025-01-22T15:31:28.100Z", "endTime": "2025-01-22T15:31:28.200Z"}}],
        "metadata": {"sdk_name": "python"}}
    e, r = one(tmp_path, batch)
    assert r.vendors == {"langfuse_batch": 1}
    assert (e["trace_id"], e["user_id"], e["session_id"], e["model"]) == ("tr-1", "u1", "s1", "gpt-3.5-turbo")
    assert (e["output"], e["prompt_tokens"], e["completion_tokens"], e["latency_ms"]) == ("Hi there", 10, 20, 1500.0)
    assert json.loads(e["attributes"])["vendor_detail"]["span_count"] == 3


@pytest.mark.parametrize("url,provider,model", [
    ("https://bedrock-runtime.us-east-1.amazonaws.com/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/invoke",
     "bedrock", "anthropic.claude-3-5-sonnet-20240620-v1:0"),
    ("https://x.openai.azure.com/openai/deployments/dep-1/chat/completions", "azure", "dep-1"),
    ("https://aiplatform.googleapis.com/v1/projects/p/locations/l/publishers/google/models/gemini-pro:generateContent",
     "google", "gemini-pro"),
    ("not a url", None, None), (None, None, None),
])
def test_url_provider_and_model(url, provider, model):
    assert (provider_of_url(url), model_of_url(url)) == (provider, model)


@pytest.mark.parametrize("body", [None, "", "{", [], {"choices": "x"}, {"content": None, "type": "message"},
                                  {"candidates": [None]}, {"output": {"message": 3}}, {"message": {"content": 5}}])
def test_hostile_response_bodies(body):
    out = read_response(body)
    assert isinstance(out, dict)
    assert all(isinstance(t, str) for t in out.get("tool_calls", []))


def test_bedrock_invocation_logs_and_native_bodies(tmp_path):
    def log(i, model, out_body, err=None):
        rec = {"schemaType": "ModelInvocationLog", "schemaVersion": "1.0", "timestamp": f"2025-03-01T10:00:0{i}Z",
               "accountId": "123", "region": "us-east-1", "requestId": f"rq-{i}", "operation": "InvokeModel",
               "modelId": model, "input": {"inputContentType": "application/json", "inputTokenCount": 12,
                                           "inputBodyJson": {"inputText": f"question {i}"}},
               "output": {"outputContentType": "application/json", "outputTokenCount": 4, "outputBodyJson": out_body}}
        if err:
            rec["errorCode"] = err
        return rec
    rows = [log(1, "amazon.titan-text-express-v1", {"inputTextTokenCount": 12, "results": [
                {"tokenCount": 4, "outputText": "Titan says hi", "completionReason": "FINISH"}]}),
            log(2, "meta.llama3-8b-instruct-v1:0", {"generation": "Llama says hi", "prompt_token_count": 12,
                                                    "generation_token_count": 4, "stop_reason": "stop"}),
            log(3, "mistral.mistral-7b-instruct-v0:2", {"outputs": [{"text": "Mistral says hi", "stop_reason": "stop"}]}),
            log(4, "amazon.titan-text-express-v1", {"message": "Too many requests"}, err="ThrottlingException")]
    p = tmp_path / "bedrock.jsonl"
    p.write_text("\n".join(json.dumps(r) for r in rows))
    t, r = ingest(str(p))
    assert r.vendors == {"bedrock_logs": 1}
    got = [(e["request_id"], e["output"], e["prompt_tokens"], e["completion_tokens"], e["status"], e["error"])
           for e in t.to_pylist()]
    assert got == [("rq-1", "Titan says hi", 12, 4, "ok", None), ("rq-2", "Llama says hi", 12, 4, "ok", None),
                   ("rq-3", "Mistral says hi", 12, 4, "ok", None), ("rq-4", None, 12, 4, "error", "ThrottlingException")]
    assert t.to_pylist()[0]["input"] == "question 1" and t.to_pylist()[0]["provider"] == "bedrock"


def test_har_file_llm_calls_only(tmp_path):
    def entry(url, req, resp, status=200):
        return {"startedDateTime": "2025-05-01T10:00:00.000Z", "time": 812.5,
                "request": {"method": "POST", "url": url, "headers": [{"name": "content-type", "value": "json"}],
                            "postData": {"mimeType": "application/json", "text": json.dumps(req)}},
                "response": {"status": status, "statusText": "OK", "headers": [{"name": "x-request-id", "value": "rq-h"}],
                             "content": {"mimeType": "application/json", "text": json.dumps(resp)}}}
    har = {"log": {"version": "1.2", "entries": [
        entry("https://example.com/app.js", {}, {}),
        entry("https://api.anthropic.com/v1/messages", {"model": "claude-x", "messages": [{"role": "user", "content": "hi"}]},
              {"type": "message", "content": [{"type": "text", "text": "hello"}], "usage": {"input_tokens": 3,
                                                                                          "output_tokens": 1}})]}}
    e, r = one(tmp_path, har, "session.har.json")
    assert (e["provider"], e["output"], e["latency_ms"], e["request_id"]) == ("anthropic", "hello", 812.5, "rq-h")
    assert e["ts"].isoformat() == "2025-05-01T10:00:00+00:00"


def test_a_message_field_of_a_successful_unknown_api_is_no_error(tmp_path):
    rec = vcr("https://api.anthropic.com/v1/other", {"prompt": "x"}, {"message": "queued fine"})
    e, _ = one(tmp_path, rec)
    assert (e["status"], e["error"]) == ("ok", None)
    e, _ = one(tmp_path, vcr("https://api.anthropic.com/v1/messages", {}, {"type": "error", "error": {
        "type": "overloaded_error", "message": "Overloaded"}}, code=529), "e.json")
    assert (e["status"], e["error"], e["output"]) == ("error", "Overloaded", None)


GEMINI_URL = "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent"
GEMINI_REQ = {"contents": [{"role": "user", "parts": [{"text": "something it will not answer"}]}]}
RATINGS = [{"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": True},
           {"category": "HARM_CATEGORY_HARASSMENT", "probability": "NEGLIGIBLE"}]


def test_gemini_blocked_prompt_is_an_error_without_output(tmp_path):
    resp = {"promptFeedback": {"blockReason": "SAFETY", "safetyRatings": RATINGS},
            "usageMetadata": {"promptTokenCount": 8, "totalTokenCount": 8}, "modelVersion": "gemini-2.5-flash",
            "responseId": "resp-b1"}
    e, r = one(tmp_path, vcr(GEMINI_URL, GEMINI_REQ, resp, as_string=True))
    assert r.vendors == {"http_exchange": 1}
    assert (e["status"], e["error"], e["output"]) == ("error", "blocked: SAFETY", None)
    assert (e["model"], e["provider"], e["prompt_tokens"], e["request_id"]) == ("gemini-2.5-flash", "google", 8, "resp-b1")


def test_gemini_blocked_prompt_without_usage_is_still_read():
    read = read_response({"promptFeedback": {"blockReason": "BLOCKLIST",
                                             "blockReasonMessage": "The prompt contains blocked terms."}})
    assert (read["refused"], read["output"], read["shape_provider"]) == (
        "blocked: BLOCKLIST (The prompt contains blocked terms.)", None, "google")


@pytest.mark.parametrize("finish", ["SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII"])
def test_gemini_candidate_stopped_by_safety_is_an_error(tmp_path, finish):
    resp = {"candidates": [{"content": {"role": "model"}, "finishReason": finish, "index": 0,
                            "safetyRatings": RATINGS}],
            "usageMetadata": {"promptTokenCount": 6, "totalTokenCount": 6}, "modelVersion": "gemini-2.5-flash"}
    e, _ = one(tmp_path, vcr(GEMINI_URL, GEMINI_REQ, resp))
    assert (e["status"], e["error"], e["output"], e["prompt_tokens"]) == ("error", f"blocked: {finish}", None, 6)


@pytest.mark.parametrize("finish", ["STOP", "MAX_TOKENS", None])
def test_gemini_ordinary_finish_is_ok(tmp_path, finish):
    resp = {"candidates": [{"content": {"role": "model", "parts": [{"text": "An answer."}]}, "finishReason": finish}],
            "usageMetadata": {"promptTokenCount": 6, "candidatesTokenCount": 3}, "modelVersion": "gemini-2.5-flash"}
    e, _ = one(tmp_path, vcr(GEMINI_URL, GEMINI_REQ, resp))
    assert (e["status"], e["error"], e["output"]) == ("ok", None, "An answer.")


def test_gemini_stream_cut_by_safety_keeps_no_partial_output(tmp_path):
    chunks = [{"candidates": [{"content": {"role": "model", "parts": [{"text": "Step one is to"}]}}],
               "modelVersion": "gemini-2.5-flash", "responseId": "resp-s1"},
              {"candidates": [{"content": {"role": "model"}, "finishReason": "SAFETY", "safetyRatings": RATINGS}],
               "usageMetadata": {"promptTokenCount": 7, "candidatesTokenCount": 4}}]
    sse = "".join(f"data: {json.dumps(c)}\r\n\r\n" for c in chunks)
    blocked = "data: " + json.dumps({"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"},
                                     "usageMetadata": {"promptTokenCount": 9}, "modelVersion": "gemini-2.5-flash"})
    url = GEMINI_URL.replace(":generateContent", ":streamGenerateContent?alt=sse")
    e, _ = one(tmp_path, vcr(url, GEMINI_REQ, {"string": sse}))
    assert (e["status"], e["error"], e["output"], e["request_id"]) == ("error", "blocked: SAFETY", None, "resp-s1")
    e, _ = one(tmp_path, vcr(url, GEMINI_REQ, {"string": blocked + "\r\n\r\n"}), "b.json")
    assert (e["status"], e["error"], e["output"], e["prompt_tokens"]) == ("error", "blocked: PROHIBITED_CONTENT", None, 9)


def test_openai_content_filter_is_an_error(tmp_path):
    chat = {"id": "chatcmpl-f1", "object": "chat.completion", "created": 1740473775, "model": "gpt-4o-2024-08-06",
            "choices": [{"index": 0, "finish_reason": "content_filter", "message": {"role": "assistant", "content": None},
                         "content_filter_results": {"violence": {"filtered": True, "severity": "high"}}}],
            "usage": {"prompt_tokens": 21, "completion_tokens": 0}}
    e, r = one(tmp_path, vcr("https://acme.openai.azure.com/openai/deployments/gpt4o-prod/chat/completions?api-version=1",
                             {"messages": [{"role": "user", "content": "x"}]}, chat))
    assert r.vendors == {"http_exchange": 1}
    assert (e["provider"], e["status"], e["error"], e["output"], e["prompt_tokens"]) == (
        "azure", "error", "blocked: content_filter", None, 21)
    responses = {"id": "resp_1", "object": "response", "created_at": 1740473775, "model": "gpt-4.1", "status": "incomplete",
                 "incomplete_details": {"reason": "content_filter"}, "output": [],
                 "usage": {"input_tokens": 12, "output_tokens": 0}}
    e, _ = one(tmp_path, vcr("https://api.openai.com/v1/responses", {"input": "x"}, responses, as_string=True), "r.json")
    assert (e["status"], e["error"], e["output"], e["prompt_tokens"]) == ("error", "blocked: content_filter", None, 12)
    ok = dict(chat, choices=[dict(chat["choices"][0], finish_reason="stop", message={"role": "assistant", "content": "Hi"})])
    e, _ = one(tmp_path, vcr("https://acme.openai.azure.com/openai/deployments/d/chat/completions", {}, ok), "ok.json")
    assert (e["status"], e["error"], e["output"]) == ("ok", None, "Hi")


def test_anthropic_refusal_is_an_error(tmp_path):
    resp = {"id": "msg_r1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5", "content": [],
            "stop_reason": "refusal", "usage": {"input_tokens": 30, "output_tokens": 0}}
    e, _ = one(tmp_path, vcr("https://api.anthropic.com/v1/messages", {"model": "claude-sonnet-4-5", "messages": []},
                             resp, as_string=True))
    assert (e["status"], e["error"], e["output"], e["prompt_tokens"]) == ("error", "blocked: refusal", None, 30)
    batch = {"custom_id": "req-7", "result": {"type": "succeeded", "message": dict(resp, content=[
        {"type": "text", "text": "I can"}])}}
    e, r = one(tmp_path, batch, "batch.json")
    assert r.vendors == {"anthropic_batch": 1}
    assert (e["status"], e["error"], e["output"]) == ("error", "blocked: refusal", None)


def test_bedrock_content_filtered_and_blocking_guardrail_are_errors(tmp_path):
    url = "https://bedrock-runtime.us-east-1.amazonaws.com/model/amazon.nova-lite-v1%3A0/converse"
    req = {"messages": [{"role": "user", "content": [{"text": "x"}]}]}
    usage = {"inputTokens": 11, "outputTokens": 9, "totalTokens": 20}
    filtered = {"output": {"message": {"role": "assistant", "content": []}}, "stopReason": "content_filtered",
                "usage": usage, "metrics": {"latencyMs": 90}}
    e, _ = one(tmp_path, vcr(url, req, filtered))
    assert (e["status"], e["error"], e["output"], e["latency_ms"]) == ("error", "blocked: content_filtered", None, 90.0)
    blocked = {"output": {"message": {"role": "assistant", "content": [{"text": "Sorry, I cannot answer that."}]}},
               "stopReason": "guardrail_intervened", "usage": usage, "metrics": {"latencyMs": 120},
               "trace": {"guardrail": {"inputAssessment": {"g1": {"topicPolicy": {"topics": [
                   {"name": "Investments", "type": "DENY", "action": "BLOCKED"}]}}}}}}
    e, _ = one(tmp_path, vcr(url, req, blocked), "g.json")
    assert (e["status"], e["error"], e["output"]) == ("error", "blocked: guardrail_intervened", None)
    masked = dict(blocked, output={"message": {"role": "assistant", "content": [{"text": "{NAME} lives here."}]}},
                  trace={"guardrail": {"outputAssessments": {"g1": [{"sensitiveInformationPolicy": {"piiEntities": [
                      {"action": "ANONYMIZED", "match": "Ann", "type": "NAME"}]}}]}}})
    e, _ = one(tmp_path, vcr(url, req, masked), "m.json")
    assert (e["status"], e["error"], e["output"]) == ("ok", None, "{NAME} lives here.")
    untraced = {k: v for k, v in blocked.items() if k != "trace"}  # no trace: nothing says it blocked
    e, _ = one(tmp_path, vcr(url, req, untraced), "u.json")
    assert (e["status"], e["output"]) == ("ok", "Sorry, I cannot answer that.")


def test_bedrock_invocation_log_titan_content_filtered(tmp_path):
    rec = {"schemaType": "ModelInvocationLog", "timestamp": "2025-03-01T10:00:00Z", "requestId": "rq-f",
           "modelId": "amazon.titan-text-express-v1", "operation": "InvokeModel",
           "input": {"inputTokenCount": 12, "inputBodyJson": {"inputText": "x"}},
           "output": {"outputTokenCount": 0, "outputBodyJson": {"inputTextTokenCount": 12, "results": [
               {"tokenCount": 0, "outputText": "", "completionReason": "CONTENT_FILTERED"}]}}}
    e, r = one(tmp_path, rec, "b.json")
    assert r.vendors == {"bedrock_logs": 1}
    assert (e["status"], e["error"], e["output"], e["prompt_tokens"]) == ("error", "blocked: CONTENT_FILTERED", None, 12)
