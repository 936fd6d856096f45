"""Recorded streamed responses -> the one response object the same call would have returned unstreamed.

A `text/event-stream` transcript (`event: ...` / `data: {...}` blocks, `data: [DONE]` optional), a list of SSE
strings (nock's chunk arrays), a JSON array of chunks (Gemini streamGenerateContent) or JSON lines is assembled from:
OpenAI chat.completion.chunk deltas (text concatenated, tool-call deltas merged by index), OpenAI Responses API events
(`response.completed` taken whole, else output text / function-call deltas), Anthropic Messages events (message_start,
content_block_start/delta, message_delta with stop reason and usage), Gemini chunks (parts joined, last finish
reason and usage metadata), Cohere v2 chat events (content / tool-plan / tool-call deltas, message-end with finish
reason and usage; v1 `event_type` lines, whose stream-end holds the response) and Bedrock's ConverseStream and
InvokeModelWithResponseStream events (`streams_bedrock.py`; Bedrock's closing invocation metrics are kept), also as
the raw `application/vnd.amazon.eventstream` body (`eventstream.py`, base64, hex or latin-1 text; a bad frame leaves
the body as it is). The result has the provider's non-streamed shape, so the body readers read it unchanged; a stream
with an error event (or a failed Responses call, a Bedrock exception) becomes `{"error": ...}`, an error body.
"""
from __future__ import annotations

import json
from typing import Any

from .eventstream import text_events
from .streams_bedrock import converse, exception_of, is_converse, native, unwrap_chunks
from .streams_cohere import COHERE_EVENTS, COHERE_V1_EVENTS, cohere, cohere_v1

MAX_EVENTS = 100_000  # a stream longer than this is assembled from its first events (memory stays bounded)


def _d(v: Any) -> dict:
    return v if isinstance(v, dict) else {}


def _l(v: Any) -> list:
    return v if isinstance(v, list) else []


def looks_like_sse(s: str) -> bool:
    head = s.lstrip()[:200]
    return head.startswith(("data:", "event:", "id:", ":")) and "data:" in head


def sse_events(text: str) -> list[dict]:
    """The JSON payloads of an SSE transcript, in order (`[DONE]`, comments and non-JSON data are skipped). The
    `event:` name is kept as `_event` when the payload has no `type` of its own."""
    out: list[dict] = []
    name, data = None, []

    def flush() -> None:
        if data and len(out) < MAX_EVENTS:
            payload = "\n".join(data).strip()
            try:
                v = json.loads(payload) if payload and payload != "[DONE]" else None
            except ValueError:
                v = None
            if isinstance(v, dict):
                out.append(v if "type" in v or not name else {**v, "_event": name})
            elif isinstance(v, list):
                out.extend(x for x in v if isinstance(x, dict))
        data.clear()

    for line in text.replace("\r\n", "\n").split("\n"):
        if not line.strip():
            flush()
            name = None
        elif line.startswith("data:"):
            data.append(line[5:])
        elif line.startswith("event:"):
            if data:  # a new event without a blank line between
                flush()
            name = line[6:].strip()
    flush()
    return out


def ndjson_events(text: str) -> list[dict] | None:
    """The objects of a stream recorded as JSON lines (one event per line), None when a line is anything else."""
    if not text.lstrip().startswith("{") or "\n" not in text.strip():
        return None
    out = []
    for line in text.split("\n"):
        if line.strip() and len(out) < MAX_EVENTS:
            try:
                v = json.loads(line)
            except (ValueError, RecursionError):
                return None
            if not isinstance(v, dict):
                return None
            out.append(v)
    return out


def stream_kind(chunks: list[dict]) -> str | None:
    for c in chunks[:5]:
        t = str(c.get("type") or c.get("_event") or "")
        choices = _l(c.get("choices"))
        if c.get("object") == "chat.completion.chunk" or (choices and isinstance(_d(choices[0]).get("delta"), dict)):
            return "openai_chat"
        if t.startswith("response."):
            return "openai_responses"
        if t in ("message_start", "content_block_start", "content_block_delta", "message_delta", "ping"):
            return "anthropic"
        if isinstance(c.get("candidates"), list) or isinstance(c.get("usageMetadata"), dict):
            return "gemini"
        if t in COHERE_EVENTS:
            return "cohere"
        if c.get("event_type") in COHERE_V1_EVENTS:
            return "cohere_v1"
        if is_converse(c):
            return "bedrock_converse"
        if isinstance(c.get("chunk"), dict) and "bytes" in c["chunk"]:
            return "bedrock_chunks"
    return None


