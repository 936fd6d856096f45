"""Recorded Cohere v2 chat streams and Bedrock ConverseStream / InvokeModelWithResponseStream streams (JSON events and
raw AWS event-stream bodies) assembled into the unstreamed response; streams written for these tests in the shapes
the vendors document, with corrupt and truncated frames that must stay undecoded."""
import base64
import json
import struct
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.core.ingest.engine import ingest
from pipeline.core.ingest.vendors.eventstream import events as decode_events
from pipeline.core.ingest.vendors.exchange import expand
from pipeline.core.ingest.vendors.providers import read_response
from pipeline.core.ingest.vendors.streams import assemble


def sse(events):
    return "".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in events)


COHERE = [
    {"id": "c0ffee-1", "type": "message-start", "delta": {"message": {"role": "assistant", "content": [],
                                                                      "tool_plan": "", "tool_calls": [], "citations": []}}},
    {"type": "tool-plan-delta", "delta": {"message": {"tool_plan": "I will look up "}}},
    {"type": "tool-plan-delta", "delta": {"message": {"tool_plan": "the weather."}}},
    {"type": "tool-call-start", "index": 0, "delta": {"message": {"tool_calls": {
        "id": "get_weather_1", "type": "function", "function": {"name": "get_weather", "arguments": ""}}}}},
    {"type": "tool-call-delta", "index": 0, "delta": {"message": {"tool_calls": {"function": {"arguments": '{"city": '}}}}},
    {"type": "tool-call-delta", "index": 0, "delta": {"message": {"tool_calls": {"function": {"arguments": '"Oslo"}'}}}}},
    {"type": "tool-call-end", "index": 0},
    {"type": "tool-call-start", "index": 1, "delta": {"message": {"tool_calls": {
        "id": "get_time_2", "type": "function", "function": {"name": "get_time", "arguments": "{}"}}}}},
    {"type": "tool-call-end", "index": 1},
    {"type": "message-end", "delta": {"finish_reason": "TOOL_CALL", "usage": {
        "billed_units": {"input_tokens": 30, "output_tokens": 12}, "tokens": {"input_tokens": 410, "output_tokens": 12}}}},
]
COHERE_TEXT = [
    {"id": "c0ffee-2", "type": "message-start", "delta": {"message": {"role": "assistant"}}},
    {"type": "content-start", "index": 0, "delta": {"message": {"content": {"type": "text", "text": ""}}}},
    {"type": "content-delta", "index": 0, "delta": {"message": {"content": {"text": "Oslo is "}}}},
    {"type": "content-delta", "index": 0, "delta": {"message": {"content": {"text": "sunny."}}}},
    {"type": "content-end", "index": 0},
    {"type": "message-end", "delta": {"finish_reason": "COMPLETE", "usage": {"tokens": {"input_tokens": 50,
                                                                                       "output_tokens": 4}}}},
]


def test_cohere_tool_calls_and_text():
    body = assemble(sse(COHERE))
    assert body["message"]["tool_plan"] == "I will look up the weather."
    assert [(c["id"], c["function"]["name"], json.loads(c["function"]["arguments"])) for c in
            body["message"]["tool_calls"]] == [("get_weather_1", "get_weather", {"city": "Oslo"}),
                                                 ("get_time_2", "get_time", {})]
    r = read_response(sse(COHERE))
    assert (r["tool_calls"], r["finish_reason"], r["prompt_tokens"], r["completion_tokens"], r["request_id"]) == (
        ["get_weather", "get_time"], "TOOL_CALL", 410, 12, "c0ffee-1")
    ndjson = "\n".join(json.dumps(e) for e in COHERE_TEXT) + "\n"  # the body as JSON lines, one event a line
    for recorded in (sse(COHERE_TEXT), COHERE_TEXT, json.dumps(COHERE_TEXT), ndjson):
        r = read_response(recorded)
        assert (r["output"], r["finish_reason"], r["prompt_tokens"], r["completion_tokens"], r["tool_calls"]) == (
            "Oslo is sunny.", "COMPLETE", 50, 4, [])


