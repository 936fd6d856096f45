"""Langfuse trace exports ({"trace": {...}, "observations": [...]}, or a trace with its observations) -> one entry each.

Quirks handled: trace.latency is in seconds (observation latency in ms, seconds in the older export shape, so span
durations come from start/end times); trace.metadata and inputs are JSON-encoded strings; observation input/output
may be null with the content left in metadata.attributes (raw OTel attributes); costs as costDetails / totalCost /
calculatedTotalCost depending on the export version. usageDetails split a call's tokens by kind (`input`,
`input_cached_tokens`, `cache_read_input_tokens`, `output`, `output_reasoning_tokens`, `total`): Langfuse's SDKs take
the cached and reasoning parts out of `input` / `output`, so prompt and completion tokens are the sums of their parts
(unless `input` + `output` alone make the `total`).
"""
from __future__ import annotations

from typing import Any

from .base import (VendorAdapter, as_dict, as_list, decode_json, dig, epoch_us, first, flat_mapping, message_text,
                   to_float, to_int)
from .genai_content import tools_in_messages
from .otel import real_service, span_from_attributes
from .spans import LLM_KINDS, Span, empty_entry, trace_entry

_KINDS = {"GENERATION": "llm", "EMBEDDING": "embedding", "TOOL": "tool"}


def _tool_by_convention(obs: dict, meta: dict) -> bool:
    # LangGraph's ToolNode runs each tool as a child span of the "tools" node, with no tool attribute of its own
    return meta.get("langgraph_node") == "tools" and obs.get("name") != "tools"


def _is_input_key(k: str) -> bool:
    return k == "input" or k.startswith("input_") or k.endswith("_input_tokens") or k in ("prompt_tokens", "cache_read")


def _is_output_key(k: str) -> bool:
    return k == "output" or k.startswith("output_") or k.endswith("_output_tokens") or k == "completion_tokens"


def usage_tokens(details: Any) -> tuple[int | None, int | None]:
    """(prompt, completion) tokens from a usageDetails map."""
    counts = {k: to_int(v) for k, v in as_dict(details).items() if isinstance(k, str) and to_int(v) is not None}
    if not counts:
        return None, None
    ins = [v for k, v in counts.items() if _is_input_key(k)]
    outs = [v for k, v in counts.items() if _is_output_key(k)]
    total, plain_in, plain_out = counts.get("total"), counts.get("input"), counts.get("output")
    if total is not None and None not in (plain_in, plain_out) and plain_in + plain_out == total != sum(ins) + sum(outs):
        return plain_in, plain_out  # a producer that left the parts inside input / output
    return (sum(ins) if ins else None), (sum(outs) if outs else None)