def _openai_chat(chunks: list[dict]) -> dict:
    text, calls, finish, usage, first = [], {}, None, None, {}
    for c in chunks:
        first = first or c
        usage = c.get("usage") if isinstance(c.get("usage"), dict) else usage
        for ch in _l(c.get("choices")):
            if _d(ch).get("index", 0) != 0:
                continue
            delta = _d(ch.get("delta"))
            if isinstance(delta.get("content"), str):
                text.append(delta["content"])
            for tc in _l(delta.get("tool_calls")):
                tc = _d(tc)
                slot = calls.setdefault(tc.get("index", len(calls)), {"id": None, "type": "function",
                                                                       "function": {"name": "", "arguments": ""}})
                slot["id"] = slot["id"] or tc.get("id")
                fn = _d(tc.get("function"))
                if isinstance(fn.get("name"), str):
                    slot["function"]["name"] += fn["name"]
                if isinstance(fn.get("arguments"), str):
                    slot["function"]["arguments"] += fn["arguments"]
            finish = ch.get("finish_reason") or finish
    msg: dict = {"role": "assistant", "content": "".join(text) if text else None}
    if calls:
        msg["tool_calls"] = [calls[k] for k in sorted(calls, key=str)]
    out = {"id": first.get("id"), "object": "chat.completion", "created": first.get("created"),
           "model": next((c.get("model") for c in chunks if c.get("model")), None),
           "choices": [{"index": 0, "message": msg, "finish_reason": finish}]}
    return {**out, "usage": usage} if usage else out


