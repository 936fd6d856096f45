"""What every reader returns: JSON-object records with their position, and rejects bound for quarantine."""
from __future__ import annotations

import json
from dataclasses import dataclass, field

import pyarrow as pa

RECORDS_SCHEMA = pa.schema(
    [
        pa.field("source", pa.string()),
        pa.field("line", pa.int64()),  # 1-based line (text formats) or record number (binary/array formats)
        pa.field("sub", pa.int32()),  # index of an entry expanded out of one record (vendor documents), else 0
        pa.field("raw", pa.large_string()),  # the record as a JSON object text
    ]
)


@dataclass
class Reject:
    """A record that could not be read or normalized; it is kept whole, with where it came from and why."""

    source: str
    line: int
    reason: str
    raw: bytes = b""
    offset: int = -1
    field: str | None = None


@dataclass
class ParsedRecords:
    """Records read from one source object, in one format."""

    records: pa.Table
    rejects: list[Reject] = field(default_factory=list)
    format: str = "unknown"
    bytes_read: int = 0

    @property
    def num_records(self) -> int:
        return self.records.num_rows


def records_from_dicts(source: str, rows: list[tuple[int, int, dict]]) -> pa.Table:
    """Build a records table from (line, sub, dict) triples; used by readers of small or document formats."""
    return pa.table(
        {
            "source": pa.array([source] * len(rows), pa.string()),
            "line": pa.array([r[0] for r in rows], pa.int64()),
            "sub": pa.array([r[1] for r in rows], pa.int32()),
            "raw": pa.array([json.dumps(r[2], ensure_ascii=False, default=str) for r in rows], pa.large_string()),
        },
        schema=RECORDS_SCHEMA,
    )


def empty_records() -> pa.Table:
    return RECORDS_SCHEMA.empty_table()


def rejects_to_table(rejects: list[Reject], drop: str | None = None) -> pa.Table:
    from ..entry_schema import QUARANTINE_SCHEMA

    return pa.table(
        {
            "drop": pa.array([drop] * len(rejects), pa.string()),
            "source": pa.array([r.source for r in rejects], pa.string()),
            "line": pa.array([r.line for r in rejects], pa.int64()),
            "offset": pa.array([r.offset for r in rejects], pa.int64()),
            "field": pa.array([r.field for r in rejects], pa.string()),
            "reason": pa.array([r.reason for r in rejects], pa.string()),
            "raw": pa.array([r.raw for r in rejects], pa.binary()),
        },
        schema=QUARANTINE_SCHEMA,
    )
