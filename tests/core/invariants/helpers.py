"""Builders for small hand-made entry tables in the canonical schema."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pyarrow as pa

from pipeline.core.entry_schema import CANONICAL_SCHEMA

T0 = datetime(2025, 1, 1, tzinfo=timezone.utc)


def entries(rows: list[dict], **columns) -> pa.Table:
    """Canonical table from row dicts (missing fields null); entry_id, line and ts are filled in when absent.
    Keyword arguments give whole columns as lists."""
    n = len(rows) if rows else len(next(iter(columns.values())))
    rows = rows or [{} for _ in range(n)]
    data = {f.name: [] for f in CANONICAL_SCHEMA}
    for i, row in enumerate(rows):
        row = {**{k: v[i] for k, v in columns.items()}, **row}
        for f in CANONICAL_SCHEMA:
            data[f.name].append(row.get(f.name))
        data["entry_id"][-1] = row.get("entry_id", f"e{i:06d}")
        data["line"][-1] = row.get("line", i + 1)
        data["ts"][-1] = row.get("ts", T0 + timedelta(seconds=i))
    return pa.Table.from_pydict(data, schema=CANONICAL_SCHEMA)
