"""Fast path for clean JSON Lines objects: one columnar check that the object needs none of the line-exact reader's
repairs, then the same records table the line-exact reader would build (so entries are identical by construction).

A clean object has no BOM, no CR, no NUL byte, valid UTF-8, every line (no blank ones) starting with `{` and no line
with more opening brackets than the nesting limit. Anything else returns None and the caller falls back to the
line-exact reader (`readers.jsonl.read_jsonl`), which quarantines byte-exact with line and offset.

What the fast path saves: the nesting check counts brackets per line from one vectorized scan (positions of `{`/`[`
and a binary search of line starts) instead of the reader's table lookup, and the records carry a schema-metadata
flag that lets the normalize query drop its blank-line filter (no line can be blank).
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa

from .normalize import NO_BLANK_LINES_KEY
from .readers.jsonl import BATCH_ROWS, line_records, line_starts
from .records import MAX_DEPTH, RECORDS_SCHEMA, ParsedRecords

ENABLED = True  # tests switch it off to compare both paths
_BLOCK = 1 << 24  # 16 MiB of comparison masks at a time: memory stays a small fraction of the object


def opening_brackets(data: bytes, offsets: np.ndarray) -> np.ndarray:
    """Number of `{` and `[` bytes in each line data[offsets[i]:offsets[i+1]] (strings included: an upper bound on
    nesting depth)."""
    buf = np.frombuffer(data, dtype=np.uint8)
    parts = []
    for s in range(0, len(buf), _BLOCK):
        seg = buf[s : s + _BLOCK]
        mask = seg == 123
        mask |= seg == 91
        parts.append(np.flatnonzero(mask) + s)
    pos = np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)
    return np.diff(np.searchsorted(pos, offsets))


def is_clean(data: bytes, offsets: np.ndarray) -> bool:
    """True when the line-exact reader would neither repair nor reject anything before DuckDB sees the lines."""
    n = len(offsets) - 1
    if n <= 0 or not data or data.startswith(b"\xef\xbb\xbf") or b"\r" in data or b"\x00" in data:
        return False
    buf = np.frombuffer(data, dtype=np.uint8)
    if not bool(np.all(buf[offsets[:-1]] == 123)):  # blank lines, leading spaces, arrays, garbage: line-exact path
        return False
    return int(opening_brackets(data, offsets).max()) <= MAX_DEPTH


def fast_jsonl(data: bytes, source: str, first_line: int = 1) -> ParsedRecords | None:
    """Records of a clean JSON Lines object (exactly what `read_jsonl` returns for it), or None to fall back."""
    if not ENABLED:
        return None
    offsets = line_starts(data)
    if not is_clean(data, offsets):
        return None
    n = len(offsets) - 1
    raw = pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data))
    try:
        raw.validate(full=True)  # UTF-8 checked by Arrow in C; an invalid line needs the line-exact reader's reject
    except pa.ArrowInvalid:
        return None
    table = line_records(source, first_line, raw)
    if table.num_rows > BATCH_ROWS:  # zero-copy batches so DuckDB scans them on all threads
        table = pa.Table.from_batches(table.to_batches(max_chunksize=BATCH_ROWS), RECORDS_SCHEMA)
    table = table.replace_schema_metadata({NO_BLANK_LINES_KEY: b"1"})  # the normalize query skips its blank filter
    return ParsedRecords(table, [], "jsonl", len(data))
