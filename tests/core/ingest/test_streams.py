"""Recorded streamed responses are assembled into one answer: OpenAI chat chunks, Responses events, Anthropic
Messages events, Gemini chunk arrays / SSE; streams written for these tests, with adversarial ones."""
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.core.ingest.engine import ingest
from pipeline.core.ingest.vendors.providers import read_response
from pipeline.core.ingest.vendors.streams import assemble, sse_events


def sse(events, done=True, named=False, eol="\n"):
    out = ""
    for e in events:
        if named:
            out += f"event: {e.get('type', 'x')}{eol}"
        out += "data: " + json.dumps(e) + eol + eol
    return out + (f"data: [DONE]{eol}{eol}" if done else "")


def chat_chunk(delta, finish=None, **extra):
    return {"id": "chatcmpl-s1", "object": "chat.completion.chunk", "created": 1714550400, "model": "gpt-4o-mini",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}


def tool_delta(index, name=None, args=None, call_id=None):
    fn = {k: v for k, v in (("name", name), ("arguments", args)) if v is not None}
    return {"tool_calls": [{"index": index, **({"id": call_id} if call_id else {}), "function": fn}]}


CHAT = [chat_chunk({"role": "assistant", "content": ""}), chat_chunk({"content": "It is "}),
        chat_chunk(tool_delta(0, "get_weather", "", "call_a")), chat_chunk(tool_delta(1, "get_time", '{"tz":', "call_b")),
        chat_chunk(tool_delta(0, args='{"city": ')), chat_chunk(tool_delta(1, args=' "CET"}')),
        chat_chunk(tool_delta(0, args='"Paris"}')), chat_chunk({"content": "sunny"}, "tool_calls"),
        {**chat_chunk({}), "choices": [], "usage": {"prompt_tokens": 21, "completion_tokens": 13}}]


def test_openai_chat_chunks_with_interleaved_tool_call_deltas():
    body = assemble(sse(CHAT))
    msg = body["choices"][0]["message"]
    assert msg["content"] == "It is sunny" and body["choices"][0]["finish_reason"] == "tool_calls"
    assert [(c["id"], c["function"]["name"], json.loads(c["function"]["arguments"])) for c in msg["tool_calls"]] == [
        ("call_a", "get_weather", {"city": "Paris"}), ("call_b", "get_time", {"tz": "CET"})]
    r = read_response(sse(CHAT))
    assert (r["output"], r["tool_calls"], r["prompt_tokens"], r["completion_tokens"], r["model"]) == (
        "It is sunny", ["get_weather", "get_time"], 21, 13, "gpt-4o-mini")


def test_stream_without_done_crlf_and_garbage_lines():
    text = sse(CHAT[:2] + CHAT[-2:], done=False, eol="\r\n") + ": keep-alive\r\n\r\ndata: {broken\r\n\r\n"
    r = read_response(text)
    assert (r["output"], r["finish_reason"], r["prompt_tokens"]) == ("It is sunny", "tool_calls", 21)


def test_openai_responses_events_completed_and_cut_short():
    created = {"type": "response.created", "response": {"id": "resp_9", "object": "response", "model": "gpt-4.1",
                                                        "status": "in_progress", "output": []}}
    deltas = [{"type": "response.output_text.delta", "output_index": 0, "delta": d} for d in ("Bon", "jour")]
    call = [{"type": "response.output_item.added", "output_index": 1,
             "item": {"type": "function_call", "name": "lookup", "arguments": ""}},
            {"type": "response.function_call_arguments.delta", "output_index": 1, "delta": '{"q": 1}'}]
    done = {"type": "response.completed", "response": {
        "id": "resp_9", "object": "response", "model": "gpt-4.1", "status": "completed",
        "output": [{"type": "message", "content": [{"type": "output_text", "text": "Bonjour"}]},
                   {"type": "function_call", "name": "lookup", "arguments": '{"q": 1}'}],
        "usage": {"input_tokens": 5, "output_tokens": 2}}}
    whole = read_response(sse([created, *deltas, *call, done], named=True))
    assert (whole["output"], whole["tool_calls"], whole["prompt_tokens"], whole["finish_reason"]) == (
        "Bonjour", ["lookup"], 5, "completed")
    cut = read_response(sse([created, *deltas, *call], done=False, named=True))
    assert (cut["output"], cut["tool_calls"], cut["finish_reason"], cut["model"]) == (
        "Bonjour", ["lookup"], "incomplete", "gpt-4.1")


