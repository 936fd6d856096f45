"""Guesses a source's format and text encoding from its first bytes; the file name's extension only breaks ties."""
from __future__ import annotations

import csv
import io
import json
import re

import numpy as np

from .readers.access_log import LINE_RE as ACCESS_LOG_LINE
from .readers.logfmt import is_logfmt_line

FORMATS = ("parquet", "avro", "json", "jsonl", "csv", "tsv", "logfmt", "access_log", "text", "binary", "empty")
DELIMITERS = (",", "\t", ";", "|")
# Formats content can leave tied (binary containers are told by magic bytes alone).
_EXTENSIONS = {
    "csv": "csv", "tsv": "tsv", "tab": "tsv", "psv": "csv", "json": "json", "jsonl": "jsonl", "ndjson": "jsonl",
    "logfmt": "logfmt",
}
_COMPRESSIONS = {"gz", "gzip", "zst", "zstd", "bz2", "xz", "lz4", "snappy", "zip", "z"}
_LINE_SHARE = 0.8  # share of sampled lines a line format must explain
# A NUL or other control byte in a record does not make text binary (that record is rejected by its reader); only a
# share of control bytes above CONTROL_SHARE spread over most lines does.
# ESC (\x1b) is allowed: ANSI-coloured logs are text.
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1a\x1c-\x1f]")
CONTROL_SHARE = 0.05
CONTROL_LINES = 0.5  # ... and more than this share of its lines holds one
_WHITESPACE = np.zeros(256, dtype=bool)
_WHITESPACE[[9, 10, 11, 12, 13, 32]] = True
_SKIP_BLOCK = 1 << 20


