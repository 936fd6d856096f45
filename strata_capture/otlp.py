"""Spool records -> OTLP/JSON trace documents (one `resourceSpans` document per trace, `gen_ai.*` attributes), the
shape any OpenTelemetry collector reads and Strata's OTLP reader turns into one entry per trace."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, Callable

SCOPE = {"name": "strata_capture", "version": "0.1.0"}
_OPERATION = {"llm": "chat", "tool": "execute_tool", "agent": "invoke_agent", "embedding": "embeddings",
              "retrieval": "retrieval", "branch": "strata.branch"}
_OPENINFERENCE = {"llm": "LLM", "tool": "TOOL", "agent": "AGENT", "chain": "CHAIN", "workflow": "CHAIN",
                  "retrieval": "RETRIEVER", "embedding": "EMBEDDING"}
SPAN_KIND_INTERNAL, SPAN_KIND_CLIENT = 1, 3


def any_value(v: Any) -> dict:
    if type(v) is str:  # the common case first
        return {"stringValue": v}
    if isinstance(v, bool):
        return {"boolValue": v}
    if isinstance(v, int):
        return {"intValue": str(v)}
    if isinstance(v, float):
        return {"doubleValue": v}
    if isinstance(v, str):
        return {"stringValue": v}
    if isinstance(v, (list, tuple)) and all(isinstance(x, (str, bool, int, float)) for x in v):
        return {"arrayValue": {"values": [any_value(x) for x in v]}}
    return {"stringValue": json.dumps(v, ensure_ascii=False, separators=(",", ":"), default=str)}


def key_values(attrs: dict) -> list[dict]:
    return [{"key": k, "value": any_value(v)} for k, v in attrs.items() if v is not None]


def otlp_span(rec: dict) -> dict:
    kind = rec.get("k") or "span"
    attrs = dict(rec.get("a") or {})
    attrs.setdefault("strata.span.kind", kind)
    if kind in _OPERATION:
        attrs.setdefault("gen_ai.operation.name", _OPERATION[kind])
    if kind in _OPENINFERENCE:
        attrs.setdefault("openinference.span.kind", _OPENINFERENCE[kind])
    if kind == "tool":
        attrs.setdefault("gen_ai.tool.name", rec.get("n"))
    out = {"traceId": rec["t"], "spanId": rec["s"], "name": rec.get("n") or kind,
           "kind": SPAN_KIND_CLIENT if kind == "llm" else SPAN_KIND_INTERNAL,
           "startTimeUnixNano": str(rec["b"]), "endTimeUnixNano": str(rec["e"]),
           "attributes": key_values(attrs), "status": {}}
    if rec.get("p"):
        out["parentSpanId"] = rec["p"]
    if rec.get("x") is not None:
        message = str(rec["x"])
        out["status"] = {"code": 2, "message": message}
        etype = attrs.get("error.type") or message.split(":", 1)[0]
        out["events"] = [{"name": "exception", "timeUnixNano": str(rec["e"]),
                          "attributes": key_values({"exception.type": etype, "exception.message": message})}]
    return out


def resource_attributes(resource: dict) -> list[dict]:
    return key_values(resource)


def trace_document(records: list[dict]) -> dict:
    """One OTLP ExportTraceServiceRequest holding every span of one trace (grouped by resource), spans by start."""
    by_resource: dict[tuple, tuple[dict, list]] = {}
    for rec in sorted(records, key=lambda r: (r["b"], r["e"])):
        res = rec.get("r") or {}
        key = tuple(sorted((k, str(v)) for k, v in res.items()))
        by_resource.setdefault(key, (res, []))[1].append(otlp_span(rec))
    return {"resourceSpans": [{"resource": {"attributes": resource_attributes(res)},
                               "scopeSpans": [{"scope": SCOPE, "spans": spans}]}
                              for res, spans in by_resource.values()]}


class DocumentText:
    """`dumps(trace_document(records))` for many traces of one batch, each resource's part encoded once (the
    records of a segment share one resource dict; this object lives no longer than they do, so `id` is safe)."""

    def __init__(self, dumps: Callable[[Any], str]) -> None:
        self.dumps = dumps
        self.keys: dict[int, tuple] = {}
        self.heads: dict[tuple, str] = {}
        self.refs: list = []  # keeps every resource seen alive, so no id is reused while cached

    def __call__(self, records: list[dict]) -> str:
        by_resource: dict[tuple, list[str]] = {}
        for rec in sorted(records, key=lambda r: (r["b"], r["e"])):
            res = rec.get("r") or {}
            key = self.keys.get(id(res))
            if key is None:
                key = self.keys[id(res)] = tuple(sorted((k, str(v)) for k, v in res.items()))
                self.refs.append(res)
                if key not in self.heads:
                    self.heads[key] = ('{"resource":' + self.dumps({"attributes": resource_attributes(res)})
                                       + ',"scopeSpans":[{"scope":' + self.dumps(SCOPE) + ',"spans":[')
            by_resource.setdefault(key, []).append(self.dumps(otlp_span(rec)))
        return ('{"resourceSpans":['
                + ",".join(self.heads[key] + ",".join(spans) + "]}]}" for key, spans in by_resource.items()) + "]}")


_HOURS: dict[int, str] = {}


def hour_of(ns: int) -> str:
    """UTC hour of an epoch-nanosecond time as YYYYMMDDTHH (cached per hour)."""
    h = ns // 3_600_000_000_000
    text = _HOURS.get(h)
    if text is None:
        if len(_HOURS) > 10_000:
            _HOURS.clear()
        text = _HOURS[h] = datetime.fromtimestamp(h * 3600, tz=timezone.utc).strftime("%Y%m%dT%H")
    return text