ANTHROPIC = [
    {"type": "message_start", "message": {"id": "msg_7", "type": "message", "role": "assistant", "content": [],
                                          "model": "claude-3-5-sonnet-20241022", "stop_reason": None,
                                          "usage": {"input_tokens": 25, "cache_read_input_tokens": 5, "output_tokens": 1}}},
    {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
    {"type": "ping"},
    {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Let me "}},
    {"type": "content_block_start", "index": 1, "content_block": {"type": "tool_use", "id": "tu", "name": "search",
                                                                  "input": {}}},
    {"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": '{"q": '}},
    {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "check."}},
    {"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": '"x"}'}},
    {"type": "message_delta", "delta": {"stop_reason": "tool_use"}, "usage": {"output_tokens": 15}},
    {"type": "message_stop"},
]


def test_anthropic_message_events():
    body = assemble(sse(ANTHROPIC, done=False, named=True))
    assert body["content"][1]["input"] == {"q": "x"}
    r = read_response(sse(ANTHROPIC, done=False, named=True))
    assert (r["output"], r["tool_calls"], r["finish_reason"], r["prompt_tokens"], r["completion_tokens"], r["model"]) == (
        "Let me check.", ["search"], "tool_use", 30, 15, "claude-3-5-sonnet-20241022")


GEMINI = [{"candidates": [{"content": {"role": "model", "parts": [{"text": "The "}]}}], "modelVersion": "gemini-2.0-flash",
           "responseId": "g1"},
          {"candidates": [{"content": {"role": "model", "parts": [{"functionCall": {"name": "lookup", "args": {}}}]}}]},
          {"candidates": [{"content": {"role": "model", "parts": [{"text": "answer"}]}, "finishReason": "STOP"}],
           "usageMetadata": {"promptTokenCount": 4, "candidatesTokenCount": 2, "thoughtsTokenCount": 3}}]


def test_gemini_chunk_array_and_sse_agree():
    for body in (json.dumps(GEMINI), sse(GEMINI, done=False), GEMINI):
        r = read_response(body)
        assert (r["output"], r["tool_calls"], r["finish_reason"], r["prompt_tokens"], r["completion_tokens"],
                r["model"], r["request_id"]) == ("The answer", ["lookup"], "STOP", 4, 5, "gemini-2.0-flash", "g1")


def test_not_a_stream_is_left_alone():
    assert assemble("data is not a stream") is None and assemble([{"role": "user", "content": "hi"}]) is None
    assert assemble("data: [DONE]\n\n") is None and sse_events("event: ping\n\n") == []
    assert read_response('{"choices": [{"message": {"content": "plain"}}]}')["output"] == "plain"


def test_cassette_with_streamed_bodies_end_to_end(tmp_path):
    recs = [
        {"request": {"method": "POST", "uri": "https://api.openai.com/v1/chat/completions",
                     "body": json.dumps({"model": "gpt-4o-mini", "stream": True, "messages": [{"role": "user", "content": "hi"}]})},
         "response": {"status": {"code": 200, "message": "OK"}, "headers": {"content-type": ["text/event-stream"]},
                      "body": {"string": sse(CHAT)}}},
        {"scope": "https://api.anthropic.com:443", "method": "POST", "path": "/v1/messages", "status": 200,
         "body": {"model": "claude-3-5-sonnet-20241022", "stream": True, "messages": []},
         "response": [c + "\n\n" for c in sse(ANTHROPIC, done=False, named=True).split("\n\n") if c]},  # nock chunks
    ]
    p = tmp_path / "cassette.jsonl"
    p.write_text("\n".join(json.dumps(r) for r in recs) + "\n")
    t, r = ingest(str(p))
    rows = t.to_pylist()
    assert r.sources[0].vendor == "http_exchange" and r.rows_rejected == 0
    assert [(e["provider"], e["output"], e["tool_calls"], e["prompt_tokens"], e["completion_tokens"]) for e in rows] == [
        ("openai", "It is sunny", ["get_weather", "get_time"], 21, 13),
        ("anthropic", "Let me check.", ["search"], 30, 15)]


