"""MLflow traces ({"info": {...}, "data": {"spans": [...]}}, schema v2 and v3) -> one entry per trace.

Also the REST API's shapes: get-trace ({"trace": {"trace_info": ...}}, durations as "1.5s") and search-traces results
(bare TraceInfos; v2 metadata and tags as [{key, value}] lists).

Span attribute values are JSON-encoded strings (double-encoded in exports) and are decoded before use.
"""
from __future__ import annotations

import json
from typing import Any

from .base import (VendorAdapter, as_dict, as_list, decode_json, dig, first, flat_mapping, message_text, to_float,
                   to_int)
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


def _pairs(v: Any) -> dict:
    """A metadata/tags map: a dict, or the REST API's [{key, value}] list."""
    if isinstance(v, list):
        return {x["key"]: x.get("value") for x in v if isinstance(x, dict) and isinstance(x.get("key"), str)}
    return as_dict(v)


def _metadata(info: dict) -> dict:
    return _pairs(first(info.get("trace_metadata"), info.get("request_metadata")))


def _duration_ms(v: Any) -> float | None:
    """A protobuf Duration as the REST API writes it ("1.500s")."""
    if isinstance(v, str) and v.endswith("s"):
        seconds = to_float(v[:-1])
        return seconds * 1000.0 if seconds is not None else None
    return None


def _bare_info(rec: dict) -> bool:
    """A TraceInfo on its own (search-traces results, v2 and v3 REST), without spans."""
    v2 = "request_id" in rec and "experiment_id" in rec and ("timestamp_ms" in rec or "execution_time_ms" in rec)
    return v2 or ("trace_id" in rec and ("trace_location" in rec or "request_time" in rec) and "state" in rec)


def _parts(rec: dict) -> tuple[dict, dict]:
    """(info, data) of a Trace.to_json() document, a REST {trace: {trace_info}} or a bare TraceInfo."""
    if isinstance(rec.get("trace"), dict):
        rec = rec["trace"]
    info = as_dict(rec.get("info")) or as_dict(rec.get("trace_info")) or (rec if _bare_info(rec) else {})
    return info, as_dict(rec.get("data"))


def expand(rec: dict) -> list[dict]:
    info, data = _parts(rec)
    spans = [mlflow_span(s) for s in as_list(data.get("spans")) if isinstance(s, dict)]
    if not info and not spans:
        return [empty_entry({"reason": "no info and no spans"})]
    meta, tags = _metadata(info), _pairs(info.get("tags"))
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
        latency_ms=first(info.get("execution_duration_ms"), info.get("execution_time_ms"),
                         _duration_ms(info.get("execution_duration"))),
        input=first(message_text(meta.get("mlflow.traceInputs")), message_text(data.get("request")),
                    message_text(info.get("request_preview"))),
        output=first(message_text(meta.get("mlflow.traceOutputs")), message_text(data.get("response")),
                     message_text(info.get("response_preview"))),
        session_id=meta.get("mlflow.trace.session"),
        user_id=meta.get("mlflow.trace.user"),
        version=meta.get("mlflow.modelId"),
        status="error" if str(state or "").upper() == "ERROR" else None,
        prompt_tokens=to_int(usage.get("input_tokens")),
        completion_tokens=to_int(usage.get("output_tokens")),
    )]


def detect(rec: dict) -> float:
    info, data = _parts(rec)
    if info and isinstance(data.get("spans"), list):
        return 1.0
    if any(k in info for k in ("trace_metadata", "request_metadata", "execution_duration_ms", "execution_duration")):
        return 0.9
    return 0.0


ADAPTER = VendorAdapter("mlflow", detect, flat_mapping(), expand)
