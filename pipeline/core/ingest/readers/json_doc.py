"""Reads whole JSON documents: one object, a top-level array of records, a record container, or concatenated documents.

Records are cut out of the bytes by a bracket scanner (strings skipped) and kept as their original text, so one bad
element is one reject (its exact bytes), never the whole array; DuckDB then validates each record like a JSON line.
A pretty-printed array whose brackets never balance is re-synchronized at the next element starting at the same
indentation.
"""
from __future__ import annotations

import json
import re

import numpy as np
import pyarrow as pa

from ..records import MAX_DEPTH, RECORDS_SCHEMA, ParsedRecords, Reject, nesting_depth, records_from_dicts

_TOKEN = re.compile(rb'"(?:[^"\\\n]|\\.)*"?|[\[\]{},]')  # an unterminated string stops at its line end
_SPACE = re.compile(rb"[ \t\r\n]*")
_SEPARATORS = re.compile(rb"[ \t\r\n,]*")
_BOM = b"\xef\xbb\xbf"


def _value_end(data: bytes, i: int, in_array: bool) -> int:
    """End of the value starting at i: in an array, the offset of the ',' or ']' after it (depth 0); at top level,
    the offset just past its closing bracket. len(data) when the brackets never balance."""
    depth = 0
    for m in _TOKEN.finditer(data, i):
        c = data[m.start()]
        if c in b"[{":
            depth += 1
        elif c in b"]}":
            depth -= 1
            if depth < 0 and in_array:
                return m.start()
            if depth == 0 and not in_array:
                return m.end()
        elif c == 44 and depth == 0:  # ','
            if in_array:
                return m.start()
        elif c == 34 and depth == 0 and not in_array:  # a top-level string
            return m.end()
    return len(data)


def _resync(data: bytes, start: int, end: int) -> list[tuple[int, int]]:
    """Split an unbalanced stretch of a pretty-printed array at lines opening an element at the first one's indent."""
    line_start = data.rfind(b"\n", 0, start) + 1
    indent = data[line_start:start]
    if indent.strip():
        return [(start, end)]
    cuts = [m.start() + 1 + len(indent) for m in re.finditer(b"\n" + re.escape(indent) + rb"(?=[\[{])", data[start:end])]
    tail = data[:end].rstrip()
    if tail.endswith(b"]"):  # the array's own closing bracket ends the stretch
        end = len(tail) - 1
    bounds = [start] + [start + c for c in cuts if start + c < end] + [end]
    out = []
    for a, b in zip(bounds, bounds[1:]):
        b = a + len(data[a:b].rstrip(b" \t\r\n,"))  # the separator before the next element
        if a < b:
            out.append((a, b))
    return out


def _array_elements(data: bytes, i: int) -> tuple[list[tuple[int, int]], int]:
    """(start, end) of each element of the array whose '[' is at i, and the offset after its ']'."""
    n, i = len(data), i + 1
    out: list[tuple[int, int]] = []
    while True:
        i = _SPACE.match(data, i).end()
        if i >= n:
            return out, n
        if data[i] == 93:  # ']'
            return out, i + 1
        if data[i] == 44:  # an empty slot (',,'): no record there
            i += 1
            continue
        end = _value_end(data, i, in_array=True)
        if end == i:  # a stray '}' where an element should start: it is quarantined on its own
            out.append((i, i + 1))
            i += 1
            continue
        stop = len(data[i:end].rstrip())
        if end >= n:
            out.extend(_resync(data, i, i + stop))
            return out, n
        out.append((i, i + stop))
        i = end + 1 if data[end] == 44 else end


def _pieces(data: bytes) -> list[tuple[int, int, int]]:
    """(record number, start, end) of every record: array elements, or top-level values (numbered by line)."""
    out: list[tuple[int, int, int]] = []
    n, i, line, counted = len(data), 0, 1, 0
    while True:
        i = _SEPARATORS.match(data, i).end()
        if i >= n:
            return out
        line += data.count(b"\n", counted, i)
        counted = i
        if data[i] == 91:  # '['
            elements, i = _array_elements(data, i)
            out.extend((k, a, b) for k, (a, b) in enumerate(elements, start=1))
            continue
        if data[i] == 123:  # '{'
            end = _value_end(data, i, in_array=False)
        else:  # a scalar or garbage: up to the next separator
            m = re.compile(rb"[ \t\r\n,\[{]").search(data, i + 1)
            end = m.start() if m else n
        out.append((line, i, end))
        i = end


