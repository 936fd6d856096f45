"""Anthropic Message Batches results (JSONL: {custom_id, result: {type, message | error}}) -> one entry per line.

`succeeded` results carry a Messages API response (answer text, tool_use calls, usage); `errored`, `canceled` and
`expired` results are errors with their message. custom_id (the caller's join key) stays in attributes.
"""
from __future__ import annotations

from .base import VendorAdapter, as_dict, dig, first, flat_mapping
from .providers import read_response


def expand(rec: dict) -> list[dict]:
    result = as_dict(rec.get("result"))
    kind = str(result.get("type") or "")
    read = read_response(result.get("message")) if kind == "succeeded" else {}
    failed = kind != "succeeded" or read.get("refused") is not None
    return [{
        "request_id": read.get("request_id"),
        "model": read.get("model"),
        "provider": "anthropic",
        "output": None if failed else read.get("output"),
        "prompt_tokens": read.get("prompt_tokens"),
        "completion_tokens": read.get("completion_tokens"),
        "tool_calls": read.get("tool_calls") or [],
        "status": "error" if failed else "ok",
        "error": first(dig(result, "error", "error", "message"), dig(result, "error", "message"), read.get("refused"),
                       kind or "no result") if failed else None,
        "vendor_detail": {"custom_id": rec.get("custom_id"), "result_type": kind,
                          "finish_reason": read.get("finish_reason")},
    }]


def detect(rec: dict) -> float:
    result = rec.get("result")
    if "custom_id" in rec and isinstance(result, dict) and result.get("type") in ("succeeded", "errored", "canceled",
                                                                                   "expired"):
        return 1.0
    return 0.0


ADAPTER = VendorAdapter("anthropic_batch", detect, flat_mapping(), expand)
