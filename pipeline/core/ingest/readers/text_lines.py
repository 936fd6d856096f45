"""Splits line-oriented text (LF, CRLF or lone-CR line ends) into a zero-copy Arrow string column, rejecting lines
that are not valid UTF-8; maps rejects of UTF-16 objects back to their original bytes."""
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


# formats whose rejects carry a physical line number (a CSV record may span several lines)
LINE_FORMATS = ("jsonl", "text", "logfmt", "access_log", "csv", "tsv")


def utf16_restorer(original: bytes, encoding: str):
    """For an object read from UTF-16: a function giving rejects their original UTF-16 bytes (byte-exact) in place of
    the UTF-8 they were read as. Lines are found on 16-bit code units (LF, or lone CR in old-Mac text)."""
    bom = 2 if original[:2] in (b"\xff\xfe", b"\xfe\xff") else 0
    width = (len(original) - bom) // 2 * 2
    units = np.frombuffer(original, dtype="<u2" if encoding.endswith("le") else ">u2", count=width // 2, offset=bom)
    lf = units == 10
    lone_cr = units == 13
    lone_cr[:-1] &= units[1:] != 10
    ends = np.flatnonzero(lf | lone_cr if np.count_nonzero(lone_cr) > np.count_nonzero(lf) else lf)
    starts = np.concatenate([[0], ends + 1])  # unit index where each line starts
    stops = np.concatenate([ends, [len(units)]])  # unit index of each line's terminator (or the end)

    def line_bytes(first: int, count: int) -> bytes:
        a, b = first - 1, first - 1 + count - 1
        if a < 0 or b >= len(starts):
            return b""
        raw = original[bom + 2 * int(starts[a]) : bom + 2 * int(stops[b])]
        cr = b"\r\x00" if encoding.endswith("le") else b"\x00\r"
        return raw[:-2] if raw.endswith(cr) else raw

    def restore(rejects: list) -> list:
        for r in rejects:
            if r.line > 0:
                exact = line_bytes(r.line, r.raw.count(b"\n") + 1)
                if exact or not r.raw:
                    r.raw = exact
        return rejects

    return restore


def utf16_reencoder(encoding: str):
    """For UTF-16 documents without line-numbered rejects (JSON): each reject's text written back in `encoding`
    (exact for well-formed UTF-16; an undecodable unit was already replaced when the object was read)."""

    def restore(rejects: list) -> list:
        for r in rejects:
            if r.raw:
                r.raw = r.raw.decode("utf-8", "surrogateescape").encode(encoding, "surrogatepass")
        return rejects

    return restore
