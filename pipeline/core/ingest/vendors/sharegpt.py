"""ShareGPT / FastChat conversation rows ({id, conversations: [{from, value}]}) and chat fine-tuning rows
({messages: [{role, content}]}) -> one entry per assistant turn, with the user turn before it as input."""
from __future__ import annotations

from .base import VendorAdapter, as_list, first, flat_mapping, ident

_USER = ("human", "user")
_ASSISTANT = ("gpt", "assistant", "bot", "model", "chatgpt", "bard")


def _turns(rec: dict) -> list[tuple[str, str]]:
    conv = rec.get("conversations") if "conversations" in rec else rec.get("messages")
    out = []
    for t in as_list(conv):
        if isinstance(t, dict):
            role = str(first(t.get("from"), t.get("role")) or "").lower()
            text = first(t.get("value"), t.get("content"))
            out.append((role, text if isinstance(text, str) else None))
    return out


def expand(rec: dict) -> list[dict]:
    conv_id = ident(first(rec.get("id"), rec.get("conversation_id")))
    out, last_user, n = [], None, 0
    for role, text in _turns(rec):
        if role in _USER:
            last_user = text
        elif role in _ASSISTANT:
            n += 1
            out.append({"request_id": f"{conv_id}#{n}" if conv_id else None, "session_id": conv_id,
                        "model": rec.get("model"), "input": last_user, "output": text, "status": "ok",
                        "vendor_detail": {"turn": n}})
            last_user = None
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
