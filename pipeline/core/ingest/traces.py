"""Trace assembly, a stage of ingest: spans from any lines and any objects of one drop, grouped per trace id.

Each trace becomes one entry by the rules of `vendors.spans.trace_entry` (root input/output, leaf LLM calls' model
and summed tokens, tool names in call order, latency from the earliest start to the latest end, an error anywhere
makes the trace an error). Memory is bounded by `max_spans`: when more spans are buffered, the traces idle longest
are emitted early and marked `incomplete`; traces without a root or with unfinished spans at the end of a drop are
emitted as they are and marked `open`.
"""
from __future__ import annotations

from collections import Counter, OrderedDict
from dataclasses import dataclass, field

from .vendors.spans import Span, merged, pick_root, trace_entry

MAX_BUFFERED_SPANS = 200_000


@dataclass
class _Trace:
    spans: dict = field(default_factory=dict)  # span id (or position) -> Span; a re-exported span merges into itself
    source: str = ""
    line: int = 0
    sources: set = field(default_factory=set)


@dataclass
class AssembledEntry:
    source: str  # the object holding the trace's first span
    line: int  # that span's line / record number
    entry: dict


class TraceAssembler:
    """Buffers spans per trace; `add` returns traces evicted to stay under the span budget, `finish` the rest."""

    def __init__(self, max_spans: int = MAX_BUFFERED_SPANS):
        self.max_spans = max(1, max_spans)
        self._traces: OrderedDict[str, _Trace] = OrderedDict()
        self._buffered = 0
        self.spans_seen = 0
        self.evicted = 0

    @property
    def buffered(self) -> int:
        """Spans held right now (never above max_spans once `add` returns)."""
        return self._buffered

    def add(self, source: str, line: int, trace_id: str | None, span: Span) -> list[AssembledEntry]:
        key = trace_id if trace_id is not None else f"\x00{source}:{line}"  # no trace id: a trace of its own
        trace = self._traces.get(key)
        if trace is None:
            trace = self._traces[key] = _Trace(source=source, line=line)
        else:
            self._traces.move_to_end(key)
        trace.sources.add(source)
        span_key = span.span_id or f"#{len(trace.spans)}"
        previous = trace.spans.get(span_key)
        if previous is None:
            self._buffered += 1
        if previous is None:
            trace.spans[span_key] = span
        elif span.end_us is not None or previous.end_us is None:
            trace.spans[span_key] = merged(span, previous)
        else:
            trace.spans[span_key] = merged(previous, span)
        self.spans_seen += 1
        out = []
        while self._buffered > self.max_spans and self._traces:  # one giant trace is cut too: memory stays bounded
            old_key, old = self._traces.popitem(last=False)
            self._buffered -= len(old.spans)
            self.evicted += 1
            out.append(self._emit(old_key, old, incomplete=True))
        return out

    def finish(self) -> list[AssembledEntry]:
        out = [self._emit(k, t) for k, t in self._traces.items()]
        self._traces.clear()
        self._buffered = 0
        return out

    def _emit(self, key: str, trace: _Trace, incomplete: bool = False) -> AssembledEntry:
        spans = list(trace.spans.values())
        root = pick_root(spans)
        rootless = all(s.parent_id for s in spans)  # every span names a parent: the root has not arrived
        unfinished = sum(1 for s in spans if s.end_us is None and s.start_us is not None and not s.instant)
        detail = {
            "assembled": True,
            "span_kinds": dict(Counter(s.kind for s in spans)),
            "objects": len(trace.sources),
        }
        if incomplete:
            detail["incomplete"] = "span budget reached; later spans of this trace form another entry"
        reasons = (["no root span"] if rootless else []) + ([f"{unfinished} span(s) without an end"] if unfinished else [])
        if reasons:
            detail["open"] = "; ".join(reasons)
        trace_id = None if key.startswith("\x00") else key
        entry = trace_entry(spans, trace_id, detail=detail)
        if root is not None and root.detail.get("finish_reason") and "finish_reason" not in entry["vendor_detail"]:
            entry["vendor_detail"]["finish_reason"] = root.detail["finish_reason"]
        return AssembledEntry(trace.source, trace.line, entry)
