"""Single span records of any tracer -> (trace id, Span) pairs, for the trace-assembly stage of ingest.

Shapes read: OTLP JSON documents (resourceSpans), OTel SDK span dumps (`to_json()`: context.trace_id), Phoenix /
OpenInference exports (context.trace_id, span_kind, status_code), JS SDK `ReadableSpan` dumps as the Vercel AI SDK
writes them (spanContext / _spanContext, parentSpanId or parentSpanContext, [seconds, nanos] times, ai.* attributes)
and Datadog APM spans (trace_id/span_id/parent_id integers, meta/metrics, start + duration in nanoseconds).
"""
from __future__ import annotations

import re
from typing import Any

from .base import as_dict, as_list, decode_json, dig, epoch_us, first, ident, to_float, to_int
from .datadog import dd_span
from .otel import attributes_dict, resource_spans, span_from_otel, span_trace_id
from .refusals import finish_refusal
from .spans import Span

SpanPair = tuple[str | None, Span]

# Vercel AI SDK operations (ai.operationId, or operation.name before a space)
_VERCEL_LLM = ("ai.generateText", "ai.streamText", "ai.generateObject", "ai.streamObject")
_VERCEL_EMBED = ("ai.embed", "ai.embedMany")


def hrtime_us(v: Any) -> int | None:
    """OTel JS HrTime [seconds, nanoseconds] -> epoch microseconds; anything else as epoch_us reads it."""
    if isinstance(v, list) and len(v) == 2 and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v):
        return int(v[0]) * 1_000_000 + int(v[1]) // 1000
    return epoch_us(v)


def _span_context(rec: dict) -> dict:
    return as_dict(first(rec.get("spanContext"), rec.get("_spanContext")))


def is_js_span(rec: dict) -> bool:
    ctx = _span_context(rec)
    return bool(ctx.get("traceId")) and bool(ctx.get("spanId"))


def _vercel_kind(attrs: dict) -> str | None:
    op = str(first(attrs.get("ai.operationId"), str(attrs.get("operation.name") or "").split(" ")[0]) or "")
    if not op.startswith("ai."):
        return None
    if op == "ai.toolCall":
        return "tool"
    if op.startswith(_VERCEL_EMBED):
        return "embedding"
    if op.startswith(_VERCEL_LLM):
        return "llm"
    return "other"


def _vercel_prompt(v: Any) -> Any:
    v = decode_json(v)
    if isinstance(v, dict):
        return first(v.get("prompt"), v.get("messages"), v)
    return v


def vercel_fields(attrs: dict) -> dict:
    """Span fields from the Vercel AI SDK's ai.* attributes (empty when the span is not the AI SDK's)."""
    kind = _vercel_kind(attrs)
    if kind is None:
        return {}
    provider = attrs.get("ai.model.provider")
    return {
        "kind": kind,
        "model": first(attrs.get("ai.response.model"), attrs.get("gen_ai.response.model"), attrs.get("ai.model.id")),
        "provider": provider.split(".")[0] if isinstance(provider, str) else None,
        "input": first(decode_json(attrs.get("ai.prompt.messages")), _vercel_prompt(attrs.get("ai.prompt")),
                       decode_json(attrs.get("ai.toolCall.args"))),
        "output": first(attrs.get("ai.response.text"), decode_json(attrs.get("ai.response.object")),
                        decode_json(attrs.get("ai.toolCall.result"))),
        "prompt_tokens": to_int(first(attrs.get("ai.usage.inputTokens"), attrs.get("ai.usage.promptTokens"))),
        "completion_tokens": to_int(first(attrs.get("ai.usage.outputTokens"), attrs.get("ai.usage.completionTokens"))),
        "tool_name": attrs.get("ai.toolCall.name"),
        "requested_tools": [c.get("toolName") for c in as_list(decode_json(attrs.get("ai.response.toolCalls")))
                            if isinstance(c, dict) and isinstance(c.get("toolName"), str)] or None,
        "user_id": first(attrs.get("ai.telemetry.metadata.userId"), attrs.get("ai.telemetry.metadata.user_id")),
        "session_id": first(attrs.get("ai.telemetry.metadata.sessionId"),
                            attrs.get("ai.telemetry.metadata.session_id")),
    }