def test_json_lines_of_no_known_stream_stay_text():
    text = '{"a": 1}\n{"b": 2}\n'
    assert assemble(text) is None and read_response(text) == {}
    assert assemble('{"type": "content-delta"}\nnot json\n') is None


def test_cohere_error_end_makes_the_call_an_error():
    failed = COHERE_TEXT[:3] + [{"type": "message-end", "delta": {"finish_reason": "ERROR", "error": "internal error"}}]
    assert read_response(sse(failed)) == {}
    e = expand({"request": {"uri": "https://api.cohere.com/v2/chat", "body": "{}"},
                "response": {"status": {"code": 200}, "body": sse(failed)}})[0]
    assert (e["status"], e["error"], e["output"], e["provider"]) == ("error", "internal error", None, "cohere")


CONVERSE = [
    {"messageStart": {"role": "assistant"}},
    {"contentBlockDelta": {"delta": {"text": "Let me "}, "contentBlockIndex": 0}},
    {"contentBlockDelta": {"delta": {"text": "check."}, "contentBlockIndex": 0}},
    {"contentBlockStop": {"contentBlockIndex": 0}},
    {"contentBlockStart": {"start": {"toolUse": {"toolUseId": "tooluse_1", "name": "get_weather"}},
                           "contentBlockIndex": 1}},
    {"contentBlockDelta": {"delta": {"toolUse": {"input": '{"city": "Li'}}, "contentBlockIndex": 1}},
    {"contentBlockDelta": {"delta": {"toolUse": {"input": 'ma"}'}}, "contentBlockIndex": 1}},
    {"contentBlockStop": {"contentBlockIndex": 1}},
    {"messageStop": {"stopReason": "tool_use"}},
    {"metadata": {"usage": {"inputTokens": 88, "outputTokens": 21, "totalTokens": 109}, "metrics": {"latencyMs": 912}}},
]


def test_converse_stream_events():
    body = assemble(CONVERSE)
    assert body["output"]["message"]["content"][1] == {"toolUse": {"toolUseId": "tooluse_1", "name": "get_weather",
                                                                   "input": {"city": "Lima"}}}
    r = read_response(json.dumps(CONVERSE))
    assert (r["output"], r["tool_calls"], r["finish_reason"], r["prompt_tokens"], r["completion_tokens"],
            r["latency_ms"]) == ("Let me check.", ["get_weather"], "tool_use", 88, 21, 912)


def frame(headers: dict, payload: bytes) -> bytes:
    """One AWS event-stream message (string headers), written from the documented framing."""
    hb = b"".join(bytes([len(k)]) + k.encode() + b"\x07" + struct.pack(">H", len(v.encode())) + v.encode()
                  for k, v in headers.items())
    prelude = struct.pack(">II", 16 + len(hb) + len(payload), len(hb))
    prelude += struct.pack(">I", zlib.crc32(prelude))
    msg = prelude + hb + payload
    return msg + struct.pack(">I", zlib.crc32(msg))


def event_frame(name: str, payload: dict, kind: str = "event") -> bytes:
    key = ":exception-type" if kind == "exception" else ":event-type"
    return frame({key: name, ":content-type": "application/json", ":message-type": kind},
                 json.dumps({**payload, "p": "abcdefgh"}).encode())  # Bedrock pads payloads with a "p" field


def binary(events) -> bytes:
    return b"".join(event_frame(*next(iter(e.items()))) for e in events)


def encodings(data: bytes) -> list[str]:
    return [base64.b64encode(data).decode(), data.decode("latin-1"), data.hex()]


def test_raw_event_stream_bodies_base64_latin1_hex():
    data = binary(CONVERSE)
    for body in encodings(data):
        r = read_response(body)
        assert (r["output"], r["tool_calls"], r["finish_reason"], r["prompt_tokens"], r["latency_ms"]) == (
            "Let me check.", ["get_weather"], "tool_use", 88, 912)


