"""What a GenAI span says beyond its own content attributes: messages carried on its events, and the tools its LLM call
asked for in its output messages.

Events: the current semantic conventions' `gen_ai.client.inference.operation.details` event (attributes
`gen_ai.input.messages` / `gen_ai.output.messages`), the older `gen_ai.content.prompt` / `gen_ai.content.completion`
events (`gen_ai.prompt` / `gen_ai.completion`) and per-message events (`gen_ai.system.message`, `gen_ai.user.message`,
`gen_ai.assistant.message`, `gen_ai.tool.message`, `gen_ai.choice`) whose body is an attribute (`gen_ai.event.content`,
`content` or `message`, JSON text or plain text).

Requested tools: tool-call parts of `gen_ai.output.messages` (client `tool_call` and built-in `server_tool_call`),
`tool_calls` of output messages (also Datadog LLM Observability's `meta.output.messages`), OpenInference
`llm.output_messages.N.message.tool_calls.M.tool_call.function.name`
and OpenLLMetry `gen_ai.completion.N.tool_calls.M.name`, in message then call order.

OpenInference messages as a list (Phoenix dataframes: `llm.output_messages` = [{"message.role", "message.content",
"message.tool_calls": [{"tool_call.function.name"}]}], or nested {"message": {...}}) are read as plain messages.
"""
from __future__ import annotations

import re
from typing import Any

from .base import as_dict, as_list, decode_json, dig, first

_CONTENT_ATTRIBUTES = ("gen_ai.input.messages", "gen_ai.output.messages", "gen_ai.system_instructions", "gen_ai.prompt",
                       "gen_ai.completion")
_INPUT_EVENTS = {"gen_ai.system.message": "system", "gen_ai.user.message": "user",
                 "gen_ai.assistant.message": "assistant", "gen_ai.tool.message": "tool"}
_TOOL_PARTS = ("tool_call", "server_tool_call")
_INDEXED_TOOLS = (re.compile(r"^llm\.output_messages\.(\d+)\.message\.tool_calls\.(\d+)\.tool_call\.function\.name$"),
                  re.compile(r"^gen_ai\.completion\.(\d+)\.tool_calls\.(\d+)\.name$"))


def _strip(d: Any, prefix: str) -> dict:
    d = as_dict(d)
    nested = as_dict(d.get(prefix.rstrip(".")))
    flat = {k[len(prefix):]: v for k, v in d.items() if k.startswith(prefix)}
    return {**nested, **flat} or d


def openinference_messages(v: Any) -> list[dict] | None:
    """An OpenInference message list -> [{role, content, tool_calls: [{function: {name, arguments}}]}]."""
    v = decode_json(v)
    if not isinstance(v, list) or not v or not all(isinstance(m, dict) for m in v):
        return None
    out = []
    for m in v:
        msg = _strip(m, "message.")
        calls = [_strip(c, "tool_call.") for c in as_list(decode_json(msg.get("tool_calls")))]
        calls = [{"function": {"name": first(dig(c, "function", "name"), c.get("function.name")),
                               "arguments": first(dig(c, "function", "arguments"), c.get("function.arguments"))}}
                 for c in calls]
        plain = {k: msg[k] for k in ("role", "content", "contents", "name") if msg.get(k) is not None}
        out.append({**plain, **({"tool_calls": calls} if calls else {})})
    return out


def _event_body(attrs: dict) -> Any:
    body = first(attrs.get("gen_ai.event.content"), attrs.get("content"), attrs.get("message"))
    return decode_json(body)


def event_content(events: Any, attributes_of) -> dict:
    """Content attributes gathered from a span's events (`attributes_of` turns an event's attribute list into a dict);
    the span's own attributes are merged over them by the caller, so they win."""
    out: dict = {}
    inputs, outputs = [], []
    for ev in as_list(events):
        ev = as_dict(ev)
        attrs = attributes_of(ev.get("attributes"))
        for key in _CONTENT_ATTRIBUTES:
            if attrs.get(key) is not None:
                out.setdefault(key, attrs[key])
        name = ev.get("name")
        if name in _INPUT_EVENTS:
            body = _event_body(attrs)
            if body is not None:
                inputs.append(body if isinstance(body, dict) else {"role": _INPUT_EVENTS[name], "content": body})
        elif name == "gen_ai.choice":
            body = _event_body(attrs)
            msg = first(as_dict(body).get("message"), body) if isinstance(body, dict) else body
            if msg is not None:
                outputs.append(msg if isinstance(msg, dict) else {"role": "assistant", "content": msg})
    if inputs:
        out.setdefault("gen_ai.input.messages", inputs)
    if outputs:
        out.setdefault("gen_ai.output.messages", outputs)
    return out


def _messages(v: Any) -> list:
    """Output messages of a message list, one message, an OpenAI response ({choices}) or LangChain generations."""
    v = decode_json(v)
    if isinstance(v, dict) and isinstance(v.get("choices"), list):
        return [as_dict(c).get("message") for c in v["choices"]]
    if isinstance(v, dict) and isinstance(v.get("generations"), list):
        v = v["generations"]
    if isinstance(v, dict):
        return [v]
    return [x for item in as_list(v) for x in (item if isinstance(item, list) else [item])]


def tools_in_messages(messages: Any) -> list[str]:
    """Names of the tool calls in output messages: tool-call parts, or `tool_calls` ({function: {name}} or {name}),
    also in an OpenAI response, LangChain generations and serialized AIMessages (`kwargs.tool_calls`)."""
    names: list[str] = []
    for msg in _messages(messages):
        msg = as_dict(msg)
        for part in as_list(msg.get("parts")):
            if as_dict(part).get("type") in _TOOL_PARTS and isinstance(part.get("name"), str):
                names.append(part["name"])
        calls = first(msg.get("tool_calls"), dig(msg, "message", "tool_calls"), dig(msg, "kwargs", "tool_calls"),
                      dig(msg, "message", "kwargs", "tool_calls"))
        for call in as_list(calls):
            name = first(dig(call, "function", "name"), as_dict(call).get("name"))
            if isinstance(name, str):
                names.append(name)
    return names


def requested_tools(attrs: dict) -> list[str]:
    """Names of the tools an LLM call's output messages ask for, in message then call order."""
    names = tools_in_messages(attrs.get("gen_ai.output.messages")) or tools_in_messages(
        openinference_messages(attrs.get("llm.output_messages")))
    if names:
        return names
    indexed = []
    for key, value in attrs.items():
        for pattern in _INDEXED_TOOLS:
            m = pattern.match(key)
            if m and isinstance(value, str) and value:
                indexed.append((int(m.group(1)), int(m.group(2)), value))
    return [name for _, _, name in sorted(indexed)]