def js_span(rec: dict) -> SpanPair:
    """A JS SDK ReadableSpan dump (the Vercel AI SDK's spans among them)."""
    ctx = _span_context(rec)
    attrs = attributes_dict(rec.get("attributes"))
    parent = first(rec.get("parentSpanId"), dig(rec, "parentSpanContext", "spanId"), dig(rec, "_parentSpanContext",
                                                                                          "spanId"))
    raw = {"name": rec.get("name"), "attributes": attrs, "status": rec.get("status"), "events": rec.get("events"),
           "spanId": ctx.get("spanId"), "parentSpanId": parent}
    resource = attributes_dict(first(dig(rec, "resource", "attributes"), dig(rec, "resource", "_attributes")))
    span = span_from_otel(raw, resource)
    span.start_us = hrtime_us(rec.get("startTime"))
    span.end_us = hrtime_us(rec.get("endTime"))
    if span.end_us is None and span.start_us is not None and isinstance(rec.get("duration"), list):
        span.end_us = span.start_us + (hrtime_us(rec.get("duration")) or 0)
    for k, v in vercel_fields(attrs).items():
        if v is not None:
            setattr(span, k, v)
    to_first_chunk = to_float(first(attrs.get("ai.response.msToFirstChunk"), attrs.get("ai.stream.msToFirstChunk")))
    if span.first_token_us is None and to_first_chunk is not None and span.start_us is not None:
        span.first_token_us = span.start_us + int(round(to_first_chunk * 1000))
    return ident(ctx.get("traceId")), span


def phoenix_span(rec: dict) -> SpanPair:
    """OTel SDK to_json() dumps and Phoenix/OpenInference exports (span_kind and status_code at the top)."""
    attrs = dict(attributes_dict(rec.get("attributes")))
    if isinstance(rec.get("span_kind"), str):
        attrs.setdefault("openinference.span.kind", rec["span_kind"].upper())
    raw = dict(rec, attributes=attrs)
    if "status_code" in rec and "status" not in rec:
        raw["status"] = {"status_code": rec.get("status_code"), "message": rec.get("status_message")}
    span = span_from_otel(raw)
    if span.failed and not span.error:
        span.error = first(rec.get("status_message"), dig(rec, "status", "description"), "error")
    if span.kind == "tool" and not span.tool_name:
        span.tool_name = span.name
    return span_trace_id(rec), span


_DD_TOKENS = re.compile(r"(?:^|\.)(?:usage\.)?(prompt_tokens|input_tokens|completion_tokens|output_tokens)$")


def _dd_indexed(meta: dict, prefix: str) -> list[dict] | None:
    """`<prefix>.N.field` tags -> [{field}]; LangChain's doubly indexed `<prefix>.N.M.field` (batch N, message M) ->
    the messages of every batch in order."""
    pat = re.compile(re.escape(prefix) + r"\.(\d+)(?:\.(\d+))?\.(.+)$")
    items: dict[tuple, dict] = {}
    for k, v in meta.items():
        m = pat.match(k)
        if m:
            items.setdefault((int(m.group(1)), int(m.group(2) or 0)), {})[m.group(3)] = v
    return [items[i] for i in sorted(items)] or None


def is_dd_apm_span(rec: dict) -> bool:
    return ("trace_id" in rec and "span_id" in rec and isinstance(rec.get("meta"), dict)
            and ("start" in rec or "start_ns" in rec or "duration" in rec))


