"""Collapses one trace's span tree (runs, observations, spans) into a single near-canonical entry dict."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, fields
from typing import Any

from .base import epoch_us, first, ident, iso_utc
from .branches import branch_path

LLM_KINDS = ("llm", "embedding")


@dataclass
class Span:
    """A vendor span reduced to what the trace summary needs; times are epoch microseconds."""

    span_id: str | None = None
    parent_id: str | None = None
    name: str | None = None
    kind: str = "other"  # "llm" | "embedding" | "tool" | "other"
    start_us: int | None = None
    end_us: int | None = None
    input: Any = None
    output: Any = None
    model: str | None = None
    provider: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cost_usd: float | None = None
    failed: bool = False
    error: str | None = None
    tool_name: str | None = None
    requested_tools: list = field(default_factory=list)  # tools an LLM call's output asked for (no tool span needed)
    session_id: str | None = None
    user_id: str | None = None
    service: str | None = None
    version: str | None = None
    environment: str | None = None
    detail: dict = field(default_factory=dict)  # vendor extras worth keeping (finish reason, params, ttft, ...)
    first_token_us: int | None = None  # when a streamed call's first token arrived (epoch microseconds)
    instant: bool = False  # a point in time (an event, a trace record): it has no end and is never "unfinished"

    def __post_init__(self) -> None:
        self.span_id, self.parent_id = ident(self.span_id), ident(self.parent_id)

    @property
    def duration_ms(self) -> float | None:
        if self.start_us is None or self.end_us is None:
            return None
        return (self.end_us - self.start_us) / 1000.0


def merged(winner: Span, other: Span) -> Span:
    """One span exported twice (a create and its update in two batches, a span re-sent when it ended): the
    winner's values, the other copy's where the winner has none."""
    for f in fields(Span):
        mine, theirs = getattr(winner, f.name), getattr(other, f.name)
        if f.name == "detail":
            winner.detail = {**theirs, **mine}
        elif mine in (None, [], "other") and theirs not in (None, []):
            setattr(winner, f.name, theirs)
    return winner


def _start_key(s: Span) -> tuple:
    return (s.start_us is None, s.start_us or 0)


def pick_root(spans: list[Span]) -> Span | None:
    """The span without a (known) parent; several such: the earliest, then the longest."""
    ids = {s.span_id for s in spans if s.span_id}
    roots = [s for s in spans if not s.parent_id or s.parent_id not in ids] or spans
    if not roots:
        return None
    return min(roots, key=lambda s: (*_start_key(s), -(s.duration_ms or 0.0)))


def leaf_model_calls(spans: list[Span]) -> list[Span]:
    """LLM/embedding spans with no LLM/embedding descendant: a wrapper that repeats its children's usage is skipped."""
    by_id = {s.span_id: s for s in spans if s.span_id}
    wrappers: set[str] = set()
    for s in spans:
        if s.kind not in LLM_KINDS:
            continue
        seen, pid = set(), s.parent_id
        while pid and pid in by_id and pid not in seen:  # `seen` guards against cyclic parent links
            seen.add(pid)
            if by_id[pid].kind in LLM_KINDS:
                wrappers.add(pid)
            pid = by_id[pid].parent_id
    return [s for s in spans if s.kind in LLM_KINDS and s.span_id not in wrappers]


def ttft_ms(calls: list[Span], trace_start: int | None) -> float | None:
    """Time to first token of a trace: the first streamed call's first token, measured from the trace's start (its
    own start when the trace has none); a first token before its start is unreadable."""
    firsts = [s for s in calls if s.first_token_us is not None]
    if not firsts:
        return None
    call = min(firsts, key=lambda s: s.first_token_us)
    start = first(trace_start, call.start_us)
    if start is None or call.first_token_us < start:
        return None
    return (call.first_token_us - start) / 1000.0


def _sum(values: list) -> Any:
    present = [v for v in values if v is not None]
    if not present:
        return None
    total = sum(present)
    return round(total, 12) if isinstance(total, float) else total  # drop float noise from adding many small costs


def _most_frequent(values: list[str]) -> str | None:
    values = [v for v in values if isinstance(v, str) and v]
    return Counter(values).most_common(1)[0][0] if values else None


def _timestamp(v: Any) -> Any:
    """ISO text for a readable time; unreadable text is passed on for the engine to reject; the rest is dropped."""
    us = epoch_us(v)
    if us is not None:
        return iso_utc(us)  # None when out of range, which the engine could not convert either
    if not isinstance(v, str):
        return None
    try:
        float(v)  # numeric text that is no usable time (nan, inf, out of range) would break the engine's conversion
        return None
    except ValueError:
        return v


def trace_start_us(trace: dict) -> int | None:
    return epoch_us(trace.get("ts")) if trace.get("ts") is not None else None


def _lower(v: Any) -> Any:
    return v.lower() if isinstance(v, str) else v


def _call_detail(s: Span) -> dict:
    out = {"name": s.name, "model": s.model, "prompt_tokens": s.prompt_tokens, "completion_tokens": s.completion_tokens,
           "latency_ms": s.duration_ms, "cost_usd": s.cost_usd, **s.detail}
    return {k: v for k, v in out.items() if v is not None}


