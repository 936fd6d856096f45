"""The rows `detect_anomalies` finds, collected as found: one anomaly per (entry, metric) at most, entry ids and line
numbers taken from the entries at the end (by row), sorted by time, segment and metric."""
from __future__ import annotations

import numpy as np
import pyarrow as pa

ANOMALY_SCHEMA = pa.schema([
    ("ts", pa.timestamp("us", tz="UTC")), ("entry_id", pa.string()), ("line", pa.int64()),
    ("segment", pa.string()), ("metric", pa.string()), ("value", pa.float64()), ("expected", pa.float64()),
    ("score", pa.float64()), ("detectors", pa.list_(pa.string())), ("severity", pa.string()),
    ("explanation", pa.string()),
])
NO_TS = np.iinfo(np.int64).min  # a missing timestamp sorts first and is left out of the rates


class AnomalyCollector:
    """Anomaly rows as they are found; entry_id and line are taken from the entries at the end (by row)."""

    def __init__(self):
        self.cols: dict[str, list] = {f.name: [] for f in ANOMALY_SCHEMA if f.name not in ("entry_id", "line")}
        self.rows: list[int | None] = []

    def add(self, row: int | None, **kw) -> None:
        if kw["ts"] == NO_TS:
            kw["ts"] = None
        self.rows.append(None if row is None else int(row))
        for k, v in kw.items():
            self.cols[k].append(v)

    def extend(self, other: "AnomalyCollector") -> None:
        self.rows += other.rows
        for k, v in other.cols.items():
            self.cols[k] += v

    def table(self, entries: pa.Table) -> pa.Table:
        rows = pa.array(self.rows, pa.int64())
        taken = {c: entries.column(c).take(rows) if c in entries.column_names else pa.nulls(len(rows))
                 for c in ("entry_id", "line")}
        arrays = {f.name: pa.array(self.cols[f.name], f.type) if f.name in self.cols else taken[f.name].cast(f.type)
                  for f in ANOMALY_SCHEMA}
        t = pa.table(arrays, schema=ANOMALY_SCHEMA)
        return t.sort_by([("ts", "ascending"), ("segment", "ascending"), ("metric", "ascending")])
