"""W&B Weave call records (calls/stream_query rows, call start/end payloads) -> one entry per trace.

Calls are spans: the calls of one trace (an op and the LLM calls it made) are grouped by the ingest trace stage, so a
parent op whose summary repeats its children's usage is not counted twice. Token usage and costs are keyed by model
name (summary.usage.<model>) and summed per call.
"""
from __future__ import annotations

from .base import VendorAdapter, as_dict, dig, epoch_us, first, flat_mapping, ident, to_float, to_int
from .genai_content import tools_in_messages
from .spans import Span, trace_entry


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


def _kind(call: dict, totals: dict) -> str:
    kind = str(dig(call, "attributes", "weave", "kind") or "").lower()
    if kind in ("tool", "llm"):
        return kind
    return "llm" if totals["prompt_tokens"] is not None or totals["completion_tokens"] is not None else "other"


def call_span(call: dict) -> Span:
    """One call as a span; a parent op's summary repeats its children's usage, so the trace stage counts leaf calls."""
    totals = _usage_totals(call)
    inputs, output = as_dict(call.get("inputs")), call.get("output")
    status = str(totals["status"] or "").lower()
    failed = status == "error" or bool(call.get("exception"))
    return Span(
        span_id=call.get("id"), parent_id=call.get("parent_id"), name=call.get("op_name"), kind=_kind(call, totals),
        start_us=epoch_us(call.get("started_at")), end_us=epoch_us(call.get("ended_at")),
        input=first(inputs.get("messages"), inputs.get("prompt"), call.get("inputs")),
        output=first(dig(output, "choices", 0, "message", "content"), output),
        model=first(totals["model"], inputs.get("model")), prompt_tokens=totals["prompt_tokens"],
        completion_tokens=totals["completion_tokens"], cost_usd=totals["cost_usd"], failed=failed,
        error=first(call.get("exception"), "error") if failed else None,
        tool_name=call.get("op_name") if _kind(call, totals) == "tool" else None,
        requested_tools=tools_in_messages(output),
        session_id=first(call.get("thread_id"), dig(call, "attributes", "session_id"),
                         dig(call, "attributes", "thread_id")),
        user_id=first(dig(call, "attributes", "user_id"), call.get("wb_user_id")), service=call.get("project_id"),
        version=dig(call, "attributes", "version"),
        environment=first(dig(call, "attributes", "environment"), dig(call, "attributes", "env")),
        detail={k: v for k, v in (("op_name", call.get("op_name")), ("models", totals["models"] or None)) if v},
    )


def _trace_key(call: dict) -> str | None:
    return ident(first(call.get("trace_id"), call.get("id")))


def spans(rec: dict) -> list:
    """(trace id, span) of a call: the calls of one trace (parent ops and the LLM calls under them) are grouped by the
    ingest trace stage into one entry."""
    call = _call(rec)
    if call.get("started_at") is not None and epoch_us(call.get("started_at")) is None:
        return []  # an unreadable start time (a docs placeholder): the record is rejected, not read without a time
    return [(_trace_key(call), call_span(call))]


def expand(rec: dict) -> list[dict]:
    call = _call(rec)
    # the call's own start time stays a trace-level value: a placeholder there is rejected, not silently dropped
    return [trace_entry([call_span(call)], _trace_key(call), ts=call.get("started_at"),
                        latency_ms=dig(call, "summary", "weave", "latency_ms"))]


def detect(rec: dict) -> float:
    call = _call(rec)
    if "op_name" in call and "project_id" in call:
        return 1.0 if any(k in call for k in ("started_at", "inputs", "summary", "trace_id")) else 0.6
    return 0.0


ADAPTER = VendorAdapter("weave", detect, flat_mapping(), expand, spans=spans)
