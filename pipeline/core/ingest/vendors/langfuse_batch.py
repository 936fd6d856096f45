"""Langfuse ingestion batches ({batch: [{type, body, timestamp}], metadata}) and lone observation records
(GET /api/public/observations rows) -> spans for the trace stage.

Every event counts (not only batch[0]): trace-create gives the trace's name, input, output, user and session;
generation-, span- and event-create/update give observations (updates merged into their create by id; the older
SDKs' observation-create/update name the kind in body.type); scores and sdk-log events are kept out. Observations
of one trace in several batches are grouped by the ingest trace stage.
"""
from __future__ import annotations

from .base import VendorAdapter, as_dict, as_list, epoch_us, first, flat_mapping, ident, message_text
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
        if kind == "observation":
            kind = str(body.get("type") or "span").lower()
        if kind == "trace" and action in ("create", "update"):
            out.append((ident(body.get("id")), Span(
                span_id=body.get("id"), name=body.get("name"), input=body.get("input"), output=message_text(body.get("output")),
                user_id=body.get("userId"), session_id=body.get("sessionId"), version=body.get("release"),
                environment=body.get("environment"),
                start_us=epoch_us(first(body.get("timestamp"), ev.get("timestamp"))), instant=True, detail={"tags": body.get("tags")} if body.get("tags") else {})))
        elif kind in _OBS_TYPES and body.get("id") is not None:
            merged = observations.setdefault(str(body["id"]), {"type": _OBS_TYPES[kind]})
            merged.update({k: v for k, v in body.items() if v is not None})
    for obs in observations.values():
        span = observation_span(obs)
        if span.parent_id is None and obs.get("traceId") is not None:
            span.parent_id = ident(obs.get("traceId"))
        out.append((ident(obs.get("traceId")), span))
    return out


_OBS_KINDS = ("GENERATION", "SPAN", "EVENT", "TOOL", "AGENT", "EMBEDDING", "CHAIN", "RETRIEVER", "EVALUATOR",
              "GUARDRAIL")


def is_observation(rec: dict) -> bool:
    """One Langfuse observation on its own (GET /api/public/observations rows, exports of observations)."""
    return (rec.get("traceId") is not None and str(rec.get("type") or "").upper() in _OBS_KINDS
            and "startTime" in rec and "batch" not in rec)


def _page(rec: dict) -> list | None:
    """A page of the public API ({data: [observation, ...], meta: {page, ...}})."""
    data = rec.get("data")
    if isinstance(data, list) and data and all(isinstance(o, dict) and is_observation(o) for o in data[:20]):
        return data
    return None


def record_spans(rec: dict) -> list:
    """An ingestion batch's spans, or a lone observation's (grouped with the rest of its trace by the trace stage)."""
    page = _page(rec)
    if page is not None:
        return [p for o in page if isinstance(o, dict) for p in record_spans(o)]
    if is_observation(rec):
        span = observation_span(rec)
        return [(ident(rec.get("traceId")), span)]
    return batch_spans(rec)


def expand(rec: dict) -> list[dict]:
    if _page(rec) is not None:
        groups: dict = {}
        for trace_id, span in record_spans(rec):
            groups.setdefault(trace_id, []).append(span)
        return [trace_entry(spans, tid) for tid, spans in groups.items()]
    if is_observation(rec):
        return [trace_entry([observation_span(rec)], ident(rec.get("traceId")))]
    groups: dict = {}
    for trace_id, span in batch_spans(rec):
        groups.setdefault(trace_id, []).append(span)
    return [trace_entry(spans, tid) for tid, spans in groups.items()] or [{"vendor_detail": {"reason": "empty batch"}}]


def detect(rec: dict) -> float:
    if is_observation(rec) or _page(rec) is not None:
        return 0.9
    batch = as_list(rec.get("batch"))
    if batch and all(isinstance(e, dict) and "type" in e and "body" in e for e in batch[:5]):
        return 1.0
    return 0.0


ADAPTER = VendorAdapter("langfuse_batch", detect, flat_mapping(), expand, spans=record_spans)
