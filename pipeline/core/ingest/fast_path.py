"""Fast path for clean JSON Lines objects: one columnar check that the object needs none of the line-exact reader's
repairs, then the same records table the line-exact reader would build (so entries are identical by construction).

A clean object has no BOM, no CR, no NUL byte, valid UTF-8, every line (no blank ones) starting with `{` and no line
with more opening brackets than the nesting limit. Anything else returns None and the caller falls back to the
line-exact reader (`readers.jsonl.read_jsonl`), which quarantines byte-exact with line and offset.

What the fast path saves: line starts, per-line bracket counts and the CR / NUL check come from one vectorized scan
(the positions of newlines, `{`/`[` and control bytes together; a line's count is the gap between its newline and the
previous one among its brackets and newlines), run on two halves of a large object at once; UTF-8 is validated over
the whole buffer in C (a newline never falls inside a multibyte character, so the buffer is valid exactly when every
line is); and the records carry a schema-metadata flag that lets the normalize query drop its blank-line filter (no
line can be blank).
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pyarrow as pa

from .normalize import NO_BLANK_LINES_KEY
from .readers.jsonl import BATCH_ROWS, line_records
from .records import MAX_DEPTH, RECORDS_SCHEMA, ParsedRecords

ENABLED = True  # tests switch it off to compare both paths
_BLOCK = 1 << 24  # 16 MiB of comparison masks at a time: memory stays a small fraction of the object
_SCAN_BLOCK = 1 << 20  # 1 MiB per step of the combined scan: masks stay in cache, few steps hold the GIL
_PARALLEL_BYTES = 8 << 20  # objects from this size are scanned as two halves at once


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


def _scan(buf: np.ndarray, lo: int, hi: int) -> tuple[np.ndarray, int, int, int] | None:
    """Over buf[lo:hi]: newline positions, the most `{`/`[` bytes on a line ending in the range after its first
    newline, the count before that first newline (the whole range's count if it has none), and the count after the
    last; None when the range holds a CR or a NUL byte. One pass per block finds every byte of interest at once."""
    nls, most, head, carry = [], 0, -1, 0
    for s in range(lo, hi, _SCAN_BLOCK):
        seg = buf[s : min(hi, s + _SCAN_BLOCK)]
        hits = (seg | 32) == 123  # '[' (0x5b) and '{' (0x7b) alike
        hits |= seg < 14  # newlines, and CR / NUL (and tabs, ...) to look at below
        pos = np.flatnonzero(hits)
        vals = seg[pos]
        if np.any((vals == 13) | (vals == 0)):
            return None
        pos, newline = (pos, vals == 10) if len(pos) == 0 else _brackets_and_newlines(pos, vals)
        k = np.flatnonzero(newline)  # which hits are newlines
        if not len(k):
            carry += len(pos)
            continue
        nls.append(pos[k] + s)
        gaps = np.diff(k) - 1
        if head < 0:
            head = carry + int(k[0])
        else:
            most = max(most, carry + int(k[0]))
        if len(gaps):
            most = max(most, int(gaps.max()))
        carry = len(pos) - 1 - int(k[-1])
    return (np.concatenate(nls) if nls else np.empty(0, np.int64)), most, head, carry


def _brackets_and_newlines(pos: np.ndarray, vals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    newline = vals == 10
    keep = newline | (vals > 13)  # drops tabs and other control bytes: only brackets and newlines count
    return pos[keep], newline[keep]


def _valid_utf8(data, lo: int, hi: int) -> bool:
    whole = pa.LargeStringArray.from_buffers(1, pa.py_buffer(np.array([0, hi - lo], np.int64)), pa.py_buffer(data)[lo:hi])
    try:
        whole.validate(full=True)  # in C, without the GIL
        return True
    except pa.ArrowInvalid:
        return False


def clean_lines(data: bytes) -> np.ndarray | None:
    """Line starts (plus the end offset, as `line_starts` returns them) of a clean object, else None."""
    n = len(data)
    if not n or data.startswith(b"\xef\xbb\xbf"):
        return None
    buf = np.frombuffer(data, dtype=np.uint8)
    mid = data.find(b"\n", n // 2) + 1 if n >= _PARALLEL_BYTES else 0
    if mid > 0:  # two halves split after a newline, each scanned and validated on its own thread
        with ThreadPoolExecutor(2) as pool:
            parts = list(pool.map(lambda r: (_scan(buf, *r), _valid_utf8(data, *r)), [(0, mid), (mid, n)]))
    else:
        parts = [(_scan(buf, 0, n), _valid_utf8(data, 0, n))]
    if not all(scan is not None and ok for scan, ok in parts):
        return None
    most, carry, nls = 0, 0, []
    for (pos, part_most, head, tail), _ in parts:
        if head < 0:
            carry += tail
            continue
        most, carry = max(most, part_most, carry + head), tail
        nls.append(pos)
    if max(most, carry) > MAX_DEPTH:
        return None
    ends = np.concatenate(nls) + 1 if nls else np.empty(0, np.int64)
    offsets = np.concatenate([[0], ends, [] if len(ends) and ends[-1] == n else [n]]).astype(np.int64)
    if not bool(np.all(buf[offsets[:-1]] == 123)):  # blank lines, leading spaces, arrays, garbage: line-exact path
        return None
    return offsets


def fast_jsonl(data: bytes, source: str, first_line: int = 1) -> ParsedRecords | None:
    """Records of a clean JSON Lines object (exactly what `read_jsonl` returns for it), or None to fall back."""
    if not ENABLED:
        return None
    offsets = clean_lines(data)
    if offsets is None:
        return None
    n = len(offsets) - 1
    raw = pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data))
    table = line_records(source, first_line, raw)
    if table.num_rows > BATCH_ROWS:  # zero-copy batches so DuckDB scans them on all threads
        table = pa.Table.from_batches(table.to_batches(max_chunksize=BATCH_ROWS), RECORDS_SCHEMA)
    table = table.replace_schema_metadata({NO_BLANK_LINES_KEY: b"1"})  # the normalize query skips its blank filter
    return ParsedRecords(table, [], "jsonl", len(data))
