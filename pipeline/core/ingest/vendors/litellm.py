"""LiteLLM logging payloads -> one entry per call: StandardLoggingPayload (callbacks) and SpendLogs rows (proxy DB).

SpendLogs stores messages, response and metadata as JSON strings; times are naive "YYYY-MM-DD HH:MM:SS.ffffff" (UTC);
response_time is in seconds (of a streamed call: to its first token, so when it equals completionStartTime - startTime
the latency is end - start); status is "success" / "failure". completionStartTime (the first token's arrival) gives
the time to first token when it comes before the end (a call not streamed has it equal to endTime).
"""
from __future__ import annotations

from .base import VendorAdapter, as_dict, decode_json, epoch_us, first, flat_mapping, ident, iso_utc, to_float
from .providers import read_response


def _empty(v):
    return None if v in ({}, [], "", "{}", "[]", None) else v


def expand(rec: dict) -> list[dict]:
    meta = as_dict(decode_json(rec.get("metadata")))
    response = decode_json(rec.get("response"))
    read = read_response(response)
    start, end = epoch_us(rec.get("startTime")), epoch_us(rec.get("endTime"))
    first_token = epoch_us(rec.get("completionStartTime"))
    ttft = (first_token - start) / 1000.0 if None not in (start, end, first_token) and start <= first_token < end \
        else None
    whole = (end - start) / 1000.0 if None not in (start, end) else None
    seconds = to_float(rec.get("response_time"))
    if ttft is not None and seconds is not None and abs(seconds * 1000.0 - ttft) < 1.0:
        seconds = None  # a streamed call's response_time is its time to first token, not its latency
    failed = str(rec.get("status") or "").lower() in ("failure", "error", "failed") or read.get("refused") is not None
    # StandardLoggingPayload carries error_information itself; a SpendLogs row inside its metadata JSON
    error_info = as_dict(rec.get("error_information")) or as_dict(decode_json(meta.get("error_information")))
    return [{
        "ts": iso_utc(start),
        "request_id": ident(first(rec.get("id"), rec.get("request_id"))),
        "trace_id": ident(rec.get("trace_id")),
        "session_id": ident(first(rec.get("session_id"), meta.get("session_id"))),
        "user_id": first(_empty(rec.get("end_user")), _empty(rec.get("user")), meta.get("user_api_key_user_id")),
        "model": first(rec.get("model"), read.get("model")),
        "provider": first(rec.get("custom_llm_provider"), read.get("shape_provider")),
        "input": _empty(decode_json(rec.get("messages"))),
        "output": None if failed else first(read.get("output"), _empty(response) if isinstance(response, str) else None),
        "latency_ms": seconds * 1000.0 if seconds is not None else whole,
        "ttft_ms": ttft,
        "prompt_tokens": first(rec.get("prompt_tokens"), read.get("prompt_tokens")),
        "completion_tokens": first(rec.get("completion_tokens"), read.get("completion_tokens")),
        "cost_usd": to_float(first(rec.get("response_cost"), rec.get("spend"))),
        "status": "error" if failed else "ok",
        "error": first(error_info.get("error_message"), rec.get("error_str"), read.get("refused")) if failed else None,
        "tool_calls": read.get("tool_calls") or [],
        "vendor_detail": {k: v for k, v in (("call_type", rec.get("call_type")), ("model_group",
                          _empty(rec.get("model_group"))), ("cache_hit", rec.get("cache_hit")),
                          ("finish_reason", read.get("finish_reason"))) if v is not None},
    }]


def detect(rec: dict) -> float:
    if "call_type" in rec and "custom_llm_provider" in rec and ("response_cost" in rec or "spend" in rec):
        return 1.0
    return 0.0


ADAPTER = VendorAdapter("litellm", detect, flat_mapping(), expand)
