"""Reads JSON Lines without parsing in Python: lines become a zero-copy Arrow string column that DuckDB validates."""
from __future__ import annotations

import numpy as np
import pyarrow as pa

from ..records import MAX_DEPTH, RECORDS_SCHEMA, ParsedRecords, Reject, deep_rows

_SCAN_CHUNK = 1 << 20
BATCH_ROWS = 32_768  # newline search in 1 MiB slices keeps the comparison mask in cache


def line_starts(data: bytes) -> np.ndarray:
    """Byte offsets where each line starts, plus len(data) as the final end offset."""
    buf = np.frombuffer(data, dtype=np.uint8)
    parts = [np.flatnonzero(buf[s : s + _SCAN_CHUNK] == 10) + (s + 1) for s in range(0, len(buf), _SCAN_CHUNK)]
    ends = np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)
    starts = np.concatenate([[0], ends]).astype(np.int64)
    if len(starts) > 1 and starts[-1] == len(data):
        return starts  # data ends with a newline: the last start is the end offset
    return np.concatenate([starts, [len(data)]]).astype(np.int64)


def cr_line_ends(data: bytes, block: int = _SCAN_CHUNK) -> bytes:
    """Old-Mac text (lines ended by a lone CR) with each lone CR turned into LF; other text is returned as is.

    A lone CR counts as a line end when lone CRs outnumber LFs (counted in C, no copy); the replacement keeps every
    byte offset and is done in 1 MiB blocks, so memory stays one copy of the data."""
    cr = data.count(b"\r")
    if not cr or cr - data.count(b"\r\n") <= data.count(b"\n"):
        return data
    out = np.frombuffer(data, dtype=np.uint8).copy()
    n = len(out)
    for s in range(0, n, block):  # the byte after a block is still unmodified when the block is decided
        e = min(n, s + block)
        nxt = np.append(out[s + 1 : e + 1], 0) if e == n else out[s + 1 : e + 1]
        blk = out[s:e]
        blk[(blk == 13) & (nxt != 10)] = 10
    return out.tobytes()


def invalid_utf8_lines(data: bytes, offsets: np.ndarray, raw: pa.Array) -> list[int]:
    """0-based indexes of lines that are not valid UTF-8: Arrow validates all at once, Python only narrows failures."""
    try:
        raw.validate(full=True)
        return []
    except pa.ArrowInvalid:
        pass
    bad, n, step = [], len(offsets) - 1, 65536
    for s in range(0, n, step):
        e = min(n, s + step)
        try:
            data[offsets[s] : offsets[e]].decode("utf-8")
            continue
        except UnicodeDecodeError:
            pass
        for i in range(s, e):
            try:
                data[offsets[i] : offsets[i + 1]].decode("utf-8")
            except UnicodeDecodeError:
                bad.append(i)
    return bad


def read_jsonl(data: bytes, source: str, first_line: int = 1) -> ParsedRecords:
    """Split into lines (1-based numbers kept); invalid UTF-8 lines are rejected here, the rest validated in DuckDB."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = b"   " + data[3:]  # blank the BOM but keep byte offsets
    data = cr_line_ends(data)
    offsets = line_starts(data)
    n = len(offsets) - 1
    rejects: list[Reject] = []
    keep = None
    raw = pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data))
    bad = [(i, "invalid UTF-8") for i in invalid_utf8_lines(data, offsets, raw)]
    bad_set = {i for i, _ in bad}
    bad += [(i, f"nested deeper than {MAX_DEPTH} levels") for i in deep_rows(data, offsets) if i not in bad_set]
    if bad:
        keep = np.ones(n, dtype=bool)
        for i, reason in sorted(bad):
            keep[i] = False
            line_bytes = data[offsets[i] : offsets[i + 1]].rstrip(b"\r\n")
            rejects.append(Reject(source, first_line + i, reason, line_bytes, int(offsets[i])))
    table = line_records(source, first_line, raw)
    if keep is not None:
        table = table.filter(pa.array(keep))
    if table.num_rows > BATCH_ROWS:  # zero-copy batches so DuckDB scans them on all threads
        table = pa.Table.from_batches(table.to_batches(max_chunksize=BATCH_ROWS), RECORDS_SCHEMA)
    return ParsedRecords(table, rejects, "jsonl", len(data))


def read_jsonl_many(items: list[tuple[str, bytes]]) -> ParsedRecords:
    """Several small JSON Lines objects read in one pass; every row and reject keeps its own object and line number."""
    parts = []
    for _, data in items:
        if data.startswith(b"\xef\xbb\xbf"):
            data = b"   " + data[3:]
        data = cr_line_ends(data)
        parts.append(data if not data or data.endswith(b"\n") else data + b"\n")
    whole = read_jsonl(b"".join(parts), "")
    lines_per = np.fromiter((p.count(b"\n") for p in parts), dtype=np.int64, count=len(parts))
    first = np.concatenate([[0], np.cumsum(lines_per)])  # 0-based global line where each object starts
    byte_first = np.concatenate([[0], np.cumsum([len(p) for p in parts])])
    urls = pa.array([u for u, _ in items], pa.string())
    t = whole.records
    glob = t.column("line").to_numpy() - 1
    obj = np.searchsorted(first, glob, side="right") - 1
    table = pa.Table.from_arrays(
        [urls.take(pa.array(obj)), pa.array(glob - first[obj] + 1), t.column("sub"), t.column("raw")], schema=RECORDS_SCHEMA
    )
    for r in whole.rejects:
        k = int(np.searchsorted(first, r.line - 1, side="right") - 1)
        r.source, r.line = items[k][0], int(r.line - first[k])
        r.offset = int(r.offset - byte_first[k]) if r.offset >= 0 else r.offset
    return ParsedRecords(table, whole.rejects, "jsonl", sum(len(d) for _, d in items))


def line_records(source: str, first_line: int, raw: pa.Array) -> pa.Table:
    """The records table of consecutive lines: one row per line of `raw`, numbered from `first_line`."""
    n = len(raw)
    return pa.Table.from_arrays(
        [
            pa.repeat(pa.scalar(source, pa.string()), n),
            pa.array(np.arange(first_line, first_line + n, dtype=np.int64)),
            pa.array(np.zeros(n, dtype=np.int32)),
            raw,
        ],
        schema=RECORDS_SCHEMA,
    )
