"""The engine's drop-wide request join: one RequestJoiner for every server log of a drop, read in reading order.

A request whose lines all lie in one object comes out with that object's records. One still open when its object
ends waits for the drop's next objects; once closed (or at the end of the drop, marked open) it is emitted here,
attributed to the object and line of its first line and counted in that object's report when the drop ends. Its
mapping is inferred from the emitted records themselves (they all have the joiner's shape).
"""
from __future__ import annotations

import json
from collections import Counter
from typing import Callable, Iterator

import pyarrow as pa

from .batching import kept_by_source
from .normalize import normalize_records
from .pricing import fill_costs
from .readers.request_join import RequestJoiner
from .records import RECORDS_SCHEMA, ParsedRecords
from .results import SourceReport

DRAIN_ROWS = 20_000  # carried records emitted between objects once this many are waiting


class RequestStage:
    def __init__(self, config, drop, con, prices, result, plan: Callable):
        self.config, self.drop, self.con, self.prices, self.result, self.plan = config, drop, con, prices, result, plan
        self.joiner = RequestJoiner()
        self.order: dict[str, int] = {}
        self.kept: Counter = Counter()
        self.rejected: Counter = Counter()

    def begin(self, url: str, last: bool) -> None:
        self.order.setdefault(url, len(self.order))
        self.joiner.begin(url, last)

    def drain(self, final: bool = False) -> Iterator[pa.Table]:
        if not final and len(self.joiner.carried) < DRAIN_ROWS:
            return
        done = sorted(self.joiner.take_carried(final), key=lambda t: (self.order.get(t[0], 0), t[1]))
        if not done:
            return
        table = pa.table({
            "source": pa.array([s for s, _, _ in done], pa.string()),
            "line": pa.array([n for _, n, _ in done], pa.int64()),
            "sub": pa.array([0] * len(done), pa.int32()),
            "raw": pa.array([json.dumps(r, ensure_ascii=False) for _, _, r in done], pa.large_string()),
        }, schema=RECORDS_SCHEMA)
        report = SourceReport(done[0][0], "text", None, None, 0)  # scratch: the real reports are counted at the end
        records, mapping = self.plan(ParsedRecords(table, [], "server_log"), self.config, report, self.con)
        chunk = self.config.reading.chunk_rows
        for start in range(0, records.num_rows, chunk):
            norm = normalize_records(records.slice(start, chunk), mapping, self.drop, self.con)
            entries, filled = fill_costs(norm.entries, self.prices)
            self.result.costs_filled += filled
            self.result.rejects.extend(norm.rejects)
            self.kept.update(kept_by_source(entries))
            self.rejected.update(r.source for r in norm.rejects)
            yield entries

    def finish(self) -> Iterator[pa.Table]:
        """Emit what still waits, then add the carried records to their objects' reports and the totals."""
        yield from self.drain(final=True)
        reports = {s.url: s for s in self.result.sources}
        for url in set(self.kept) | set(self.rejected):
            kept, rejected = self.kept[url], self.rejected[url]
            report = reports.get(url)
            if report is not None:
                report.rows_kept += kept
                report.rows_rejected += rejected
                report.rows_read += kept + rejected
            self.result.rows_kept += kept
            self.result.rows_rejected += rejected
            self.result.rows_read += kept + rejected
        self.kept, self.rejected = Counter(), Counter()
