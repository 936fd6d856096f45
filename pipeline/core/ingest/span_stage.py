"""The engine's trace-assembly stage: objects read by a span-level adapter feed one drop-wide TraceAssembler.

Entries come out when traces are evicted (span budget) and at the end of the drop; each is attributed to the object
and line of its trace's first span, and counted in that object's report.
"""
from __future__ import annotations

import json
from typing import Iterator

import pyarrow as pa

from .mapping import Mapping
from .normalize import normalize_records
from .pricing import fill_costs
from .records import RECORDS_SCHEMA, Reject
from .traces import AssembledEntry, TraceAssembler
from .vendors import ADAPTERS


class SpanStage:
    def __init__(self, config, drop, con, prices, result):
        self.drop, self.con, self.prices, self.result = drop, con, prices, result
        self.assembler = TraceAssembler(config.reading.max_buffered_spans)
        self.mapping: Mapping | None = None
        self.reports: dict = {}  # url -> SourceReport, appended to the result when the drop ends

    def takes(self, report) -> bool:
        adapter = next((a for a in ADAPTERS if a.name == report.vendor), None)
        self._spans = adapter.spans if adapter is not None else None
        return self._spans is not None

    def feed(self, records: pa.Table, mapping: Mapping, report) -> Iterator[pa.Table]:
        self.mapping = mapping
        self.reports[report.url] = report
        done: list[AssembledEntry] = []
        for line, raw in zip(records.column("line").to_pylist(), records.column("raw").to_pylist()):
            try:
                pairs = self._spans(json.loads(raw))
            except Exception as exc:  # noqa: BLE001 - span records are untrusted input: reject the record, go on
                pairs, reason = [], f"unreadable span: {type(exc).__name__}: {exc}"
            else:
                reason = "record holds no span"
            if not pairs:
                rej = Reject(report.url, line, reason, raw.encode("utf-8", "surrogateescape"))
                report.rows_rejected += 1
                self.result.rejects.append(rej)
            for trace_id, span in pairs:
                done.extend(self.assembler.add(report.url, line, trace_id, span))
        if done:
            yield from self._emit(done)

    def finish(self) -> Iterator[pa.Table]:
        done = self.assembler.finish()
        if done:
            yield from self._emit(done)
        for report in self.reports.values():
            report.rows_read = report.rows_kept + report.rows_rejected
            self.result.sources.append(report)
            self.result.rows_read += report.rows_read
            self.result.rows_kept += report.rows_kept
            self.result.rows_rejected += report.rows_rejected
            self.result.bytes_read += report.bytes_read
        self.reports = {}

    def _emit(self, done: list[AssembledEntry]) -> Iterator[pa.Table]:
        table = pa.table(
            {
                "source": pa.array([d.source for d in done], pa.string()),
                "line": pa.array([d.line for d in done], pa.int64()),
                "sub": pa.array([0] * len(done), pa.int32()),
                "raw": pa.array([json.dumps(d.entry, ensure_ascii=False, default=str) for d in done],
                                pa.large_string()),
            },
            schema=RECORDS_SCHEMA,
        )
        norm = normalize_records(table, self.mapping, self.drop, self.con)
        entries, filled = fill_costs(norm.entries, self.prices)
        self.result.costs_filled += filled
        self.result.rejects.extend(norm.rejects)
        kept = entries.column("source").to_pylist()
        for url in kept:
            self.reports[url].rows_kept += 1
        for rej in norm.rejects:
            if rej.source in self.reports:
                self.reports[rej.source].rows_rejected += 1
        yield entries
