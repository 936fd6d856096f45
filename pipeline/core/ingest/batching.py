"""Many small objects read as one unit: records of neighbouring small objects of one format are planned and normalized
together (one schema inference, one DuckDB pass), while counts and rejects stay per object."""
from __future__ import annotations

from collections import Counter

import pyarrow as pa
import pyarrow.compute as pc

from .readers.jsonl import BATCH_ROWS, read_jsonl_many
from .records import RECORDS_SCHEMA, ParsedRecords, load_record

SMALL_OBJECT_BYTES = 256 << 10  # objects smaller than this (as read) are batched with their neighbours
BATCH_BYTES = 32 << 20  # a batch is planned and normalized once it holds this much
BATCH_OBJECTS = 20_000
BATCHABLE = ("jsonl", "text", "json", "empty")


def batchable(fmt: str, data_len: int, utf8: bool) -> bool:
    return utf8 and data_len < SMALL_OBJECT_BYTES and fmt in BATCHABLE


def deferred(fmt: str) -> bool:
    """Small JSON Lines objects are not parsed one by one: the batch reads them all in one pass."""
    return fmt == "jsonl"


def batch_key(parsed: ParsedRecords | None = None, data: bytes | None = None) -> tuple | None:
    """What a batch must share: the format and the first record's top-level keys, so objects of another shape (another
    vendor, renamed fields) are planned on their own. An object without records joins any batch."""
    if parsed is None:
        head = data.lstrip() if data else b""
        if not head:
            return None
        fmt, first = "jsonl", load_record(head.split(b"\n", 1)[0])
    else:
        if parsed.format == "empty" or parsed.records.num_rows == 0:
            return None
        fmt, first = parsed.format, load_record(parsed.records.column("raw")[0].as_py())
    return fmt, tuple(sorted(first)) if isinstance(first, dict) else None


class Batch:
    """Pending small objects sharing one batch key: (report, parsed records, or None and the bytes to read later)."""

    def __init__(self):
        self.items: list = []
        self.key: tuple | None = None
        self.bytes = 0

    def fits(self, key: tuple | None) -> bool:
        return key is None or self.key is None or key == self.key

    def add(self, report, key: tuple | None, parsed: ParsedRecords | None = None, data: bytes | None = None) -> None:
        self.items.append((report, parsed, data))
        self.key = self.key or key
        self.bytes += parsed.bytes_read if parsed is not None else len(data)

    def full(self) -> bool:
        return self.bytes >= BATCH_BYTES or len(self.items) >= BATCH_OBJECTS

    def take(self) -> list:
        items, self.items, self.key, self.bytes = self.items, [], None, 0
        return items


def merge(items: list) -> ParsedRecords:
    """One ParsedRecords for several objects (records keep their own `source`), in the batch's format."""
    parsed = [p for _, p, _ in items if p is not None]
    later = [(r.url, d) for r, p, d in items if p is None]
    if later:
        parsed.append(read_jsonl_many(later))
    tables = [p.records if p.records.schema.equals(RECORDS_SCHEMA) else p.records.cast(RECORDS_SCHEMA)
              for p in parsed if p.records.num_rows]
    # one chunk per object would make every later scan pay per chunk: combined into DuckDB-sized batches
    records = pa.concat_tables(tables).combine_chunks() if tables else RECORDS_SCHEMA.empty_table()
    if records.num_rows > BATCH_ROWS:
        records = pa.Table.from_batches(records.to_batches(max_chunksize=BATCH_ROWS), RECORDS_SCHEMA)
    fmt = next((p.format for p in parsed if p.format != "empty"), "empty")
    return ParsedRecords(records, [r for p in parsed for r in p.rejects], fmt, sum(p.bytes_read for p in parsed))


def kept_by_source(entries: pa.Table) -> Counter:
    """Entries per source URL, counted columnar."""
    if entries.num_rows == 0:
        return Counter()
    vc = pc.value_counts(entries.column("source"))
    return Counter(dict(zip(vc.field("values").to_pylist(), vc.field("counts").to_pylist())))
