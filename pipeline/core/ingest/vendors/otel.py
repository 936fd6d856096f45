"""OpenTelemetry spans carrying GenAI attributes (OTLP JSON or flat span dicts) -> one entry per trace.

Also reads the OpenInference and legacy OpenLLMetry attribute namespaces, which Langfuse and MLflow exports carry too.
"""
from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from .base import (VendorAdapter, as_dict, as_list, decode_json, dig, epoch_us, first, flat_mapping, ident, to_float,
                   to_int)
from .genai_content import event_content, openinference_messages, requested_tools
from .refusals import finish_refusal
from .spans import Span, empty_entry, trace_entry

GENAI_PREFIXES = ("gen_ai.", "llm.", "openinference.")
_LLM_OPERATIONS = ("chat", "text_completion", "generate_content", "completion", "responses")
# message content: already read into input/output, too bulky to repeat in the detail
_CONTENT_KEYS = ("gen_ai.input.messages", "gen_ai.output.messages", "gen_ai.prompt", "gen_ai.completion",
                 "gen_ai.system_instructions", "gen_ai.tool.definitions", "llm.input_messages", "llm.output_messages",
                 "llm.tools", "input.value", "output.value", "mlflow.spanInputs", "mlflow.spanOutputs")
# flat span keys read by span_from_otel; anything else on a flat span record is kept in the entry's detail
_SPAN_KEYS = ("name", "context", "trace_id", "traceId", "span_id", "spanId", "parent_id", "parentSpanId",
              "parent_span_id", "start_time", "end_time", "startTimeUnixNano", "endTimeUnixNano", "attributes",
              "status", "events", "resource")

# a log record's own fields (OTLP JSON and SDK to_json() spellings); spans have no severity
_LOG_KEYS = ("severityText", "severityNumber", "severity_text", "severity_number")
_START_KEYS = ("start_time", "startTimeUnixNano", "start_time_unix_nano", "startTime")


def otlp_value(v: Any) -> Any:
    """An OTLP AnyValue ({stringValue|intValue|doubleValue|boolValue|arrayValue|kvlistValue|bytesValue}) -> Python."""
    if not isinstance(v, dict):
        return v
    if "stringValue" in v:
        return v["stringValue"]
    if "intValue" in v:  # int64 travels as a JSON string
        return to_int(v["intValue"])
    if "doubleValue" in v:
        return to_float(v["doubleValue"])
    if "boolValue" in v:
        return v["boolValue"]
    if "arrayValue" in v:
        return [otlp_value(x) for x in as_list(dig(v, "arrayValue", "values"))]
    if "kvlistValue" in v:
        return attributes_dict(dig(v, "kvlistValue", "values"))
    return v.get("bytesValue")


