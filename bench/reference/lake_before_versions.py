"""The lake: one Parquet dataset per drop, written to a staging folder and moved into place whole, with quarantine beside it."""
from __future__ import annotations

import json
import os
import urllib.parse
import uuid
from dataclasses import dataclass
from typing import Iterable

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.core.entry_schema import CANONICAL_SCHEMA, QUARANTINE_SCHEMA, TS_TYPE
from pipeline.core.ingest.records import Reject, rejects_to_table
from pipeline.core.ingest.sources import filesystem

ENTRIES = "log_entries"
QUARANTINE = "quarantine"
STAGING = "_staging"
INGEST_REPORT = "_ingest.json"


def drop_dir(lake_url: str, dataset: str, drop: str) -> str:
    """`{lake}/{dataset}/drop=<key>`; the key is percent-encoded so any partition key is a safe folder name."""
    return f"{lake_url.rstrip('/')}/{dataset}/drop={urllib.parse.quote(drop, safe='')}"


@dataclass
class LakeWrite:
    entries_path: str
    quarantine_path: str
    rows: int
    files: int
    bytes: int


class DropWriter:
    """Streams entry chunks into row groups of a staging Parquet file; `commit` swaps the drop in atomically."""

    def __init__(self, lake_url: str, drop: str, storage_options: dict | None = None, row_group_rows: int = 250_000):
        self.lake_url, self.drop = lake_url.rstrip("/"), drop
        self.fs = filesystem(lake_url, storage_options)
        self.stage = f"{self.lake_url}/{STAGING}/{uuid.uuid4().hex}"
        self._local = self.fs.protocol in ("file", "local") or "file" in (self.fs.protocol or ())
        self.fs.makedirs(f"{self.stage}/{ENTRIES}", exist_ok=True)
        self._file = self.fs.open(f"{self.stage}/{ENTRIES}/part-00000.parquet", "wb")
        self._writer: pq.ParquetWriter | None = None
        self._schema: pa.Schema | None = None
        self.rows = 0
        self.row_group_rows = row_group_rows

    def write(self, entries: pa.Table) -> None:
        if self._writer is None:
            self._schema = entries.schema if entries.num_rows else CANONICAL_SCHEMA
            self._writer = pq.ParquetWriter(self._file, self._schema, compression="zstd")
        if entries.num_rows:
            self._writer.write_table(entries.cast(self._schema), row_group_size=self.row_group_rows)
            self.rows += entries.num_rows

    def commit(self, rejects: list[Reject], report: dict) -> LakeWrite:
        if self._writer is None:
            self.write(CANONICAL_SCHEMA.empty_table())
        self._writer.close()
        self._file.close()
        qtable = rejects_to_table(rejects, self.drop) if rejects else QUARANTINE_SCHEMA.empty_table()
        self.fs.makedirs(f"{self.stage}/{QUARANTINE}", exist_ok=True)
        with self.fs.open(f"{self.stage}/{QUARANTINE}/rejects.parquet", "wb") as f:
            pq.write_table(qtable, f, compression="zstd")
        with self.fs.open(f"{self.stage}/{ENTRIES}/{INGEST_REPORT}", "w") as f:
            # indented for people; a drop of thousands of objects is written compact (the C encoder: 5x faster)
            f.write(json.dumps(report, default=str, indent=1 if len(report.get("sources", ())) <= 1000 else None))
        entries_dst = drop_dir(self.lake_url, ENTRIES, self.drop)
        quarantine_dst = drop_dir(self.lake_url, QUARANTINE, self.drop)
        self._swap(f"{self.stage}/{ENTRIES}", entries_dst)
        self._swap(f"{self.stage}/{QUARANTINE}", quarantine_dst)
        self._rm(self.stage)
        return LakeWrite(entries_dst, quarantine_dst, self.rows, 1, int(self.fs.du(entries_dst)))

    def abort(self) -> None:
        try:
            if self._writer is not None:
                self._writer.close()
            self._file.close()
        finally:
            self._rm(self.stage)

    def _swap(self, src: str, dst: str) -> None:
        parent = dst.rsplit("/", 1)[0]
        self.fs.makedirs(parent, exist_ok=True)
        if self._local:
            # rename is atomic on one filesystem: readers see the old drop or the new one, never half of either
            old = f"{self.stage}/old-{os.path.basename(dst)}"
            had_old = self.fs.exists(dst)
            if had_old:
                os.replace(self.fs._strip_protocol(dst), self.fs._strip_protocol(old))
            os.replace(self.fs._strip_protocol(src), self.fs._strip_protocol(dst))
            if had_old:
                self._rm(old)
        else:
            # object stores have no rename: replace the files under the prefix (the old set is removed first)
            self._rm(dst)
            src_root = self.fs._strip_protocol(src).rstrip("/")
            dst_root = self.fs._strip_protocol(dst).rstrip("/")
            for path in self.fs.find(src_root):
                self.fs.copy(path, dst_root + path[len(src_root):])

    def _rm(self, path: str) -> None:
        if self.fs.exists(path):
            self.fs.rm(path, recursive=True)