def _openai_responses(events: list[dict]) -> dict:
    done = [e for e in events if e.get("type") in ("response.completed", "response.incomplete", "response.failed")]
    if done and isinstance(done[-1].get("response"), dict):
        return done[-1]["response"]
    base = next((_d(e.get("response")) for e in events if isinstance(e.get("response"), dict)), {})
    text, items = [], {}
    for e in events:
        t = e.get("type")
        if t == "response.output_text.delta" and isinstance(e.get("delta"), str):
            text.append(e["delta"])
        elif t in ("response.output_item.added", "response.output_item.done") and _d(e.get("item")).get(
                "type") == "function_call":
            items.setdefault(e.get("output_index", len(items)), {}).update(
                {k: v for k, v in e["item"].items() if v not in (None, "")})
        elif t == "response.function_call_arguments.delta" and isinstance(e.get("delta"), str):
            it = items.setdefault(e.get("output_index", len(items)), {"type": "function_call"})
            it["arguments"] = it.get("arguments", "") + e["delta"]
    output = [{"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "".join(text)}]}
              ] if text else []
    output += [items[k] for k in sorted(items, key=str)]
    status = base.get("status") if base.get("status") not in (None, "in_progress", "queued") else "incomplete"
    return {**base, "object": "response", "output": output, "status": status}  # no completion event: cut short


def _anthropic(events: list[dict]) -> dict:
    msg: dict = {}
    blocks: dict = {}
    usage: dict = {}
    stop = None
    for e in events:
        t = e.get("type") or e.get("_event")
        if t == "message_start":
            msg = dict(_d(e.get("message")))
            usage.update({k: v for k, v in _d(msg.get("usage")).items() if v is not None})
        elif t == "content_block_start":
            blocks[e.get("index", len(blocks))] = dict(_d(e.get("content_block")))
        elif t == "content_block_delta":
            b = blocks.setdefault(e.get("index", 0), {"type": "text", "text": ""})
            d = _d(e.get("delta"))
            for kind, key in (("text_delta", "text"), ("thinking_delta", "thinking"), ("input_json_delta", "partial_json")):
                if d.get("type") == kind and isinstance(d.get(key), str):
                    b[key] = (b.get(key) or "") + d[key]
        elif t == "message_delta":
            stop = _d(e.get("delta")).get("stop_reason") or stop
            usage.update({k: v for k, v in _d(e.get("usage")).items() if v is not None})
        if isinstance(e.get("amazon-bedrock-invocationMetrics"), dict):  # Bedrock's timings, on message_stop
            msg["amazon-bedrock-invocationMetrics"] = e["amazon-bedrock-invocationMetrics"]
    content = []
    for k in sorted(blocks, key=str):
        b = blocks[k]
        if "partial_json" in b:
            try:
                b["input"] = json.loads(b.pop("partial_json") or "{}")
            except ValueError:
                pass
        content.append(b)
    return {**msg, "type": "message", "content": content, "stop_reason": stop or msg.get("stop_reason"),
            "usage": usage}


def _gemini(chunks: list[dict]) -> dict:
    parts, finish, usage, last = [], None, None, {}
    for c in chunks:
        last = {**last, **{k: v for k, v in c.items() if k in ("modelVersion", "responseId", "createTime",
                                                                "promptFeedback")}}
        usage = c.get("usageMetadata") if isinstance(c.get("usageMetadata"), dict) else usage
        cand = _d(_l(c.get("candidates"))[0]) if _l(c.get("candidates")) else {}
        finish = cand.get("finishReason") or finish
        for p in _l(_d(cand.get("content")).get("parts")):
            p = _d(p)
            if isinstance(p.get("text"), str) and parts and set(parts[-1]) == set(p) and "text" in parts[-1]:
                parts[-1] = {**parts[-1], "text": parts[-1]["text"] + p["text"]}  # text pieces of one part
            elif p:
                parts.append(dict(p))
    out = {**last, "candidates": [{"content": {"role": "model", "parts": parts}, "finishReason": finish}]}
    return {**out, "usageMetadata": usage} if usage else out


def _bedrock_chunks(events: list[dict]) -> dict | None:
    inner = unwrap_chunks(events)
    if not inner:
        return None
    kind = stream_kind(inner)
    return _ASSEMBLERS[kind](inner) if kind and kind != "bedrock_chunks" else native(inner)


_ASSEMBLERS = {"openai_chat": _openai_chat, "openai_responses": _openai_responses, "anthropic": _anthropic,
               "gemini": _gemini, "cohere": cohere, "cohere_v1": cohere_v1,
               "bedrock_converse": converse, "bedrock_chunks": _bedrock_chunks}


def assemble(body: Any) -> dict | None:
    """The assembled response of a recorded stream, or None when `body` is no stream this module knows."""
    if isinstance(body, list) and body and all(isinstance(x, str) for x in body):
        body = "".join(body)  # a stream recorded chunk by chunk
    if isinstance(body, str):
        if looks_like_sse(body):
            chunks = sse_events(body)
        else:  # a raw AWS event stream, or JSON lines of a known stream
            chunks = text_events(body) or ndjson_events(body)
            if not chunks or stream_kind(chunks) is None:
                return None
            chunks = chunks[:MAX_EVENTS]
    elif isinstance(body, list) and body and all(isinstance(x, dict) for x in body):
        chunks = body[:MAX_EVENTS]
    else:
        return None
    kind = stream_kind(chunks)
    failed = next((c for c in chunks if c.get("type") == "error" or isinstance(c.get("error"), dict)), None)
    if failed is not None and (kind or isinstance(body, str)):  # an error event: the call failed, whatever came before
        return {"error": failed.get("error") if isinstance(failed.get("error"), dict) else failed}
    if kind is None:
        return None
    if kind.startswith("bedrock") and exception_of(chunks):
        return exception_of(chunks)
    try:
        out = _ASSEMBLERS[kind](chunks)
    except (TypeError, ValueError, AttributeError, KeyError):  # an odd chunk (an unhashable index...): not a stream read
        return None
    if out is None:
        return None
    if out.get("status") == "failed" and isinstance(out.get("error"), dict):  # Responses API `response.failed`
        return {"error": out["error"]}
    return out