@settings(max_examples=80, deadline=None)
@given(st.text(min_size=1, max_size=60), st.text(min_size=1, max_size=30), st.text(min_size=1, max_size=30),
       st.data())
def test_split_anywhere_reassembles(text, args0, args1, data):
    """Reference: the unsplit text and arguments. Any split into deltas, with two tool calls' argument pieces
    interleaved in any order, assembles back to them."""
    def pieces(s):
        cuts = sorted(data.draw(st.sets(st.integers(1, max(1, len(s) - 1)), max_size=5)))
        return [s[a:b] for a, b in zip([0, *cuts], [*cuts, len(s)]) if s[a:b]]

    events = [chat_chunk({"content": p}) for p in pieces(text)]
    events += [chat_chunk(tool_delta(0, "f0", "", "c0")), chat_chunk(tool_delta(1, "f1", "", "c1"))]
    calls = [chat_chunk(tool_delta(0, args=p)) for p in pieces(args0)]
    other = [chat_chunk(tool_delta(1, args=p)) for p in pieces(args1)]
    order = data.draw(st.permutations([0] * len(calls) + [1] * len(other)))
    it = {0: iter(calls), 1: iter(other)}
    events += [next(it[k]) for k in order]
    body = assemble(sse(events))
    msg = body["choices"][0]["message"]
    assert msg["content"] == text
    assert [c["function"]["arguments"] for c in msg["tool_calls"]] == [args0, args1]


def test_streams_in_records_no_adapter_reads(tmp_path):
    """Generic inference never reads a raw transcript or the first chunk alone: the stream is assembled first."""
    recs = [{"timestamp": f"2024-06-01T12:00:0{i}Z", "question": f"what now {i}?", "llm_output": sse(CHAT, done=i % 2 == 0)}
            for i in range(6)]
    recs += [{"timestamp": "2024-06-01T12:01:00Z", "question": "gemini?", "llm_output": json.dumps(GEMINI)}]
    p = tmp_path / "app.jsonl"
    p.write_text("\n".join(json.dumps(r) for r in recs) + "\n")
    t, r = ingest(str(p))
    rows = t.to_pylist()
    assert r.sources[0].vendor is None and r.rows_rejected == 0
    assert [(e["input"], e["output"], e["prompt_tokens"], e["tool_calls"]) for e in rows[:2]] == [
        ("what now 0?", "It is sunny", 21, ["get_weather", "get_time"])] * 1 + [
        ("what now 1?", "It is sunny", 21, ["get_weather", "get_time"])]
    assert rows[0]["model"] == "gpt-4o-mini"
    assert all("data:" not in (e["output"] or "") for e in rows)


def test_error_event_makes_the_call_an_error():
    from pipeline.core.ingest.vendors.exchange import expand

    overloaded = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    for body in (sse(ANTHROPIC[:4] + [overloaded], done=False, named=True),
                 sse(CHAT[:3] + [{"error": {"message": "Overloaded", "type": "server_error"}}], done=False),
                 sse([{"error": {"message": "Overloaded"}}], done=False)):
        assert read_response(body) == {}
        e = expand({"request": {"uri": "https://api.anthropic.com/v1/messages", "body": "{}"},
                    "response": {"status": {"code": 200}, "body": body}})[0]
        assert (e["status"], e["error"], e["output"]) == ("error", "Overloaded", None)


def test_odd_chunks_never_raise():
    odd = [chat_chunk({"tool_calls": [{"index": [1], "function": {"name": "x"}}]})]
    assert assemble(sse(odd)) is None
    assert assemble([{"type": "content_block_delta", "index": {"a": 1}, "delta": {"type": "text_delta", "text": "t"}}]) is None
    assert assemble(sse([{"type": "message_delta", "delta": None, "usage": None}])) == {
        "type": "message", "content": [], "stop_reason": None, "usage": {}}
