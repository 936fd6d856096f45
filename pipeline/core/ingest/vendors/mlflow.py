"""MLflow traces ({"info": {...}, "data": {"spans": [...]}}, schema v2 and v3) -> one entry per trace.

Span attribute values are JSON-encoded strings (double-encoded in exports) and are decoded before use.
"""
from __future__ import annotations

import json
from typing import Any

from .base import VendorAdapter, as_dict, as_list, decode_json, dig, first, flat_mapping, message_text, to_int
from .otel import span_from_otel
from .spans import Span, empty_entry, trace_entry

_KINDS = {"CHAT_MODEL": "llm", "LLM": "llm", "EMBEDDING": "embedding", "TOOL": "tool"}


def _attribute(v: Any) -> Any:
    """Every MLflow attribute value is JSON text (null and numbers included); decode it, then any inner JSON string."""
    if isinstance(v, str):
        try:
            v = json.loads(v)
        except ValueError:
            return v
    return decode_json(v)


def mlflow_span(raw: dict) -> Span:
    attrs = {k: _attribute(v) for k, v in as_dict(raw.get("attributes")).items()}
    span = span_from_otel({**raw, "attributes": attrs})
    span.kind = _KINDS.get(str(attrs.get("mlflow.spanType") or "").upper(), span.kind)
    inputs, outputs = attrs.get("mlflow.spanInputs"), attrs.get("mlflow.spanOutputs")
    usage = as_dict(attrs.get("mlflow.chat.tokenUsage"))
    if isinstance(inputs, dict) and "messages" in inputs:
        span.input = inputs["messages"]
    span.output = first(message_text(outputs), span.output)
    span.model = first(span.model, dig(outputs, "model"), dig(inputs, "model"), attrs.get("mlflow.llm.model"))
    span.prompt_tokens = first(to_int(usage.get("input_tokens")), span.prompt_tokens)
    span.completion_tokens = first(to_int(usage.get("output_tokens")), span.completion_tokens)
    if span.kind == "tool":
        span.tool_name = first(span.tool_name, attrs.get("mlflow.spanFunctionName"), span.name)
    return span


def _metadata(info: dict) -> dict:
    return as_dict(first(info.get("trace_metadata"), info.get("request_metadata")))


def expand(rec: dict) -> list[dict]:
    info, data = as_dict(rec.get("info")), as_dict(rec.get("data"))
    spans = [mlflow_span(s) for s in as_list(data.get("spans")) if isinstance(s, dict)]
    if not info and not spans:
        return [empty_entry({"reason": "no info and no spans"})]
    meta, tags = _metadata(info), as_dict(info.get("tags"))
    usage = as_dict(decode_json(meta.get("mlflow.trace.tokenUsage")))
    state = first(info.get("state"), info.get("status"))
    trace_id = first(info.get("trace_id"), info.get("request_id"))
    return [trace_entry(
        spans,
        trace_id,
        detail={"trace_name": tags.get("mlflow.traceName"), "client_request_id": info.get("client_request_id"),
                "experiment_id": first(dig(info, "trace_location", "mlflow_experiment", "experiment_id"),
                                       info.get("experiment_id")),
                "assessments": len(as_list(info.get("assessments")))},
        ts=first(info.get("request_time"), info.get("timestamp_ms")),
        latency_ms=first(info.get("execution_duration_ms"), info.get("execution_time_ms")),
        input=first(message_text(meta.get("mlflow.traceInputs")), message_text(data.get("request"))),
        output=first(message_text(meta.get("mlflow.traceOutputs")), message_text(data.get("response"))),
        session_id=meta.get("mlflow.trace.session"),
        user_id=meta.get("mlflow.trace.user"),
        version=meta.get("mlflow.modelId"),
        status="error" if str(state or "").upper() == "ERROR" else None,
        prompt_tokens=to_int(usage.get("input_tokens")),
        completion_tokens=to_int(usage.get("output_tokens")),
    )]


def detect(rec: dict) -> float:
    info, data = rec.get("info"), rec.get("data")
    if isinstance(info, dict) and isinstance(data, dict) and isinstance(data.get("spans"), list):
        return 1.0
    if isinstance(info, dict) and any(k in info for k in ("trace_metadata", "request_metadata",
                                                          "execution_duration_ms")):
        return 0.9
    return 0.0


ADAPTER = VendorAdapter("mlflow", detect, flat_mapping(), expand)
