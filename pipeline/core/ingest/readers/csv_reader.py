"""Reads delimited text (CSV, TSV, any delimiter) with pyarrow: typed columns, quoted newlines, bad rows as rejects."""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from ..records import ParsedRecords, Reject, empty_records
from ..sniff import delimiter_of
from .locale_values import localize
from .arrow_json import json_objects, records_table
from .jsonl import invalid_utf8_lines

UTF8_BOM = b"\xef\xbb\xbf"
SNIFF_BYTES = 64 * 1024
_MIN_BLOCK = 1 << 20
_EXCEL_SEP = re.compile(rb"sep=([,;\t|])(\r?\n)")
_SCAN_CHUNK = 1 << 22


@dataclass
class _Spans:
    """Non-blank records of the body: byte ranges in the body as given to pyarrow, and where they were originally."""

    starts: np.ndarray
    ends: np.ndarray  # just past the record's line break
    lines: np.ndarray  # physical (1-based) line of the record's first byte
    offsets: np.ndarray  # byte offset in the original object

    def take(self, idx) -> "_Spans":
        return _Spans(self.starts[idx], self.ends[idx], self.lines[idx], self.offsets[idx])

    def __len__(self) -> int:
        return len(self.starts)


def _positions(buf: np.ndarray, byte: int) -> np.ndarray:
    parts = [np.flatnonzero(buf[s : s + _SCAN_CHUNK] == byte) + s for s in range(0, len(buf), _SCAN_CHUNK)]
    return np.concatenate(parts).astype(np.int64) if parts else np.empty(0, np.int64)


def _line_breaks(data: bytes, buf: np.ndarray) -> np.ndarray:
    """Position of the last byte of every line break: \\n, \\r\\n (its \\n) or a lone \\r."""
    lf = _positions(buf, 10)
    if data.count(b"\r") == data.count(b"\r\n"):
        return lf
    cr = _positions(buf, 13)
    lone = cr[(cr + 1 >= len(buf)) | (buf[np.minimum(cr + 1, len(buf) - 1)] != 10)]
    return np.union1d(lf, lone)


def _without_blank(buf: np.ndarray, starts: np.ndarray, ends: np.ndarray, lines: np.ndarray, shift: int) -> _Spans:
    """Drop empty lines, which pyarrow skips rather than counting as records."""
    length = ends - starts
    first = buf[np.minimum(starts, len(buf) - 1)] if len(buf) else np.empty(0, np.uint8)
    blank = (length == 0) | ((length == 1) & ((first == 10) | (first == 13))) | ((length == 2) & (first == 13))
    keep = ~blank
    return _Spans(starts[keep], ends[keep], lines[keep], starts[keep] + shift)


def _parity_spans(data: bytes, shift: int) -> tuple[_Spans, bool]:
    """Record ranges by quote parity: a line break ends a record iff an even number of quotes precede it.

    Exact for well-formed CSV; a stray quote inside an unquoted field fools it, which the record count check catches.
    Also says whether the input ends inside a quoted field.
    """
    buf = np.frombuffer(data, np.uint8)
    breaks = _line_breaks(data, buf)
    quotes = _positions(buf, 34) if b'"' in data else np.empty(0, np.int64)
    term_idx = np.arange(len(breaks)) if not len(quotes) else np.flatnonzero((np.searchsorted(quotes, breaks) & 1) == 0)
    terms = breaks[term_idx] + 1
    starts = np.concatenate([[0], terms]).astype(np.int64)
    ends = np.concatenate([terms, [len(data)]]).astype(np.int64)
    lines = np.concatenate([[1], term_idx + 2]).astype(np.int64)
    return _without_blank(buf, starts, ends, lines, shift), len(quotes) % 2 == 1


def _csv_module_spans(data: bytes, delimiter: str, shift: int) -> tuple[_Spans, bool] | None:
    """Record ranges from Python's csv module, which treats stray quotes like pyarrow does (slow; fallback only)."""
    buf = np.frombuffer(data, np.uint8)
    line_offsets = np.concatenate([[0], _line_breaks(data, buf) + 1]).astype(np.int64)
    reader = csv.reader(io.StringIO(data.decode("utf-8", "surrogateescape"), newline=""), delimiter=delimiter)
    first_lines, last_lines = [], []
    try:
        prev = 0
        for row in reader:
            if row:
                first_lines.append(prev + 1)
                last_lines.append(reader.line_num)
            prev = reader.line_num
    except csv.Error:
        return None
    if not first_lines:
        return None
    first, last = np.array(first_lines, np.int64), np.array(last_lines, np.int64)
    # a record ends where the line after its last line starts (or at the end of input)
    ends = np.append(line_offsets, len(data))[np.minimum(last, len(line_offsets))]
    spans = _without_blank(buf, line_offsets[first - 1], ends, first, shift)
    return spans, _ends_in_quotes(data, spans, delimiter)