# trace-level values the capture SDK's `trace_context` puts on every span (span attributes, kept in Span.detail)
SDK_REQUEST_ID, SDK_PROMPT_VERSION = "strata.request_id", "strata.prompt_version"


def _sdk_value(spans: list[Span], key: str) -> str | None:
    """The root's value of an SDK trace attribute, else the first span's (in start order) that has one."""
    for s in spans:
        v = s.detail.get(key)
        if isinstance(v, (str, int)) and not isinstance(v, bool) and str(v):
            return str(v)
    return None


def trace_entry(spans: list[Span], trace_id: Any = None, detail: dict | None = None, **trace: Any) -> dict:
    """One entry for a trace. `trace` holds trace-level values (same names as the canonical roles); they win over
    values derived from the spans: input/output from the root (else first/last LLM call), tokens and cost summed over
    leaf LLM calls, model = most frequent LLM model, tool calls in start order, error if any span failed."""
    ordered = sorted(spans, key=_start_key)
    root = pick_root(ordered)
    calls = leaf_model_calls(ordered)
    chat_calls = [s for s in calls if s.kind == "llm"] or calls
    starts = [s.start_us for s in ordered if s.start_us is not None]
    ends = [s.end_us for s in ordered if s.end_us is not None]
    failed = [s for s in ordered if s.failed]

    def from_spans(attr: str) -> Any:
        return first(*(getattr(s, attr) for s in ([root] if root else []) + ordered))

    prompt = _sum([s.prompt_tokens for s in calls])
    completion = _sum([s.completion_tokens for s in calls])
    if prompt is None and completion is None and root is not None:
        prompt, completion = root.prompt_tokens, root.completion_tokens
    cost = _sum([s.cost_usd for s in calls])
    if cost is None and root is not None:
        cost = root.cost_usd
    span_latency = root.duration_ms if root is not None else None
    work_starts = [s.start_us for s in ordered if s.start_us is not None and not s.instant]
    if span_latency is None and work_starts and ends:  # an instant (a trace record's timestamp) is no work done
        span_latency = (max(ends) - min(work_starts)) / 1000.0
    status = trace.get("status")
    first_start = first(root.start_us if root and not root.instant else None, min(starts, default=None))
    with_root = ([root] if root else []) + ordered
    prompt_version = _sdk_value(with_root, SDK_PROMPT_VERSION)
    service_version = from_spans("version")
    entry = {
        "ts": first(_timestamp(trace.get("ts")), iso_utc(first_start)),
        "trace_id": trace_id,
        "request_id": first(trace.get("request_id"), _sdk_value(with_root, SDK_REQUEST_ID), trace_id),
        "session_id": first(trace.get("session_id"), from_spans("session_id")),
        "user_id": first(trace.get("user_id"), from_spans("user_id")),
        "service": first(trace.get("service"), from_spans("service")),
        "version": first(trace.get("version"), prompt_version, service_version),  # a prompt version wins
        "environment": first(trace.get("environment"), from_spans("environment")),
        "model": first(_most_frequent([s.model for s in chat_calls]), root.model if root else None, trace.get("model")),
        "provider": _lower(first(_most_frequent([s.provider for s in chat_calls]), trace.get("provider"),
                                 from_spans("provider"))),
        "input": first(trace.get("input"), root.input if root else None,
                       next((s.input for s in chat_calls if s.input is not None), None)),
        "output": first(trace.get("output"), root.output if root else None,
                        next((s.output for s in reversed(chat_calls) if s.output is not None), None)),
        "latency_ms": first(trace.get("latency_ms"), span_latency),
        "ttft_ms": first(trace.get("ttft_ms"), ttft_ms([s for s in ordered if s.kind in LLM_KINDS],
                                                          first(trace_start_us(trace), first_start))),
        "prompt_tokens": first(prompt, trace.get("prompt_tokens")),
        "completion_tokens": first(completion, trace.get("completion_tokens")),
        "cost_usd": first(cost, trace.get("cost_usd")),
        "status": "error" if failed else (status or "ok"),
        "error": first(trace.get("error"), *(s.error for s in failed)),
        # tool spans; a trace without any: the tools its LLM calls asked for, in call order
        "tool_calls": [s.tool_name or s.name for s in ordered if s.kind == "tool" and (s.tool_name or s.name)] or
        [t for s in calls for t in s.requested_tools],
        "outcome": trace.get("outcome"),
        "branch_path": first(trace.get("branch_path"), branch_path(ordered)),
    }
    entry["vendor_detail"] = {
        "span_count": len(spans),
        "llm_calls": len(calls),
        "failed_spans": len(failed),
        "root_span": root.name if root else None,
        **({"service_version": service_version} if prompt_version and service_version not in (None, prompt_version)
           else {}),
        **(detail or {}),
        "calls": [_call_detail(s) for s in calls],
    }
    return entry


def empty_entry(detail: dict | None = None) -> dict:
    """What a document with no usable trace maps to: all roles null, the reason kept in attributes."""
    return {"vendor_detail": {"span_count": 0, **(detail or {})}}