def _chat_turns(items: list) -> bool:
    """A conversation ({role|from, content|value|parts} turns) is one record's content, never a list of records."""
    return all(any(k in x for k in ("role", "from")) and any(k in x for k in ("content", "value", "parts"))
               for x in items)


def _container(data: bytes, start: int, end: int) -> list | None:
    """The records of a single-object document such as {"data": [{...}, ...]} (exactly one list of objects)."""
    try:
        doc = json.loads(data[start:end])
    except (ValueError, RecursionError):
        return None
    if not isinstance(doc, dict):
        return None
    lists = [v for v in doc.values() if isinstance(v, list) and v and all(isinstance(x, dict) for x in v)]
    scalars_only = all(not isinstance(v, (dict, list)) for v in doc.values() if not (isinstance(v, list) and v in lists))
    if len(lists) == 1 and scalars_only and len(lists[0]) >= 2 and not _chat_turns(lists[0]):
        return lists[0]
    return None


def flatten_trace_lists(value: list) -> list:
    """[[span, ...], ...] (Datadog APM payloads: one list of spans per trace) -> the spans; other arrays unchanged."""
    if value and all(isinstance(v, list) and v and all(isinstance(x, dict) for x in v) for v in value):
        return [x for v in value for x in v]
    return value


def _trace_lists(body: bytes, pieces: list) -> list | None:
    """The spans of a document that is one array of span arrays (every element an array), else None."""
    if not pieces or any(body[a] != 91 for _, a, _ in pieces):
        return None
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if not isinstance(doc, list):
        return None
    flat = flatten_trace_lists(doc)
    return flat if flat is not doc else None


def read_json_document(data: bytes, source: str, unwrap_containers: bool = True) -> ParsedRecords:
    """Top-level arrays yield one record per element (line = element number); objects are one record each.

    Rejected here, byte-exact: elements that are not valid UTF-8 or are nested deeper than MAX_DEPTH. Malformed
    elements and non-objects are rejected by DuckDB's validation downstream, with the same exact text."""
    body = memoryview(data)[3:].tobytes() if data.startswith(_BOM) else data
    pieces = _pieces(body)
    # a lone object is unwrapped, never the one element of a top-level array (that element is already a record)
    if unwrap_containers and len(pieces) == 1 and body[pieces[0][1]] == 123 and not body[:pieces[0][1]].strip():
        inner = _container(body, pieces[0][1], pieces[0][2])
        if inner is not None:
            return ParsedRecords(records_from_dicts(source, [(i, 0, x) for i, x in enumerate(inner, 1)]), [], "json", len(data))
    spans = _trace_lists(body, pieces)
    if spans is not None:
        return ParsedRecords(records_from_dicts(source, [(i, 0, x) for i, x in enumerate(spans, 1)]), [], "json", len(data))
    lines, raws, rejects = [], [], []
    for k, a, b in pieces:
        piece = body[a:b]
        try:
            text = piece.decode("utf-8")
        except UnicodeDecodeError:
            rejects.append(Reject(source, k, "invalid UTF-8", piece))
            continue
        if piece.count(b"[") + piece.count(b"{") > MAX_DEPTH and nesting_depth(piece) > MAX_DEPTH:
            rejects.append(Reject(source, k, f"nested deeper than {MAX_DEPTH} levels", piece))
            continue
        lines.append(k)
        raws.append(text)
    table = pa.table(
        {
            "source": pa.repeat(pa.scalar(source, pa.string()), len(raws)),
            "line": pa.array(np.asarray(lines, dtype=np.int64)),
            "sub": pa.array(np.zeros(len(raws), dtype=np.int32)),
            "raw": pa.array(raws, pa.large_string()),
        },
        schema=RECORDS_SCHEMA,
    )
    return ParsedRecords(table, rejects, "json", len(data))