def observation_span(obs: dict) -> Span:
    meta = as_dict(decode_json(obs.get("metadata")))
    attrs = as_dict(decode_json(meta.get("attributes")))
    base = span_from_attributes(attrs, as_dict(meta.get("resourceAttributes")))
    kind = _KINDS.get(str(obs.get("type") or "").upper())
    if kind is None:
        kind = "tool" if base.kind == "tool" or _tool_by_convention(obs, meta) else "other"
    failed = str(obs.get("level") or "").upper() == "ERROR"
    start, first_token = epoch_us(obs.get("startTime")), epoch_us(obs.get("completionStartTime"))
    usage_in, usage_out = usage_tokens(obs.get("usageDetails"))
    usage = as_dict(obs.get("usage"))
    detail = {
        "type": obs.get("type"),
        "model_parameters": decode_json(obs.get("modelParameters")) or None,
        "usage_details": obs.get("usageDetails") or None,
        "cost_details": obs.get("costDetails") or None,
        "prompt": first(obs.get("promptName"), obs.get("promptId")),
        "prompt_version": obs.get("promptVersion"),
        "time_to_first_token_ms": (first_token - start) / 1000.0 if None not in (start, first_token) else None,
        **base.detail,
    }
    return Span(
        span_id=obs.get("id"),
        parent_id=obs.get("parentObservationId"),
        name=obs.get("name"),
        kind=kind,
        start_us=start,
        end_us=epoch_us(obs.get("endTime")),
        input=first(message_text(obs.get("input")), base.input),
        output=first(message_text(obs.get("output")), base.output),
        model=first(obs.get("model"), base.model, meta.get("ls_model_name")),
        provider=first(base.provider, meta.get("ls_provider")),
        prompt_tokens=to_int(first(usage_in, obs.get("inputUsage"), usage.get("input"), usage.get("promptTokens"),
                                   obs.get("promptTokens"), base.prompt_tokens)),
        completion_tokens=to_int(first(usage_out, obs.get("outputUsage"), usage.get("output"),
                                       usage.get("completionTokens"), obs.get("completionTokens"),
                                       base.completion_tokens)),
        first_token_us=first_token if kind in LLM_KINDS else None,
        instant=str(obs.get("type") or "").upper() == "EVENT",
        cost_usd=to_float(first(dig(obs, "costDetails", "total"), obs.get("totalCost"),
                                obs.get("calculatedTotalCost"))),
        failed=failed,
        error=first(obs.get("statusMessage"), "level ERROR") if failed else None,
        tool_name=base.tool_name,
        requested_tools=base.requested_tools or (tools_in_messages(obs.get("output")) if kind in LLM_KINDS else []),
        session_id=first(base.session_id, meta.get("conversation_id"), meta.get("thread_id"), meta.get("session_id")),
        user_id=first(base.user_id, meta.get("user_id")),
        service=base.service,
        version=first(obs.get("version"), base.version),
        environment=obs.get("environment"),
        detail={k: v for k, v in detail.items() if v is not None},
    )


def _scores(trace: dict) -> dict:
    out = {}
    for s in as_list(trace.get("scores")):
        if isinstance(s, dict) and s.get("name"):
            out[str(s["name"])] = first(s.get("value"), s.get("stringValue"))
    return out


def _trace_doc(rec: dict) -> tuple[dict, list]:
    if "trace" in rec or ("observations" in rec and "projectId" not in rec):
        return as_dict(rec.get("trace")), as_list(rec.get("observations"))
    return rec, as_list(rec.get("observations"))  # GET /traces/{id}: the trace with its observations inline


def expand(rec: dict) -> list[dict]:
    trace, observations = _trace_doc(rec)
    spans = [observation_span(o) for o in observations if isinstance(o, dict)]
    if not trace and not spans:
        return [empty_entry({"reason": "no trace and no observations"})]
    meta = as_dict(decode_json(trace.get("metadata")))
    service = dig(meta, "resourceAttributes", "service.name")
    latency_s = to_float(trace.get("latency"))
    trace_id = first(trace.get("id"), next((o.get("traceId") for o in observations if isinstance(o, dict)), None))
    return [trace_entry(
        spans,
        trace_id,
        detail={"trace_name": trace.get("name"), "tags": trace.get("tags"), "scores": _scores(trace),
                "release": trace.get("release"), "observation_count": len(observations)},
        ts=trace.get("timestamp"),
        input=message_text(trace.get("input")),
        output=message_text(trace.get("output")),
        latency_ms=latency_s * 1000.0 if latency_s is not None else None,
        session_id=trace.get("sessionId"),
        user_id=trace.get("userId"),
        version=first(trace.get("version"), trace.get("release")),
        environment=trace.get("environment"),
        service=real_service(service),
        cost_usd=to_float(trace.get("totalCost")) if not spans else None,
    )]


def detect(rec: dict) -> float:
    if isinstance(rec.get("trace"), dict) and isinstance(rec.get("observations"), list):
        return 1.0
    if isinstance(rec.get("observations"), list) and "projectId" in rec and "timestamp" in rec:
        return 0.9
    if "trace" in rec and "observations" in rec:  # the shape with null / wrong-typed sections
        return 0.8
    return 0.0


ADAPTER = VendorAdapter("langfuse", detect, flat_mapping(), expand)