def _ends_in_quotes(data: bytes, spans: _Spans, delimiter: str) -> bool:
    """Whether the last record runs into the end of input inside a quoted field (strict Python csv on that record)."""
    if not len(spans):
        return False
    tail = data[spans.starts[-1] :].decode("utf-8", "surrogateescape")
    try:
        list(csv.reader(io.StringIO(tail, newline=""), delimiter=delimiter, strict=True))
        return False
    except csv.Error as exc:
        return "unexpected end of data" in str(exc)


def _repair_utf8(body: bytes, spans: _Spans, source: str) -> tuple[bytes, _Spans, list[Reject]]:
    """Records with invalid UTF-8 become rejects and leave the body; a broken header gets U+FFFD instead."""
    bounds = np.append(spans.starts, spans.ends[-1]) if len(spans) else np.zeros(1, np.int64)
    whole = pa.LargeStringArray.from_buffers(1, pa.py_buffer(np.array([0, len(body)], np.int64)), pa.py_buffer(body))
    try:
        whole.validate(full=True)
        return body, spans, []
    except pa.ArrowInvalid:
        pass
    per_record = pa.LargeStringArray.from_buffers(len(spans), pa.py_buffer(bounds), pa.py_buffer(body))
    bad = invalid_utf8_lines(body, bounds, per_record)
    rejects, pieces, pos = [], [], 0
    delta = np.zeros(len(spans) + 1, np.int64)  # byte-length change caused by record i
    for i in bad:
        s, e = int(spans.starts[i]), int(spans.ends[i])
        replacement = body[s:e].decode("utf-8", "replace").encode() if i == 0 else b""
        if i:
            raw = body[s:e].rstrip(b"\r\n")
            rejects.append(Reject(source, int(spans.lines[i]), "invalid UTF-8", raw, int(spans.offsets[i])))
        pieces += [body[pos:s], replacement]
        pos = e
        delta[i + 1] = len(replacement) - (e - s)
    pieces.append(body[pos:])
    shift = np.cumsum(delta)[:-1]
    fixed = _Spans(spans.starts + shift, spans.ends + shift, spans.lines, spans.offsets)
    if bad and bad[0] == 0:
        fixed.ends[0] = fixed.starts[0] + len(pieces[1])
    keep = np.ones(len(spans), bool)
    keep[[i for i in bad if i]] = False
    return b"".join(pieces), fixed.take(keep), rejects


def _lossy_integer_columns(table: pa.Table) -> list[str]:
    """Columns pyarrow read as double although every value is an integer beyond 2**53: long numeric IDs, which
    a double would corrupt, so they are read again as text."""
    lossy = []
    for name, col in zip(table.column_names, table.columns):
        if pa.types.is_floating(col.type) and col.null_count < len(col):
            big = pc.any(pc.greater_equal(pc.abs(col), 2.0**53)).as_py()
            if big and pc.all(pc.equal(pc.floor(col), col)).as_py():
                lossy.append(name)
    return lossy


def _with_integer_text(typed: pa.Table, as_text: pa.Table, names: list[str]) -> pa.Table:
    """Take the text version of `names` where every value is written as an integer (not, say, 1e+16)."""
    for name in names:
        i = typed.schema.get_field_index(name)
        text = as_text.column(i)
        if pc.all(pc.match_substring_regex(text, r"^[+-]?[0-9]+$")).as_py():
            typed = typed.set_column(i, typed.field(i).with_type(text.type), text)
    return typed


def _pyarrow_read(body: bytes, delimiter: str, block: int, as_text: list[str] = ()) -> tuple[pa.Table, list]:
    invalid: list[tuple[int | None, int, int, str]] = []

    def on_invalid(row) -> str:
        invalid.append((row.number, row.expected_columns, row.actual_columns, row.text))
        return "skip"

    while True:
        invalid.clear()
        try:
            table = pcsv.read_csv(
                pa.BufferReader(body),
                # single-threaded so the invalid-row handler is told each row's number (no slower on this workload)
                read_options=pcsv.ReadOptions(use_threads=False, block_size=block),
                parse_options=pcsv.ParseOptions(
                    delimiter=delimiter, newlines_in_values=True, invalid_row_handler=on_invalid
                ),
                convert_options=pcsv.ConvertOptions(check_utf8=False, column_types={n: pa.string() for n in as_text}),
            )
            return table, list(invalid)
        except pa.ArrowInvalid as exc:
            if "straddl" not in str(exc) or block > len(body):
                raise
            block *= 4