def _flat_keys(attrs: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in attrs.items():
        if isinstance(v, dict) and v:
            out.update(_flat_keys(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def attributes_dict(attrs: Any) -> dict:
    """OTLP [{key, value}] lists or plain dicts -> {key: python value}. Nested dicts (Phoenix's span JSON writes
    {"llm": {"token_count": {"prompt": 9}}}) become the dotted keys OTel attributes have."""
    if isinstance(attrs, dict):
        return _flat_keys(attrs) if any(isinstance(v, dict) for v in attrs.values()) else attrs
    out = {}
    for kv in as_list(attrs):
        if isinstance(kv, dict) and isinstance(kv.get("key"), str):
            out[kv["key"]] = otlp_value(kv.get("value"))
    return out


def _indexed(attrs: dict, prefix: str, strip: str = "") -> list[dict] | None:
    """Flattened lists such as gen_ai.prompt.0.role / llm.input_messages.0.message.content -> [{role, content}]."""
    pat = re.compile(re.escape(prefix) + r"\.(\d+)\.(.+)$")
    items: dict[int, dict] = defaultdict(dict)
    for k, v in attrs.items():
        m = pat.match(k)
        if m:
            rest = m.group(2)
            items[int(m.group(1))][rest[len(strip):] if strip and rest.startswith(strip) else rest] = v
    return [items[i] for i in sorted(items)] or None


def _entity_value(v: Any, key: str) -> Any:
    """OpenLLMetry's traceloop.entity.input/output: a function's {"args", "kwargs"}, LangChain's {"inputs"} /
    {"outputs"} wrappers; a wrapper holding one value stands for that value."""
    v = decode_json(v)
    if not isinstance(v, dict):
        return v
    if key in v:
        inner = decode_json(v[key])
        return next(iter(inner.values())) if isinstance(inner, dict) and len(inner) == 1 else inner
    if set(v) <= {"args", "kwargs"}:
        values = list(as_list(v.get("args"))) + list(as_dict(v.get("kwargs")).values())
        return values[0] if len(values) == 1 else v
    return v


def genai_input(attrs: dict) -> Any:
    return first(
        decode_json(attrs.get("gen_ai.input.messages")),
        decode_json(attrs.get("gen_ai.prompt")),
        _indexed(attrs, "gen_ai.prompt"),
        _indexed(attrs, "llm.input_messages", "message."),
        openinference_messages(attrs.get("llm.input_messages")),
        decode_json(attrs.get("input.value")),
        decode_json(attrs.get("mlflow.spanInputs")),
        _entity_value(attrs.get("traceloop.entity.input"), "inputs"),
    )


def genai_output(attrs: dict) -> Any:
    return first(
        decode_json(attrs.get("gen_ai.output.messages")),
        decode_json(attrs.get("gen_ai.completion")),
        _indexed(attrs, "gen_ai.completion"),
        _indexed(attrs, "llm.output_messages", "message."),
        openinference_messages(attrs.get("llm.output_messages")),
        decode_json(attrs.get("output.value")),
        decode_json(attrs.get("mlflow.spanOutputs")),
        _entity_value(attrs.get("traceloop.entity.output"), "outputs"),
    )


def span_kind(attrs: dict) -> str:
    op = str(attrs.get("gen_ai.operation.name") or "").lower()
    oi = str(attrs.get("openinference.span.kind") or "").upper()
    traceloop = str(attrs.get("traceloop.span.kind") or "").lower()
    request_type = str(attrs.get("llm.request.type") or "").lower()  # OpenLLMetry's LLM spans
    if op == "execute_tool" or oi == "TOOL" or attrs.get("gen_ai.tool.name") or traceloop == "tool":
        return "tool"
    if op == "embeddings" or oi == "EMBEDDING" or request_type == "embedding":
        return "embedding"
    if (op in _LLM_OPERATIONS or oi == "LLM" or attrs.get("llm.token_count.prompt") is not None
            or request_type in ("chat", "completion")):
        return "llm"
    usage = (attrs.get("gen_ai.usage.input_tokens"), attrs.get("gen_ai.usage.prompt_tokens"))
    if not op and any(u is not None for u in usage):
        return "llm"
    return "other"


def span_from_attributes(attrs: dict, resource: dict | None = None, **fields: Any) -> Span:
    """A Span from GenAI / OpenInference / OpenLLMetry attributes; explicit `fields` win."""
    resource = resource or {}
    service = first(attrs.get("service.name"), resource.get("service.name"))
    span = Span(
        kind=span_kind(attrs),
        input=genai_input(attrs),
        output=genai_output(attrs),
        model=first(attrs.get("gen_ai.response.model"), attrs.get("gen_ai.request.model"), attrs.get("llm.model_name")),
        provider=first(attrs.get("gen_ai.provider.name"), attrs.get("gen_ai.system"), attrs.get("llm.provider"),
                       attrs.get("llm.system")),
        prompt_tokens=to_int(first(attrs.get("gen_ai.usage.input_tokens"), attrs.get("gen_ai.usage.prompt_tokens"),
                                   attrs.get("llm.token_count.prompt"), attrs.get("llm.usage.prompt_tokens"))),
        completion_tokens=to_int(first(attrs.get("gen_ai.usage.output_tokens"),
                                       attrs.get("gen_ai.usage.completion_tokens"),
                                       attrs.get("llm.token_count.completion"),
                                       attrs.get("llm.usage.completion_tokens"))),
        cost_usd=to_float(first(attrs.get("gen_ai.usage.cost"), attrs.get("llm.cost.total"))),
        tool_name=first(attrs.get("gen_ai.tool.name"), attrs.get("tool.name"),
                        attrs.get("traceloop.entity.name") if attrs.get("traceloop.span.kind") == "tool" else None),
        requested_tools=requested_tools(attrs),
        session_id=first(attrs.get("gen_ai.conversation.id"), attrs.get("session.id")),
        user_id=first(attrs.get("user.id"), attrs.get("enduser.id")),
        service=real_service(service),
        version=first(attrs.get("service.version"), resource.get("service.version")),
        environment=first(attrs.get("deployment.environment.name"), attrs.get("deployment.environment"),
                          resource.get("deployment.environment.name"), resource.get("deployment.environment")),
        detail={k: v for k, v in attrs.items() if not k.startswith(_CONTENT_KEYS)},
    )
    for k, v in fields.items():
        if v is not None:
            setattr(span, k, v)
    refused = finish_refusal(first(attrs.get("gen_ai.response.finish_reasons"), attrs.get("ai.response.finishReason")))
    if refused and not span.failed:  # a safety stop returns normally (status OK): an error all the same
        span.failed, span.error = True, refused
    span.__post_init__()  # ids set above get the same normalization as constructor ones
    return span


def real_service(name: Any) -> Any:
    """None for the SDK default "unknown_service[:process]", which says the app never named itself."""
    return None if isinstance(name, str) and name.startswith("unknown_service") else name


def _status_failed(status: Any) -> bool:
    code = status.get("code", status.get("status_code")) if isinstance(status, dict) else status
    return code == 2 or str(code).upper() in ("2", "ERROR", "STATUS_CODE_ERROR")


def _exception_message(events: Any) -> str | None:
    for ev in as_list(events):
        attrs = attributes_dict(as_dict(ev).get("attributes"))
        if attrs.get("exception.message") or as_dict(ev).get("name") == "exception":
            return first(attrs.get("exception.message"), attrs.get("exception.type"), "exception")
    return None


def span_from_otel(raw: dict, resource: dict | None = None) -> Span:
    """One OTLP JSON span or flat SDK span dict (to_json(): context.trace_id, start_time, status.status_code)."""
    attrs = {**event_content(raw.get("events"), attributes_dict), **attributes_dict(raw.get("attributes"))}
    status = raw.get("status")
    failed = _status_failed(status)
    start_us = epoch_us(first(raw.get("startTimeUnixNano"), raw.get("start_time_unix_nano"), raw.get("start_time")))
    return span_from_attributes(
        attrs,
        resource or attributes_dict(dig(raw, "resource", "attributes")),
        span_id=first(raw.get("spanId"), raw.get("span_id"), dig(raw, "context", "span_id")),
        parent_id=first(raw.get("parentSpanId"), raw.get("parent_span_id"), raw.get("parent_id")),
        name=raw.get("name") if isinstance(raw.get("name"), str) else None,
        start_us=start_us,
        first_token_us=first_token_us(attrs, raw.get("events"), start_us),
        end_us=epoch_us(first(raw.get("endTimeUnixNano"), raw.get("end_time_unix_nano"), raw.get("end_time"))),
        failed=failed or None,
        error=first(dig(raw, "status", "message"), dig(raw, "status", "description"), attrs.get("error.type"),
                    _exception_message(raw.get("events"))) if failed else None,
    )


_FIRST_TOKEN_EVENTS = ("First Token Stream Event", "gen_ai.first_token", "first_token")


def first_token_us(attrs: dict, events: Any, start_us: int | None) -> int | None:
    """When a streamed call's first token came: OTel GenAI's gen_ai.server.time_to_first_token (seconds after the
    start), else the time of OpenInference's "First Token Stream Event"."""
    ttft_s = to_float(attrs.get("gen_ai.server.time_to_first_token"))
    if ttft_s is not None and start_us is not None and ttft_s >= 0:
        return start_us + int(round(ttft_s * 1_000_000))
    for ev in as_list(events):
        ev = as_dict(ev)
        if ev.get("name") in _FIRST_TOKEN_EVENTS:
            return epoch_us(first(ev.get("timeUnixNano"), ev.get("time_unix_nano"), ev.get("timestamp")))
    return None


def span_trace_id(raw: dict) -> str | None:
    return ident(first(raw.get("traceId"), raw.get("trace_id"), dig(raw, "context", "trace_id")))


def resource_spans(rec: dict) -> list[tuple[dict, dict]]:
    """(resource attributes, raw span) for every span of an OTLP document or of one resourceSpans element."""
    blocks = as_list(rec.get("resourceSpans")) if "resourceSpans" in rec else [rec]
    out = []
    for block in blocks:
        resource = attributes_dict(dig(block, "resource", "attributes"))
        scopes = as_list(as_dict(block).get("scopeSpans")) + as_list(as_dict(block).get("instrumentationLibrarySpans"))
        for scope in scopes:
            out.extend((resource, s) for s in as_list(as_dict(scope).get("spans")) if isinstance(s, dict))
    return out


def expand(rec: dict) -> list[dict]:
    if "resourceSpans" in rec or "scopeSpans" in rec:
        groups: dict[Any, list[Span]] = defaultdict(list)
        for resource, raw in resource_spans(rec):
            groups[span_trace_id(raw)].append(span_from_otel(raw, resource))
        entries = [trace_entry(spans, trace_id) for trace_id, spans in groups.items()]
        return entries or [empty_entry({"reason": "no spans"})]
    extra = {k: v for k, v in rec.items() if k not in _SPAN_KEYS}
    return [trace_entry([span_from_otel(rec)], span_trace_id(rec), detail={"record": extra} if extra else None)]


def detect(rec: dict) -> float:
    if isinstance(rec.get("resourceSpans"), list) or isinstance(rec.get("scopeSpans"), list):
        return 1.0
    if any(k in rec for k in _LOG_KEYS) and not any(k in rec for k in _START_KEYS):
        return 0.0  # an OTel log record (trace and span ids of the span it was logged in): inference reads it
    if rec.get("context.trace_id") is not None and "context.span_id" in rec:  # flattened span rows (Phoenix dataframes)
        return 0.9
    ctx = rec.get("spanContext", rec.get("_spanContext"))
    if isinstance(ctx, dict) and ctx.get("traceId") and ctx.get("spanId"):  # JS SDK ReadableSpan dumps (Vercel AI SDK)
        return 0.9
    attrs = rec.get("attributes")
    has_ids = any(k in rec for k in ("span_id", "spanId")) or isinstance(dig(rec, "context", "span_id"), str)
    if isinstance(attrs, (dict, list)) and any(k in rec for k in ("name", "span_id", "spanId", "context")):
        keys = attributes_dict(attrs).keys()
        if any(k.startswith(GENAI_PREFIXES) for k in keys) and not any(k.startswith("mlflow.") for k in keys):
            return 0.9
        if has_ids and any(k in rec for k in ("start_time", "startTimeUnixNano", "parent_id", "parentSpanId")):
            return 0.6
    return 0.0


ADAPTER = VendorAdapter("otel_genai", detect, flat_mapping(), expand)  # vendors/__init__ adds span_records' spans
