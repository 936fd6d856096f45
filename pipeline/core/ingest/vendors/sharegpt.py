"""ShareGPT / FastChat conversation rows ({id, conversations: [{from, value}]}) and chat fine-tuning rows
({messages: [{role, content}]}) -> one entry per assistant turn, with the user turn it answers as input.

Content may be text or a list of parts (`[{type: text, text}]`). The tools an assistant turn called are read from what
it did: OpenAI-style `tool_calls` / `function_call`, a `function_call` turn (LLaMA-Factory's ShareGPT tool format:
`{"name": ..., "arguments": ...}` as its value) and Hermes' `<tool_call>{"name": ...}</tool_call>` markup. A tool's
result (`tool`, `observation`, `function`...) does not end the user's request: the assistant turn after it answers
the same user turn; a second assistant turn straight after another has no user turn of its own (input empty).
"""
from __future__ import annotations

import json
import re
from typing import Any

from .base import VendorAdapter, as_dict, as_list, dig, first, flat_mapping, ident

_USER = ("human", "user")
_ASSISTANT = ("gpt", "assistant", "bot", "model", "chatgpt", "bard")
_CALL = ("function_call", "tool_call")  # a turn that is the assistant's call of a tool
_TOOL = ("tool", "observation", "function", "function_response", "tool_response", "ipython")
_HERMES_CALL = re.compile(r"<tool_call>\s*(\{.*?\})\s*</tool_call>", re.S)


def _text(v: Any) -> str | None:
    if isinstance(v, str):
        return v
    parts = [p.get("text") for p in as_list(v) if isinstance(p, dict) and isinstance(p.get("text"), str)
             and p.get("type", "text") in ("text", "input_text", "output_text")]
    return "".join(parts) if parts else None


def _name_in(raw: Any) -> str | None:
    """The tool name of a call written as JSON text ({"name": ...})."""
    try:
        v = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return None
    name = as_dict(v).get("name")
    return name if isinstance(name, str) and name else None


def _calls(turn: dict, role: str, text: str | None) -> list[str]:
    names = [dig(c, "function", "name") for c in as_list(turn.get("tool_calls"))]
    names.append(dig(turn, "function_call", "name"))
    if role in _CALL:
        names.append(_name_in(text))
    elif text and "<tool_call>" in text:
        names += [_name_in(m) for m in _HERMES_CALL.findall(text)]
    return [n for n in names if isinstance(n, str) and n]


def _turns(rec: dict) -> list[tuple[str, dict]]:
    conv = rec.get("conversations") if "conversations" in rec else rec.get("messages")
    return [(str(first(t.get("from"), t.get("role")) or "").lower(), t) for t in as_list(conv) if isinstance(t, dict)]


def expand(rec: dict) -> list[dict]:
    conv_id = ident(first(rec.get("id"), rec.get("conversation_id")))
    out, asked, pending, n = [], None, None, 0
    for role, turn in _turns(rec):
        text = _text(first(turn.get("value"), turn.get("content")))
        if role in _USER:
            asked = pending = text
        elif role in _TOOL:
            pending = asked  # the next assistant turn still answers the user's request
        elif role in _ASSISTANT or role in _CALL:
            n += 1
            calls = _calls(turn, role, text)
            out.append({"request_id": f"{conv_id}#{n}" if conv_id else None, "session_id": conv_id,
                        "model": rec.get("model"), "input": pending, "output": None if role in _CALL else text,
                        "tool_calls": calls, "status": "ok", "vendor_detail": {"turn": n}})
            pending = None
    return out or [{"session_id": conv_id, "vendor_detail": {"reason": "no assistant turn"}}]


# a record holding any of these is a logged call (its answer is here), not a dataset conversation
_RESPONSE_KEYS = ("response", "output", "outputs", "choices", "completion", "answer", "result", "usage")


def detect(rec: dict) -> float:
    turns = as_list(rec.get("conversations"))
    if turns and all(isinstance(t, dict) and "from" in t and "value" in t for t in turns[:4]):
        return 1.0
    msgs = as_list(rec.get("messages"))
    if msgs and all(isinstance(m, dict) and "role" in m and "content" in m for m in msgs) and \
            str(msgs[-1].get("role")).lower() in _ASSISTANT and not any(k in rec for k in _RESPONSE_KEYS):
        return 0.9  # a chat dataset row (fine-tuning format): the conversation ends with the answer
    return 0.0


ADAPTER = VendorAdapter("sharegpt", detect, flat_mapping(), expand)
