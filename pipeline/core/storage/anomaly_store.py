"""The warehouse's `anomalies` table: one drop's anomalies replace that drop's earlier rows (one commit)."""
from __future__ import annotations

import pyarrow as pa

from .store import as_store


def with_drop(drop: str, found: pa.Table) -> pa.Table:
    """`found` with the drop key as its first column (the partition column of per-drop tables)."""
    return found.add_column(0, pa.field("drop", pa.string()), pa.array([drop] * found.num_rows, pa.string()))


def store_anomalies(target, drop: str, found: pa.Table) -> int:
    """Replace `drop`'s rows with `found` (the table is created from its schema on first use); `target` is a
    warehouse store or a DuckDB connection."""
    as_store(target).replace("anomalies", with_drop(drop, found), {"drop": drop})
    return found.num_rows
