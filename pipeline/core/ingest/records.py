"""What every reader returns: JSON-object records with their position, and rejects bound for quarantine."""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field

import numpy as np
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


MAX_DEPTH = 256  # records nested deeper than this are quarantined whole: no stage after ingest has to recurse further
_TOKEN = re.compile(rb'"(?:[^"\\\n]|\\.)*"?|[\[\]{}]')
_BLOCK = 16 << 20


def nesting_depth(text: bytes) -> int:
    """The deepest bracket nesting of a JSON text, brackets inside strings ignored (iterative: any depth is fine)."""
    depth = deepest = 0
    for m in _TOKEN.finditer(text):
        c = m.group()[:1]
        if c in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        elif c in (b"]", b"}"):
            depth -= 1
    return deepest


def deep_rows(data: bytes, offsets: np.ndarray, limit: int = MAX_DEPTH) -> list[int]:
    """Indexes of the rows data[offsets[i]:offsets[i+1]] nested deeper than `limit`.

    Columnar prefilter: a row with at most `limit` opening brackets cannot be deeper; only the rare rest is scanned.
    """
    n = len(offsets) - 1
    if n <= 0 or len(data) <= _BLOCK and data.count(b"[") + data.count(b"{") <= limit:  # small data, decided in C
        return []
    buf = np.frombuffer(data, dtype=np.uint8)
    counts = np.zeros(n, dtype=np.int64)
    for s in range(0, len(buf), _BLOCK):  # bracket positions per block: memory stays a fraction of the data
        pos = np.flatnonzero((buf[s : s + _BLOCK] | 32) == 123) + s  # '[' (0x5b) and '{' (0x7b) alike
        if len(pos):
            counts += np.diff(np.searchsorted(pos, offsets))
    candidates = np.flatnonzero(counts > limit)
    return [int(i) for i in candidates if nesting_depth(data[offsets[i] : offsets[i + 1]]) > limit]


def load_record(text: str | bytes):
    """Parse one record for sampling: NaN/Infinity and overflowing numbers read as null; None when unparseable."""
    try:
        return json.loads(text, parse_constant=lambda _c: None, parse_float=_finite_float)
    except (ValueError, TypeError, RecursionError):
        return None


def _finite_float(s: str) -> float | None:
    f = float(s)
    return f if math.isfinite(f) else None