def write_drop(lake_url: str, drop: str, chunks: Iterable[pa.Table], rejects_of, report_of, storage_options=None) -> LakeWrite:
    """Write all chunks of a drop; `rejects_of()`/`report_of()` are read after the chunks are exhausted."""
    writer = DropWriter(lake_url, drop, storage_options)
    try:
        for chunk in chunks:
            writer.write(chunk)
        return writer.commit(rejects_of(), report_of())
    except BaseException:
        writer.abort()
        raise


def read_report(lake_url: str, drop: str, storage_options: dict | None = None) -> dict:
    fs = filesystem(lake_url, storage_options)
    path = f"{drop_dir(lake_url, ENTRIES, drop)}/{INGEST_REPORT}"
    with fs.open(path, "r") as f:
        return json.load(f)


def read_entries(lake_url: str, drop: str, storage_options: dict | None = None) -> pa.Table:
    fs = filesystem(lake_url, storage_options)
    d = drop_dir(lake_url, ENTRIES, drop)
    files = sorted(p for p in fs.find(d) if p.endswith(".parquet"))
    if not files:
        return CANONICAL_SCHEMA.empty_table()
    return pa.concat_tables([pq.read_table(fs.open(p, "rb")) for p in files], promote_options="default")


def list_lake_drops(lake_url: str, storage_options: dict | None = None) -> list[str]:
    """Drop keys present in the lake (decoded from their folder names)."""
    fs = filesystem(lake_url, storage_options)
    base = f"{fs._strip_protocol(lake_url).rstrip('/')}/{ENTRIES}"
    if not fs.exists(base):
        return []
    names = [p.rstrip("/").rsplit("/", 1)[-1] for p in fs.ls(base, detail=False, refresh=True)]
    return sorted(urllib.parse.unquote(n[len("drop="):]) for n in names if n.startswith("drop="))


def read_window(lake_url: str, days: float | None = None, drops: list[str] | None = None,
                storage_options: dict | None = None, end=None) -> tuple[pa.Table, dict]:
    """Entries of the given drops (default all) whose ts lies within `days` before `end` (default: the newest ts).

    Returns the table and a description of the window (for metadata): drops read, start, end, rows."""
    import pyarrow.compute as pc
    import pyarrow.dataset as pads
    from pyarrow.fs import FSSpecHandler, PyFileSystem

    fs = filesystem(lake_url, storage_options)
    keys = drops if drops is not None else list_lake_drops(lake_url, storage_options)
    files = []
    for k in keys:
        d = fs._strip_protocol(drop_dir(lake_url, ENTRIES, k))
        if fs.exists(d):
            files += [p for p in fs.find(d) if p.endswith(".parquet")]
    if not files:
        return CANONICAL_SCHEMA.empty_table(), {"drops": [], "rows": 0, "start": None, "end": None}
    dataset = pads.dataset(files, filesystem=PyFileSystem(FSSpecHandler(fs)), format="parquet", schema=CANONICAL_SCHEMA)
    start = None
    if days is None:
        table = dataset.to_table()
    else:
        # find the window's end from the ts column alone, then read only the rows inside the window
        newest = end if end is not None else pc.max(dataset.to_table(columns=["ts"]).column("ts")).as_py()
        if newest is None:
            table = dataset.to_table()
        else:
            import datetime as _dt

            start = newest - _dt.timedelta(days=days)
            ts = pads.field("ts")
            table = dataset.to_table(filter=(ts >= pa.scalar(start, TS_TYPE)) & (ts <= pa.scalar(newest, TS_TYPE)))
            end = newest
    return table, {"drops": keys, "rows": table.num_rows, "start": str(start) if start else None,
                   "end": str(end) if end else None}


def last_days(table: pa.Table, window: dict, days: float) -> tuple[pa.Table, dict]:
    """The rows of a window read by `read_window` that fall in its last `days` (both end at the same newest entry)."""
    import datetime as _dt

    import pyarrow.compute as pc

    newest = pc.max(table.column("ts")).as_py() if table.num_rows else None
    if newest is None:
        return table, dict(window)
    start = newest - _dt.timedelta(days=days)
    ts = table.column("ts")
    part = table.filter(pc.fill_null(pc.greater_equal(ts, pa.scalar(start, ts.type)), False))
    return part, {**window, "rows": part.num_rows, "start": str(start)}