def detect_encoding(head: bytes) -> str:
    """"utf-8-sig", "utf-16-le" or "utf-16-be" from a BOM (or, for UTF-16, ASCII text with NULs interleaved);
    otherwise "utf-8"."""
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if head.startswith(b"\xff\xfe"):
        return "utf-16-le"
    if head.startswith(b"\xfe\xff"):
        return "utf-16-be"
    sample = head[: len(head[:64]) // 2 * 2]
    if len(sample) >= 4:
        even, odd = sample[0::2], sample[1::2]
        if not any(odd) and _ascii_text(even):
            return "utf-16-le"
        if not any(even) and _ascii_text(odd):
            return "utf-16-be"
    return "utf-8"


def _ascii_text(bs: bytes) -> bool:
    return all(b in (9, 10, 13) or 32 <= b < 127 for b in bs)


def _extension_format(name: str) -> str | None:
    parts = name.lower().rsplit("/", 1)[-1].split(".")[1:]
    while parts and parts[-1] in _COMPRESSIONS:
        parts.pop()
    return _EXTENSIONS.get(parts[-1]) if parts else None


def _decode(head: bytes) -> str | None:
    """The head as text (BOM removed), or None when it looks binary."""
    enc = detect_encoding(head)
    if enc.startswith("utf-16"):
        body = head[2:] if head[:2] in (b"\xff\xfe", b"\xfe\xff") else head
        return body[: len(body) // 2 * 2].decode(enc, errors="replace")
    if enc == "utf-8-sig":
        head = head[3:]
    text = head.decode("utf-8", errors="replace")
    n = max(len(text), 1)
    if text.count("\ufffd") / n > 0.25:
        return None
    if len(_CONTROL.findall(text)) / n > CONTROL_SHARE:
        # many control bytes: binary, unless they sit in a few lines of otherwise clean text (one record full of NULs)
        lines = text.split("\n")
        if len(lines) < 4 or sum(1 for ln in lines if _CONTROL.search(ln)) / len(lines) > CONTROL_LINES:
            return None
    return text


def _split_lines(text: str) -> tuple[list[str], str | None]:
    """(complete non-blank lines, the unterminated last line or None); the head may cut the last line short."""
    parts = re.split(r"\r\n|\r|\n", text)
    partial = parts.pop()
    return [p for p in parts if p.strip()], (partial if partial.strip() else None)


def _is_json(line: str) -> bool:
    try:
        json.loads(line)
        return True
    except ValueError:
        return False
    except RecursionError:  # nested too deep for Python, still JSON: the reader quarantines it by depth
        return True


def _json_format(text: str, ext: str | None) -> str | None:
    """"json" or "jsonl" when the text starts like JSON, else None."""
    s = text.lstrip()
    if not s or s[0] not in "[{":
        return None
    lines, partial = _split_lines(s)
    if lines and _is_json(lines[0]) and (len(lines) > 1 or partial is not None):
        # several values on their own lines (the cut last line aside); garbage lines become line-level rejects
        if sum(1 for line in lines if _is_json(line)) / len(lines) >= 0.5:
            return "jsonl"
    try:
        _, end = json.JSONDecoder().raw_decode(s)
    except RecursionError:
        return "json" if not lines or ext == "json" else "jsonl"
    except json.JSONDecodeError as exc:
        cut = exc.msg.startswith("Unterminated string") or exc.pos >= len(s.rstrip())
        if not cut:
            # an array of objects with a bad element is still a JSON document (the reader rejects that element)
            return "json" if s[0] == "[" and s[1:].lstrip()[:1] in ("{", "[", "]") or ext == "json" else None
        if s[0] == "{" and not lines:  # one long line cut by the head: a JSON Lines record more likely than a document
            return "json" if ext == "json" else "jsonl"
        return "json"
    if not s[end:].strip() and "\n" not in s.rstrip():  # a single value on a single line
        return "jsonl" if ext == "jsonl" else "json"
    return "json"


def _share(lines: list[str], partial: str | None, test) -> float:
    """Share of lines passing `test`; the cut last line counts only if it passes."""
    sample = lines + [partial] if partial is not None and test(partial) else lines
    return sum(1 for ln in sample if test(ln)) / len(sample) if sample else 0.0


def _looks_like_header(fields: list[str]) -> bool:
    return sum(1 for f in fields if not f) <= 1 and all(len(f) <= 64 and f == f.strip() for f in fields)


def _delimiter_score(text: str, delimiter: str) -> tuple[float, int]:
    """(share of records with the header's field count, header field count).

    Quote-aware, so a record with embedded newlines counts once.
    """
    try:
        records = [r for r in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter) if r]
    except csv.Error:
        return 0.0, 0
    if not records or len(records[0]) < 2 or not _looks_like_header(records[0]):
        return 0.0, 0
    width = len(records[0])
    if not text.endswith(("\n", "\r")) and len(records) > 1 and len(records[-1]) != width:
        records.pop()  # the head cut the last record short
    if len(records) == 1:
        return 1.0, width
    rows = records[1:]
    return sum(1 for r in rows if len(r) == width) / len(rows), width


def _best_delimiter(text: str) -> tuple[str, float]:
    best, best_score = ",", (0.0, 0)
    for d in DELIMITERS:
        if d not in text:
            continue
        score = _delimiter_score(text, d)
        if score > best_score:
            best, best_score = d, score
    return best, best_score[0]


def delimiter_of(head: bytes) -> str:
    """The field delimiter of delimited text (one of , TAB ; |), by consistent field counts; ',' when unsure."""
    text = _decode(head)
    return _best_delimiter(text)[0] if text else ","


def _line_candidates(text: str) -> dict[str, float]:
    lines, partial = _split_lines(text)
    found = {}
    access = _share(lines, partial, lambda ln: ACCESS_LOG_LINE.match(ln) is not None)
    if access >= _LINE_SHARE:
        found["access_log"] = access

    def logfmt_line(ln: str) -> bool:
        ok, pairs, bare = is_logfmt_line(ln)
        return ok and pairs >= 1 and bare <= pairs

    logfmt = _share(lines, partial, logfmt_line)
    if logfmt >= _LINE_SHARE:
        found["logfmt"] = logfmt
    delimiter, consistency = _best_delimiter(text)
    if consistency >= 0.9:
        found["tsv" if delimiter == "\t" else "csv"] = consistency
    return found


def sniff_format(head: bytes, name: str = "") -> str:
    """One of FORMATS, decided by content: magic bytes, JSON shape, then line formats and delimited text."""
    if not head or not head.strip():
        return "empty"
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"Obj\x01"):
        return "avro"
    text = _decode(head)
    if text is None:
        return "binary"
    if not text.strip():
        return "empty"
    ext = _extension_format(name)
    fmt = _json_format(text, ext)
    if fmt:
        return fmt
    found = _line_candidates(text)
    if ext in found:
        return ext
    for fmt in ("access_log", "logfmt", "tsv", "csv"):
        if fmt in found:
            return fmt
    # a single-column CSV has no delimiter to find; only the name can say so
    return ext if ext in ("csv", "tsv") else "text"


def content_start(data: bytes) -> int:
    """Offset of the first byte that is not ASCII whitespace (len(data) when there is none), found in 1 MiB blocks."""
    if len(data) <= _SKIP_BLOCK:
        return len(data) - len(bytes(data).lstrip(b" \t\n\r\x0b\x0c"))
    buf = np.frombuffer(data, dtype=np.uint8)
    for s in range(0, len(buf), _SKIP_BLOCK):
        hit = np.flatnonzero(~_WHITESPACE[buf[s : s + _SKIP_BLOCK]])
        if len(hit):
            return s + int(hit[0])
    return len(buf)


def sniff_data(data: bytes, name: str = "", head_bytes: int = 64 * 1024) -> str:
    """sniff_format on the first `head_bytes` of content: leading blank lines, however many, are skipped first."""
    bom = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    start = bom + content_start(memoryview(data)[bom:])
    if start >= len(data):
        return "empty"
    return sniff_format(data[start : start + head_bytes], name)
