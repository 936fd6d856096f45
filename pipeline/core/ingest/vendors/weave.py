"""W&B Weave call records (calls/stream_query rows, call start/end payloads) -> one entry per call.

Token usage and costs are keyed by model name (summary.usage.<model>), which a JSONPath cannot sum, so expand adds
their totals under `_derived`; everything else is read by the mapping.
"""
from __future__ import annotations

from .base import VendorAdapter, as_dict, first, sources, to_float, to_int
from ..mapping import FieldSource, Mapping


def _call(rec: dict) -> dict:
    """The call itself: a stored call, or /call/start + /call/end bodies (alone or side by side in one document)."""
    start = as_dict(first(as_dict(rec.get("call_start_request")).get("start"), rec.get("start")))
    end = as_dict(first(as_dict(rec.get("call_end_request")).get("end"), rec.get("end")))
    if not start and not end:
        return rec
    extra = {k: v for k, v in rec.items() if k not in ("call_start_request", "call_end_request", "start", "end")}
    return {**extra, **start, **{k: v for k, v in end.items() if v is not None}}


def _usage_totals(call: dict) -> dict:
    usage = {m: as_dict(u) for m, u in as_dict(as_dict(call.get("summary")).get("usage")).items()}
    costs = {m: as_dict(c) for m, c in as_dict(as_dict(as_dict(call.get("summary")).get("weave")).get("costs")).items()}

    def total(table: dict, *keys: str) -> float | None:
        vals = [to_float(row.get(k)) for row in table.values() for k in keys]
        vals = [v for v in vals if v is not None]
        return sum(vals) if vals else None

    prompt = total(usage, "prompt_tokens", "input_tokens")
    completion = total(usage, "completion_tokens", "output_tokens")
    # the model that served most requests (then most tokens) stands for the call
    model = max(usage, key=lambda m: (to_int(usage[m].get("requests")) or 0, to_int(usage[m].get("total_tokens")) or 0),
                default=None)
    return {
        "model": model,
        "prompt_tokens": to_int(prompt),
        "completion_tokens": to_int(completion),
        "cost_usd": total(costs, "prompt_tokens_total_cost", "completion_tokens_total_cost"),
        "models": len(usage),
        "status": first(as_dict(as_dict(call.get("summary")).get("weave")).get("status"),
                        "error" if call.get("exception") else None),
    }


def expand(rec: dict) -> list[dict]:
    call = _call(rec)
    return [{**call, "_derived": _usage_totals(call)}]


MAPPING = Mapping(
    {
        "ts": sources(("started_at",), transform="timestamp"),
        "request_id": sources(("id",)),
        "trace_id": sources(("trace_id",)),
        "session_id": sources(("thread_id",), ("attributes", "session_id"), ("attributes", "thread_id")),
        "user_id": sources(("attributes", "user_id"), ("wb_user_id",)),
        "service": sources(("project_id",)),
        "model": sources(("_derived", "model"), ("inputs", "model")),
        "version": sources(("attributes", "version")),
        "environment": sources(("attributes", "environment"), ("attributes", "env")),
        "input": sources(("inputs", "messages"), ("inputs", "prompt"), ("inputs",), transform="text"),
        "output": sources(("output", "choices", 0, "message", "content"), ("output",), transform="text"),
        "latency_ms": sources(("summary", "weave", "latency_ms"))
        + [FieldSource("$.started_at", "duration_ms", end_path="$.ended_at")],
        "prompt_tokens": sources(("_derived", "prompt_tokens")),
        "completion_tokens": sources(("_derived", "completion_tokens")),
        "cost_usd": sources(("_derived", "cost_usd")),
        "status": sources(("_derived", "status"), transform="status"),
        "error": sources(("exception",), transform="text"),
        "tool_calls": [FieldSource("$.output.choices[*].message.tool_calls[*].function.name")],
    }
)


def detect(rec: dict) -> float:
    call = _call(rec)
    if "op_name" in call and "project_id" in call:
        return 1.0 if any(k in call for k in ("started_at", "inputs", "summary", "trace_id")) else 0.6
    return 0.0


ADAPTER = VendorAdapter("weave", detect, MAPPING, expand)
