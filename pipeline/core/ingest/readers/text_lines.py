"""Splits line-oriented text (LF, CRLF or lone-CR line ends) into a zero-copy Arrow string column, rejecting lines that are not valid UTF-8."""
from __future__ import annotations

import numpy as np
import pyarrow as pa

from ..records import Reject
from .jsonl import cr_line_ends, invalid_utf8_lines, line_starts

UTF8_BOM = b"\xef\xbb\xbf"


def split_lines(data: bytes, source: str) -> tuple[pa.LargeStringArray, np.ndarray, list[Reject]]:
    """(lines with their line breaks, 1-based line numbers, rejects for invalid UTF-8 lines)."""
    if data.startswith(UTF8_BOM):
        data = b"   " + data[3:]  # blank the BOM but keep byte offsets
    data = cr_line_ends(data)
    offsets = line_starts(data)
    n = len(offsets) - 1
    lines = pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data))
    numbers = np.arange(1, n + 1, dtype=np.int64)
    bad = invalid_utf8_lines(data, offsets, lines)
    if not bad:
        return lines, numbers, []
    rejects = [
        Reject(source, i + 1, "invalid UTF-8", data[offsets[i] : offsets[i + 1]].rstrip(b"\r\n"), int(offsets[i]))
        for i in bad
    ]
    keep = np.ones(n, dtype=bool)
    keep[bad] = False
    return lines.filter(pa.array(keep)), numbers[keep], rejects


def reject_raw(text: str) -> bytes:
    return text.rstrip("\r\n").encode("utf-8", "surrogateescape")
