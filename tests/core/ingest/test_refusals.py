"""Refusals read from what a body or span says (a model's own refusal message, a toxic-content stop, a safety finish
reason among a span's finish reasons): an error with "blocked: <reason>", never an ok answer."""
import json

from pipeline.core.ingest.engine import ingest
from pipeline.core.ingest.vendors.refusals import finish_refusal


def _rows(tmp_path, recs, name="x.jsonl"):
    p = tmp_path / name
    p.write_text("".join(json.dumps(r) + "\n" for r in recs))
    table, result = ingest(str(p))
    return table.to_pylist(), result


def _chat(i, message, finish="stop"):
    return {"id": f"chatcmpl-{i}", "object": "chat.completion", "created": 1733000000 + i, "model": "gpt-4o",
            "choices": [{"index": 0, "message": {"role": "assistant", **message}, "finish_reason": finish}],
            "usage": {"prompt_tokens": 5, "completion_tokens": 3}}


def test_openai_structured_output_refusal_is_an_error_with_the_words_shown(tmp_path):
    recs = [_chat(1, {"content": None, "refusal": "I'm sorry, I cannot help with that."}),
            _chat(2, {"content": "{\"ok\": true}", "refusal": None}),
            _chat(3, {"content": "fine", "refusal": ""}),
            {"id": "resp_4", "object": "response", "created_at": 1733000004, "model": "gpt-4o", "status": "completed",
             "output": [{"type": "message", "role": "assistant",
                         "content": [{"type": "refusal", "refusal": "I can't assist with that."}]}],
             "usage": {"input_tokens": 7, "output_tokens": 6}}]
    rows, result = _rows(tmp_path, recs)
    assert result.sources[0].vendor == "openai"
    got = [(r["status"], r["error"], r["output"]) for r in rows]
    assert got == [("error", "blocked: refusal", "I'm sorry, I cannot help with that."),
                   ("ok", None, '{"ok": true}'), ("ok", None, "fine"),
                   ("error", "blocked: refusal", "I can't assist with that.")]


def _exchange(uri, resp):
    return {"request": {"method": "POST", "uri": uri, "body": {"model": "m", "messages": []}},
            "response": {"status": {"code": 200, "message": "OK"},
                         "headers": {"Date": ["Tue, 25 Feb 2025 08:56:15 GMT"]}, "body": resp}}


def test_recorded_openai_refusal_and_cohere_toxic_stop_are_errors(tmp_path):
    refused = _chat(1, {"content": None, "refusal": "No."})
    toxic = {"id": "c-1", "finish_reason": "ERROR_TOXIC", "message": {"role": "assistant", "content": []},
             "usage": {"billed_units": {"input_tokens": 9, "output_tokens": 0}}}
    complete = dict(toxic, id="c-2", finish_reason="COMPLETE",
                    message={"role": "assistant", "content": [{"type": "text", "text": "Hello."}]})
    recs = [_exchange("https://api.openai.com/v1/chat/completions", refused),
            _exchange("https://api.cohere.com/v2/chat", toxic), _exchange("https://api.cohere.com/v2/chat", complete)]
    p = tmp_path / "cassette.json"
    p.write_text(json.dumps(recs))
    table, _ = ingest(str(p))
    got = [(r["provider"], r["status"], r["error"], r["output"]) for r in table.to_pylist()]
    assert got == [("openai", "error", "blocked: refusal", "No."), ("cohere", "error", "blocked: ERROR_TOXIC", None),
                   ("cohere", "ok", None, "Hello.")]


def _span(trace, span, parent, name, attrs, start):
    return {"name": name, "context": {"trace_id": trace, "span_id": span}, "parent_id": parent,
            "start_time": f"2025-03-01T10:00:0{start}.000000Z", "end_time": f"2025-03-01T10:00:0{start + 1}.000000Z",
            "status": {"status_code": "UNSET"}, "attributes": attrs}


def test_a_refusal_among_a_spans_finish_reasons_makes_the_trace_an_error(tmp_path):
    llm = {"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o", "gen_ai.usage.input_tokens": 10,
           "gen_ai.usage.output_tokens": 0}
    recs = [_span("t1", "a1", None, "agent", {"gen_ai.operation.name": "invoke_agent"}, 0),
            _span("t1", "a2", "a1", "chat gpt-4o", {**llm, "gen_ai.response.finish_reasons": ["content_filter"]}, 1),
            _span("t2", "b1", None, "agent", {"gen_ai.operation.name": "invoke_agent"}, 0),
            _span("t2", "b2", "b1", "chat gpt-4o", {**llm, "gen_ai.response.finish_reasons": '["stop"]'}, 1),
            _span("t3", "c1", None, "ai.generateText", {"ai.response.finishReason": "content-filter",
                                                         "gen_ai.request.model": "gpt-4o",
                                                         "gen_ai.usage.input_tokens": 3}, 0)]
    rows, _ = _rows(tmp_path, recs, "spans.jsonl")
    got = {r["trace_id"]: (r["status"], r["error"]) for r in rows}
    assert got == {"t1": ("error", "blocked: content_filter"), "t2": ("ok", None),
                   "t3": ("error", "blocked: content-filter")}


def test_datadog_llm_span_stopped_by_the_content_filter_is_an_error(tmp_path):
    def span(sid, reason):
        return {"trace_id": sid, "span_id": sid, "parent_id": 0, "name": "openai.request",
                "resource": "createChatCompletion", "service": "bot", "start": 1733000000000000000 + sid,
                "duration": 5_000_000, "error": 0,
                "meta": {"component": "openai", "openai.request.model": "gpt-4o",
                         "openai.response.choices.0.finish_reason": reason,
                         "openai.response.choices.0.message.content": "" if reason != "stop" else "Hi"},
                "metrics": {"openai.response.usage.prompt_tokens": 4, "openai.response.usage.completion_tokens": 1}}
    p = tmp_path / "apm.json"
    p.write_text(json.dumps([[span(1, "content_filter")], [span(2, "stop")]]))
    table, _ = ingest(str(p))
    got = sorted((r["status"], r["error"]) for r in table.to_pylist())
    assert got == [("error", "blocked: content_filter"), ("ok", None)]


def test_finish_refusal_reads_strings_lists_and_json_lists():
    assert finish_refusal("SAFETY") == "blocked: SAFETY"
    assert finish_refusal(["stop", "content_filter"]) == "blocked: content_filter"
    assert finish_refusal('["length", "content-filter"]') == "blocked: content-filter"
    assert finish_refusal(["stop", "length"]) is None
    assert finish_refusal(None) is None and finish_refusal(3) is None and finish_refusal("[not json") is None
