"""Reads whole JSON documents: one object, a top-level array of records, a record container, or concatenated documents."""
from __future__ import annotations

import json

from ..records import ParsedRecords, Reject, empty_records, records_from_dicts


def _line_of(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def _documents(text: str) -> tuple[list[tuple[int, object]], Reject | None, str]:
    """(line, value) for each top-level JSON value in the text; parsing stops at the first malformed one."""
    dec = json.JSONDecoder()
    docs, pos, n = [], 0, len(text)
    while True:
        while pos < n and text[pos] in " \t\r\n,":
            pos += 1
        if pos >= n:
            return docs, None, ""
        try:
            value, end = dec.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            return docs, Reject("", exc.lineno, f"malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
                                text[pos:].encode("utf-8", "surrogateescape"), -1), text[pos:]
        docs.append((_line_of(text, pos), value))
        pos = end


def _container_records(doc: dict) -> list | None:
    """A generic container such as {"data": [{...}, ...]}: exactly one field holding a list of objects."""
    lists = [v for v in doc.values() if isinstance(v, list) and v and all(isinstance(x, dict) for x in v)]
    scalars_only = all(not isinstance(v, (dict, list)) for v in doc.values() if not (isinstance(v, list) and v in lists))
    if len(lists) == 1 and scalars_only and len(lists[0]) >= 2:
        return lists[0]
    return None


def flatten_trace_lists(value: list) -> list:
    """[[span, ...], ...] (Datadog APM payloads: one list of spans per trace) -> the spans; other arrays unchanged."""
    if value and all(isinstance(v, list) and v and all(isinstance(x, dict) for x in v) for v in value):
        return [x for v in value for x in v]
    return value


def read_json_document(data: bytes, source: str, unwrap_containers: bool = True) -> ParsedRecords:
    """Top-level arrays yield one record per element (line = element number); objects are one record each."""
    text = data.decode("utf-8-sig", errors="strict") if data else ""
    docs, reject, _ = _documents(text)
    rejects = []
    if reject is not None:
        rejects.append(Reject(source, reject.line, reject.reason, reject.raw))
    rows: list[tuple[int, int, dict]] = []
    for line, value in docs:
        if isinstance(value, list):
            value = flatten_trace_lists(value)
            for i, item in enumerate(value, start=1):
                if isinstance(item, dict):
                    rows.append((i, 0, item))
                else:
                    rejects.append(Reject(source, i, "array element is not a JSON object", json.dumps(item).encode()))
        elif isinstance(value, dict):
            inner = _container_records(value) if unwrap_containers and len(docs) == 1 else None
            if inner is not None:
                rows.extend((i, 0, item) for i, item in enumerate(inner, start=1))
            else:
                rows.append((line, 0, value))
        else:
            rejects.append(Reject(source, line, "top-level JSON value is not an object", json.dumps(value).encode()))
    table = records_from_dicts(source, rows) if rows else empty_records()
    return ParsedRecords(table, rejects, "json", len(data))
