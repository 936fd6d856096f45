"""Langfuse ingestion batches ({batch: [{type, body, timestamp}], metadata}) -> spans for the trace stage.

Every event counts (not only batch[0]): trace-create gives the trace's name, input, output, user and session;
generation-, span- and event-create/update give observations (updates merged into their create by id); scores are
kept out. Observations of one trace in several batches are grouped by the ingest trace stage.
"""
from __future__ import annotations

from .base import VendorAdapter, as_dict, as_list, flat_mapping, ident, message_text
from .langfuse import observation_span
from .spans import Span, trace_entry

_OBS_TYPES = {"generation": "GENERATION", "span": "SPAN", "event": "EVENT", "tool": "TOOL", "agent": "AGENT",
              "embedding": "EMBEDDING"}


def batch_spans(rec: dict) -> list:
    observations: dict[str, dict] = {}
    out = []
    for ev in as_list(rec.get("batch")):
        ev = as_dict(ev)
        kind, _, action = str(ev.get("type") or "").rpartition("-")
        body = as_dict(ev.get("body"))
        if kind == "trace" and action in ("create", "update"):
            out.append((ident(body.get("id")), Span(
                span_id=body.get("id"), name=body.get("name"), input=body.get("input"), output=message_text(body.get("output")),
                user_id=body.get("userId"), session_id=body.get("sessionId"), version=body.get("release"),
                environment=body.get("environment"), detail={"tags": body.get("tags")} if body.get("tags") else {})))
        elif kind in _OBS_TYPES and body.get("id") is not None:
            merged = observations.setdefault(str(body["id"]), {"type": _OBS_TYPES[kind]})
            merged.update({k: v for k, v in body.items() if v is not None})
    for obs in observations.values():
        span = observation_span(obs)
        if span.parent_id is None and obs.get("traceId") is not None:
            span.parent_id = ident(obs.get("traceId"))
        out.append((ident(obs.get("traceId")), span))
    return out


def expand(rec: dict) -> list[dict]:
    groups: dict = {}
    for trace_id, span in batch_spans(rec):
        groups.setdefault(trace_id, []).append(span)
    return [trace_entry(spans, tid) for tid, spans in groups.items()] or [{"vendor_detail": {"reason": "empty batch"}}]


def detect(rec: dict) -> float:
    batch = as_list(rec.get("batch"))
    if batch and all(isinstance(e, dict) and "type" in e and "body" in e for e in batch[:5]):
        return 1.0
    return 0.0


ADAPTER = VendorAdapter("langfuse_batch", detect, flat_mapping(), expand, spans=batch_spans)