def dd_apm_span(rec: dict) -> SpanPair:
    """A Datadog APM span (agent payloads and test snapshots: [[span, ...], ...]); LLM integrations tag meta/metrics."""
    meta, metrics = as_dict(rec.get("meta")), as_dict(rec.get("metrics"))
    comp = str(meta.get("component") or "")
    tokens: dict[str, int] = {}
    for k, v in metrics.items():
        m = _DD_TOKENS.search(k)
        if m and to_int(v) is not None:
            tokens.setdefault("prompt" if m.group(1) in ("prompt_tokens", "input_tokens") else "completion", to_int(v))
    model = first(*(meta.get(f"{comp}.{k}") for k in ("response.model", "request.model", "model")))
    choices = _dd_indexed(meta, f"{comp}.response.choices") or _dd_indexed(meta, f"{comp}.response.completions") or []
    out = first(*(first(c.get("message.content"), c.get("content"), c.get("text")) for c in choices))
    start = epoch_us(rec.get("start"))
    dur = to_float(rec.get("duration"))
    failed = to_int(rec.get("error")) == 1
    refused = None if failed else finish_refusal(meta.get(f"{comp}.response.choices.0.finish_reason"))
    parent = rec.get("parent_id")
    span = Span(
        span_id=rec.get("span_id"), parent_id=None if parent in (0, "0", None) else parent,
        name=first(rec.get("resource"), rec.get("name")) if model else rec.get("name"),
        kind="llm" if model or tokens else "other",
        start_us=start, end_us=start + int(dur // 1000) if start is not None and dur is not None else None,
        input=first(_dd_indexed(meta, f"{comp}.request.messages"), meta.get(f"{comp}.request.prompt"),
                    meta.get(f"{comp}.request.prompts.0")),
        output=out, model=model, provider=comp or None,
        prompt_tokens=tokens.get("prompt"), completion_tokens=tokens.get("completion"),
        failed=failed or refused is not None,
        error=first(meta.get("error.message"), meta.get("error.msg"), meta.get("error.type"), "error") if failed
        else refused,
        service=rec.get("service") or None, environment=meta.get("env"), version=meta.get("version"),
        detail={k: v for k, v in (("resource", rec.get("resource")), ("finish_reason",
                                  meta.get(f"{comp}.response.choices.0.finish_reason"))) if v},
    )
    return ident(rec.get("trace_id")), span


def unflatten_span_row(rec: dict) -> dict:
    """A span as a flattened table row (Phoenix `get_spans_dataframe()` exported to Parquet/CSV/JSONL:
    `context.trace_id`, `attributes.llm.token_count.prompt`...) -> the nested span record."""
    out = {k: v for k, v in rec.items() if not k.startswith(("context.", "attributes."))}
    out["context"] = {k.split(".", 1)[1]: v for k, v in rec.items() if k.startswith("context.")}
    out["attributes"] = {k.split(".", 1)[1]: v for k, v in rec.items() if k.startswith("attributes.") and v is not None}
    return out


def dd_any_span(rec: dict) -> SpanPair:
    """A Datadog span on its own: LLM Observability (meta.kind, meta.input/output, metrics.input_tokens) or APM."""
    meta = as_dict(rec.get("meta"))
    if meta.get("kind") and ("input" in meta or "output" in meta or "model_name" in meta):
        return ident(rec.get("trace_id")), dd_span(rec, rec.get("session_id"), {})
    return dd_apm_span(rec)


def record_spans(rec: dict) -> list[SpanPair]:
    """Every (trace id, span) one record holds: many for an OTLP document or a span list, one for a span record."""
    if not isinstance(rec, dict):
        return []
    if "resourceSpans" in rec or "scopeSpans" in rec:
        return [(span_trace_id(raw), span_from_otel(raw, res)) for res, raw in resource_spans(rec)]
    if "context.trace_id" in rec:
        return [phoenix_span(unflatten_span_row(rec))]
    if is_js_span(rec):
        return [js_span(rec)]
    if is_dd_apm_span(rec):
        return [dd_any_span(rec)]
    if isinstance(rec.get("spans"), list) and not rec.get("context"):  # {"spans": [...]} export wrappers
        return [p for s in as_list(rec["spans"]) for p in record_spans(s)]
    return [phoenix_span(rec)]