def test_corrupt_or_truncated_frames_stay_undecoded():
    data = binary(CONVERSE)
    flipped = data[:40] + bytes([data[40] ^ 1]) + data[41:]
    bad_prelude = data[:3] + bytes([data[3] ^ 0x10]) + data[4:]
    for broken in (flipped, bad_prelude, data[:-3], data[: len(data) // 2]):
        assert decode_events(broken) is None
        for body in encodings(broken):
            assert assemble(body) is None and read_response(body) == {}
            e = expand({"request": {"uri": "https://bedrock-runtime.us-east-1.amazonaws.com/model/m/converse-stream",
                                    "body": "{}"}, "response": {"status": {"code": 200}, "body": body}})[0]
            assert e["output"] is None and e["prompt_tokens"] is None and e["tool_calls"] == []


def test_exception_events_make_the_call_an_error():
    throttled = {"throttlingException": {"message": "Too many requests, please wait before trying again."}}
    for body in (CONVERSE[:3] + [throttled], base64.b64encode(binary(CONVERSE[:3]) + event_frame(
            "throttlingException", throttled["throttlingException"], "exception")).decode()):
        assert assemble(body) == {"error": {"type": "throttlingException",
                                            "message": "Too many requests, please wait before trying again."}}
        e = expand({"request": {"uri": "https://bedrock-runtime.us-east-1.amazonaws.com/model/m/converse-stream",
                                "body": "{}"}, "response": {"status": {"code": 200}, "body": body}})[0]
        assert (e["status"], e["error"], e["output"]) == ("error", "Too many requests, please wait before trying again.",
                                                          None)
    error_frame = frame({":message-type": "error", ":error-code": "InternalFailure", ":error-message": "boom"}, b"")
    assert assemble(base64.b64encode(binary(CONVERSE[:2]) + error_frame).decode()) == {
        "error": {"code": "InternalFailure", "message": "boom"}}


CLAUDE = [
    {"type": "message_start", "message": {"id": "msg_bdrk_1", "type": "message", "role": "assistant", "content": [],
                                          "model": "claude-3-5-sonnet-20240620", "usage": {"input_tokens": 17,
                                                                                           "output_tokens": 1}}},
    {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
    {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hello there"}},
    {"type": "content_block_stop", "index": 0},
    {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 3}},
    {"type": "message_stop", "amazon-bedrock-invocationMetrics": {"inputTokenCount": 17, "outputTokenCount": 3,
                                                                  "invocationLatency": 420, "firstByteLatency": 300}},
]
LLAMA = [{"generation": "Hi", "prompt_token_count": 9, "generation_token_count": 1, "stop_reason": None},
         {"generation": " you", "prompt_token_count": None, "generation_token_count": 2, "stop_reason": "stop",
          "amazon-bedrock-invocationMetrics": {"inputTokenCount": 9, "outputTokenCount": 2}}]


def chunks(inner):
    return [{"chunk": {"bytes": base64.b64encode(json.dumps(c).encode()).decode()}} for c in inner]


def test_invoke_model_with_response_stream_chunks():
    for recorded in (chunks(CLAUDE), base64.b64encode(binary(chunks(CLAUDE))).decode()):
        r = read_response(recorded)
        assert (r["output"], r["finish_reason"], r["prompt_tokens"], r["completion_tokens"], r["model"]) == (
            "Hello there", "end_turn", 17, 3, "claude-3-5-sonnet-20240620")
    r = read_response(chunks(LLAMA))
    assert (r["output"], r["finish_reason"], r["prompt_tokens"], r["completion_tokens"]) == ("Hi you", "stop", 9, 2)
    assert assemble([{"chunk": {"bytes": "not base64!"}}]) is None


def test_nock_and_yaml_cassettes_end_to_end(tmp_path):
    url = "https://bedrock-runtime.us-east-1.amazonaws.com:443"
    nock = [{"scope": url, "method": "POST", "path": "/model/amazon.nova-lite-v1%3A0/converse-stream", "status": 200,
             "body": {"messages": [{"role": "user", "content": [{"text": "Weather in Lima?"}]}]},
             "response": binary(CONVERSE).hex(), "responseIsBinary": True,
             "rawHeaders": ["Content-Type", "application/vnd.amazon.eventstream"]}]
    (tmp_path / "nock.json").write_text(json.dumps(nock))
    b64 = base64.b64encode(binary(chunks(CLAUDE))).decode()
    (tmp_path / "cassette.yaml").write_text(
        "interactions:\n- request:\n    method: POST\n    uri: https://bedrock-runtime.us-east-1.amazonaws.com/model/"
        "anthropic.claude-3-5-sonnet-20240620-v1%3A0/invoke-with-response-stream\n    body: '{\"messages\": []}'\n"
        "  response:\n    status: {code: 200, message: OK}\n    headers:\n      Content-Type:\n"
        "      - application/vnd.amazon.eventstream\n    body:\n      string: !!binary |\n        " + b64 + "\n")
    t, r = ingest(str(tmp_path))
    rows = sorted(t.to_pylist(), key=lambda e: e["source"])
    assert r.rows_rejected == 0
    assert [(e["provider"], e["model"], e["output"], e["tool_calls"], e["prompt_tokens"], e["completion_tokens"],
             e["status"]) for e in rows] == [
        ("bedrock", "claude-3-5-sonnet-20240620", "Hello there", [], 17, 3, "ok"),
        ("bedrock", "amazon.nova-lite-v1:0", "Let me check.", ["get_weather"], 88, 21, "ok")]


_names = st.text("abcdefghijklmnopqrstuvwxyz:-", min_size=1, max_size=20)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(_names, st.dictionaries(st.text(max_size=8), st.text(max_size=30), max_size=4)),
                min_size=1, max_size=6), st.data())
def test_frames_agree_with_botocore_and_any_damage_is_refused(evs, data):
    """Reference: botocore's own event-stream parser. Any one flipped bit, or a cut inside a frame, leaves the body
    undecoded; a cut between frames leaves whole, verified frames (nothing in the framing can tell it from the end)."""
    eventstream = pytest.importorskip("botocore.eventstream")
    raw = b"".join(frame({":event-type": n, ":message-type": "event"}, json.dumps(p).encode()) for n, p in evs)
    buf = eventstream.EventStreamBuffer()
    buf.add_data(raw)
    ref = [{m.headers[":event-type"]: json.loads(m.payload)} for m in buf]
    assert decode_events(raw) == ref == [{n: p} for n, p in evs]
    i = data.draw(st.integers(0, len(raw) - 1))
    bit = data.draw(st.integers(0, 7))
    assert decode_events(raw[:i] + bytes([raw[i] ^ (1 << bit)]) + raw[i + 1:]) is None
    ends = {len(b"".join(frame({":event-type": n, ":message-type": "event"}, json.dumps(p).encode())
                         for n, p in evs[:k])): k for k in range(1, len(evs))}
    if i in ends:  # cut exactly between frames: what is there is whole and verified, the first events
        assert decode_events(raw[:i]) == ref[: ends[i]]
    else:  # cut inside a frame (or nothing left): refused
        assert decode_events(raw[:i]) is None


def test_streams_in_records_no_adapter_reads(tmp_path):
    """Generic inference reads the assembled answer, never the transcript or the base64 frames."""
    recs = [{"timestamp": f"2024-06-01T12:00:0{i}Z", "question": f"q{i}",
             "llm_output": sse(COHERE_TEXT) if i % 2 else base64.b64encode(binary(CONVERSE)).decode()}
            for i in range(6)]
    p = tmp_path / "app.jsonl"
    p.write_text("\n".join(json.dumps(r) for r in recs) + "\n")
    t, r = ingest(str(p))
    rows = t.to_pylist()
    assert r.rows_rejected == 0
    assert [(e["input"], e["output"]) for e in rows[:2]] == [("q0", "Let me check."), ("q1", "Oslo is sunny.")]