def _dotted_candidates(table: pa.Table) -> list[str]:
    """Float columns whose every value has at most three decimals and some a fraction: in a file with decimal commas
    their dots may be thousands groups (`1.234` = 1234), which only their text shows."""
    out = []
    for name, col in zip(table.column_names, table.columns):
        if pa.types.is_floating(col.type) and col.null_count < len(col):
            scaled = pc.multiply(col, 1000.0)
            if pc.all(pc.less(pc.abs(pc.subtract(scaled, pc.round(scaled))), 1e-6)).as_py() and \
                    pc.any(pc.not_equal(pc.floor(col), col)).as_py():
                out.append(name)
    return out


def _read(body: bytes, spans: _Spans | None, unterminated: bool, delimiter: str, source: str):
    """(records, rejects), or None when pyarrow's record count disagrees with `spans` (a stray quote fooled them)."""
    rejects: list[Reject] = []
    if spans is not None:
        if unterminated and not _ends_in_quotes(body, spans, delimiter):
            return None  # an odd quote count from a stray quote, not an open quoted field
        if unterminated and len(spans):
            i = len(spans) - 1
            s = int(spans.starts[i])
            rejects.append(Reject(source, int(spans.lines[i]), "unterminated quoted field at end of input",
                                  body[s:].rstrip(b"\r\n"), int(spans.offsets[i])))
            body, spans = body[:s], spans.take(slice(0, i))
        if not len(spans):
            return empty_records(), rejects
        body, spans, utf8_rejects = _repair_utf8(body, spans, source)
        rejects += utf8_rejects
        block = max(_MIN_BLOCK, 2 * int((spans.ends - spans.starts).max()))
    else:
        body = body.decode("utf-8", "replace").encode()
        block = _MIN_BLOCK
    try:
        table, invalid = _pyarrow_read(body, delimiter, block)
        lossy = _lossy_integer_columns(table)
        if lossy:
            table = _with_integer_text(table, _pyarrow_read(body, delimiter, block, lossy)[0], lossy)
        dotted = _dotted_candidates(table) if delimiter != "," else []
        if dotted:
            text = _pyarrow_read(body, delimiter, block, dotted)[0]
            for name in dotted:
                i = table.schema.get_field_index(name)
                table = table.set_column(i, text.field(i), text.column(i))
    except pa.ArrowInvalid:
        if spans is not None:
            return None
        raise
    if spans is None:
        lines = np.arange(2, table.num_rows + 2, dtype=np.int64)  # positions unknown: record ordinals
        for number, expected, actual, text in invalid:
            rejects.append(Reject(source, number or -1, f"expected {expected} fields, found {actual}", text.encode()))
    else:
        if len(spans) != 1 + table.num_rows + len(invalid) or any(inv[0] is None for inv in invalid):
            return None
        good = np.ones(len(spans), bool)
        good[0] = False  # the header
        for number, expected, actual, _text in invalid:
            i = number - 1
            good[i] = False
            s, e = int(spans.starts[i]), int(spans.ends[i])
            rejects.append(Reject(source, int(spans.lines[i]), f"expected {expected} fields, found {actual}",
                                  body[s:e].rstrip(b"\r\n"), int(spans.offsets[i])))
        lines = spans.lines[good]
    table = table.rename_columns([name.strip() for name in table.column_names])
    table, notes = localize(table, delimiter, [name.strip() for name in dotted])
    rejects += [Reject(source, 1, f"ambiguous locale values in {note}") for note in notes]
    raw = json_objects(table, null_strings=("",)) if table.num_rows else pa.array([], pa.large_string())
    rejects.sort(key=lambda r: r.line)
    return records_table(source, lines, raw), rejects


def read_delimited(data: bytes, source: str, delimiter: str | None = None) -> ParsedRecords:
    """Header row then records; `delimiter` is sniffed when not given. Bad rows become rejects, never a failed file."""
    shift = len(UTF8_BOM) if data.startswith(UTF8_BOM) else 0
    body = data[shift:]
    sep = _EXCEL_SEP.match(body)
    if sep:  # Excel's `sep=;` line names the delimiter; its line break stays, so line numbers still count it
        delimiter = delimiter or sep.group(1).decode()
        cut = sep.end() - len(sep.group(2))
        body, shift = body[cut:], shift + cut
    delimiter = delimiter or delimiter_of(body[:SNIFF_BYTES])
    fmt = "tsv" if delimiter == "\t" else "csv"
    if not body.strip():
        return ParsedRecords(empty_records(), [], fmt, len(data))
    result = _read(body, *_parity_spans(body, shift), delimiter, source)
    if result is None:
        fallback = _csv_module_spans(body, delimiter, shift)
        if fallback is not None:
            result = _read(body, *fallback, delimiter, source)
    if result is None:
        try:
            result = _read(body, None, False, delimiter, source)
        except pa.ArrowInvalid as exc:
            reject = Reject(source, 1, f"unreadable delimited text: {exc}", data[:1_000_000], 0)
            return ParsedRecords(empty_records(), [reject], fmt, len(data))
    table, rejects = result
    return ParsedRecords(table, rejects, fmt, len(data))
