"""Datadog LLM Observability span payloads ({"data": {"type": "span", "attributes": {"spans": [...]}}}) -> entries.

One entry per trace. Times are unix nanoseconds (start_ns, duration); trace context comes from "key:value" tags
(service, env, version, user_id). A streamed LLM call's `metrics.time_to_first_token` is in seconds.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Any

from .base import VendorAdapter, as_dict, as_list, dig, epoch_us, first, flat_mapping, ident, to_float, to_int
from .genai_content import tools_in_messages
from .spans import Span, empty_entry, trace_entry

_KINDS = {"llm": "llm", "embedding": "embedding", "tool": "tool"}


def parse_tags(tags: Any) -> dict[str, str]:
    out = {}
    for t in as_list(tags):
        if isinstance(t, str) and ":" in t:
            k, v = t.split(":", 1)
            out.setdefault(k.strip(), v.strip())
    return out


def _io(section: Any) -> Any:
    section = as_dict(section)
    return first(section.get("value"), section.get("messages"), section.get("documents"), section.get("prompt"))


def dd_span(raw: dict, session: Any, tags: dict) -> Span:
    meta = as_dict(raw.get("meta"))
    metrics = as_dict(raw.get("metrics"))
    span_tags = {**tags, **parse_tags(raw.get("tags"))}
    start = epoch_us(raw.get("start_ns"))
    duration_ns = to_float(raw.get("duration"))
    failed = str(raw.get("status") or "").lower() == "error" or bool(dig(meta, "error", "message"))
    ttft_s = to_float(metrics.get("time_to_first_token"))
    parent = raw.get("parent_id")
    return Span(
        span_id=raw.get("span_id"),
        parent_id=None if parent in (None, "undefined", "0") else parent,
        name=raw.get("name"),
        kind=_KINDS.get(str(meta.get("kind") or "").lower(), "other"),
        start_us=start,
        end_us=start + int(duration_ns // 1000) if start is not None and duration_ns is not None else None,
        input=_io(meta.get("input")),
        output=_io(meta.get("output")),
        requested_tools=tools_in_messages(dig(meta, "output", "messages")),
        model=first(meta.get("model_name"), dig(meta, "metadata", "model_name")),
        provider=first(meta.get("model_provider"), dig(meta, "metadata", "model_provider")),
        prompt_tokens=to_int(first(metrics.get("input_tokens"), metrics.get("prompt_tokens"))),
        completion_tokens=to_int(first(metrics.get("output_tokens"), metrics.get("completion_tokens"))),
        cost_usd=to_float(metrics.get("total_cost")),
        first_token_us=start + int(round(ttft_s * 1_000_000)) if start is not None and ttft_s is not None else None,
        failed=failed,
        error=first(dig(meta, "error", "message"), dig(meta, "error", "type"), "error") if failed else None,
        session_id=first(raw.get("session_id"), session),
        user_id=first(span_tags.get("user_id"), span_tags.get("user_handle")),
        service=first(span_tags.get("service"), span_tags.get("ml_app")),
        version=span_tags.get("version"),
        environment=span_tags.get("env"),
        detail={k: v for k, v in (("kind", meta.get("kind")), ("metadata", meta.get("metadata")),
                                  ("metrics", metrics or None)) if v is not None},
    )


def expand(rec: dict) -> list[dict]:
    payloads = rec.get("data") if isinstance(rec.get("data"), list) else [rec.get("data")]
    traces: dict[Any, list[Span]] = defaultdict(list)
    ml_apps = {}
    for payload in payloads:
        attrs = as_dict(dig(payload, "attributes"))
        tags = parse_tags(attrs.get("tags"))
        if attrs.get("ml_app"):
            tags.setdefault("ml_app", attrs["ml_app"])
        for raw in as_list(attrs.get("spans")):
            if isinstance(raw, dict):
                trace_id = ident(raw.get("trace_id"))
                traces[trace_id].append(dd_span(raw, attrs.get("session_id"), tags))
                ml_apps[trace_id] = attrs.get("ml_app")
    if not traces:
        return [empty_entry({"reason": "no spans"})]
    return [trace_entry(spans, tid, detail={"ml_app": ml_apps.get(tid)}) for tid, spans in traces.items()]


def detect(rec: dict) -> float:
    data = rec.get("data")
    for payload in data if isinstance(data, list) else [data]:
        if isinstance(payload, dict) and payload.get("type") == "span" and isinstance(payload.get("attributes"), dict):
            return 1.0 if "spans" in payload["attributes"] or "ml_app" in payload["attributes"] else 0.7
    return 0.0


ADAPTER = VendorAdapter("datadog", detect, flat_mapping(), expand)
