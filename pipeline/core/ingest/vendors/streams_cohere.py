"""Cohere chat streams -> the chat response the same call returns unstreamed (used by `streams.assemble`).

v1 (`/v1/chat`, JSON lines with `event_type`): `stream-end` carries the whole response, taken as it is; a stream cut
short is assembled from `stream-start` (generation id) and `text-generation` pieces.

Events (SSE `event:` / `data:` blocks or a list of objects, each with its `type`): `message-start` (id, role),
`content-start` / `content-delta` (`delta.message.content.text`, or `.thinking`), `tool-plan-delta`
(`delta.message.tool_plan`), `tool-call-start` / `tool-call-delta` (`delta.message.tool_calls` with id and
`function.name` / `function.arguments` pieces, by `index`), `message-end` (`delta.finish_reason`, `delta.usage`, or
`delta.error`, which makes the call an error). Citation and end events carry nothing the response needs.
"""
from __future__ import annotations

from typing import Any

COHERE_V1_EVENTS = ("stream-start", "text-generation", "tool-calls-generation", "tool-calls-chunk", "stream-end",
                    "search-queries-generation", "search-results", "citation-generation")
COHERE_EVENTS = ("message-start", "content-start", "content-delta", "content-end", "tool-plan-delta", "tool-call-start",
                 "tool-call-delta", "tool-call-end", "citation-start", "citation-end", "message-end")


def _d(v: Any) -> dict:
    return v if isinstance(v, dict) else {}


def cohere(events: list[dict]) -> dict:
    """Cohere v2 chat events -> a v2 chat response ({id, message: {content, tool_plan, tool_calls}, finish_reason,
    usage})."""
    rid, role, blocks, plan, calls, finish, usage = None, "assistant", {}, [], {}, None, None
    for e in events:
        t, d = e.get("type") or e.get("_event"), _d(e.get("delta"))
        m = _d(d.get("message"))
        if t == "message-start":
            rid, role = e.get("id") or rid, m.get("role") or role
        elif t in ("content-start", "content-delta"):
            c = _d(m.get("content"))
            b = blocks.setdefault(e.get("index", 0), {"type": c.get("type") or "text"})
            for key in ("text", "thinking"):
                if isinstance(c.get(key), str):
                    b[key] = b.get(key, "") + c[key]
        elif t == "tool-plan-delta" and isinstance(m.get("tool_plan"), str):
            plan.append(m["tool_plan"])
        elif t in ("tool-call-start", "tool-call-delta"):
            tc = _d(m.get("tool_calls"))
            slot = calls.setdefault(e.get("index", len(calls)), {"id": None, "type": "function",
                                                                  "function": {"name": "", "arguments": ""}})
            slot["id"] = slot["id"] or tc.get("id")
            fn = _d(tc.get("function"))
            for key in ("name", "arguments"):
                if isinstance(fn.get(key), str):
                    slot["function"][key] += fn[key]
        elif t == "message-end":
            if isinstance(d.get("error"), str) and d["error"]:
                return {"error": {"message": d["error"], "type": d.get("finish_reason")}}
            finish = d.get("finish_reason") or finish
            usage = d.get("usage") if isinstance(d.get("usage"), dict) else usage
    msg: dict = {"role": role, "content": [blocks[k] for k in sorted(blocks, key=str)]}
    if plan:
        msg["tool_plan"] = "".join(plan)
    if calls:
        msg["tool_calls"] = [calls[k] for k in sorted(calls, key=str)]
    out = {"id": rid, "message": msg, "finish_reason": finish}
    return {**out, "usage": usage} if usage else out


def cohere_v1(events: list[dict]) -> dict:
    """Cohere v1 chat events -> a v1 chat response ({text, generation_id, finish_reason, meta, tool_calls})."""
    end = next((e for e in reversed(events) if e.get("event_type") == "stream-end"), None)
    if end is not None and isinstance(end.get("response"), dict):
        return {"finish_reason": end.get("finish_reason"), **end["response"]}
    start = next((e for e in events if e.get("event_type") == "stream-start"), {})
    text = "".join(e["text"] for e in events if e.get("event_type") == "text-generation" and isinstance(e.get("text"),
                                                                                                         str))
    calls = next((e.get("tool_calls") for e in events if e.get("event_type") == "tool-calls-generation"), None)
    out = {"text": text, "generation_id": start.get("generation_id"),
           "finish_reason": end.get("finish_reason") if end else None}
    return {**out, "tool_calls": calls} if isinstance(calls, list) else out
