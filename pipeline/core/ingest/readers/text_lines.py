"""Splits line-oriented text (LF, CRLF or lone-CR line ends) into a zero-copy Arrow string column, rejecting lines
that are not valid UTF-8; maps rejects of UTF-16 objects back to their original bytes. Also finds log chatter that
holds no request: lines carrying a log level, progress bars, Python tracebacks."""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

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


ANSI = r"\x1b\[[0-9;?]*[A-Za-z]"  # colour codes (TGI, uvicorn, docker compose on a terminal)
LEVEL_LINE = "|".join((
    r"^\[?(?:INFO|WARNING|WARN|ERROR|DEBUG|CRITICAL|TRACE|FATAL|I|W|E)\]?[: ]",
    r"^(?:info|warn|warning|error|debug)\t",  # Go zap / Istio: `info\txdsproxy\t...`
    r"^\[[^\]]+\]\[\d+\]\[(?:trace|debug|info|warning|error|critical)\]",  # Envoy's own log
    r"^\[[^\]]+\] \[\d+\] \[(?:DEBUG|INFO|WARNING|ERROR|CRITICAL)\] ",  # gunicorn's error log
))
_PROGRESS = r"\d+/\d+ \[[\d:]+<[\d:?]+"  # tqdm: `Loading shards: 100%|###| 4/4 [00:03<00:00, 1.1it/s]`
_TRACEBACK = r"^\s*(?:\+ )?(?:Exception Group )?Traceback \(most recent call last\):"
_TRACE_BODY = (r"^(?:\s|$|During handling of the above exception|The above exception was the direct cause"
               r"|Traceback \(most recent)")
_EXCEPTION = r"^[A-Za-z_][\w.]*(?::(?: .*)?)?$"  # the traceback's last line: `ValueError: bad template`


def chatter_lines(text: pa.Array) -> np.ndarray:
    """Lines that are log chatter, not requests: a log level at the start, a progress bar, a Python traceback."""
    match = lambda pat: pc.match_substring_regex(text, pat).to_numpy(zero_copy_only=False)  # noqa: E731
    out = match(LEVEL_LINE) | match(_PROGRESS)
    starts = np.flatnonzero(match(_TRACEBACK))
    if len(starts):
        body, last = match(_TRACE_BODY), match(_EXCEPTION)
        n, i = len(text), -1
        for s in starts.tolist():
            if s <= i:
                continue
            i = s + 1
            while i < n and body[i]:
                i += 1
            if i < n and last[i]:
                i += 1
            out[s:i] = True
            i -= 1
    return out


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
