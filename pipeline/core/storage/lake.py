"""The lake: one Parquet dataset per drop, with quarantine beside it, replaced whole. Local lakes write a staging
folder and rename it into place; object stores (no rename) write a fresh version folder and publish it with one
manifest PUT (lake_layout.py), which every reader here follows."""
from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Iterable

import pyarrow as pa
import pyarrow.parquet as pq

from ..entry_schema import CANONICAL_SCHEMA, QUARANTINE_SCHEMA, TS_TYPE
from ..ingest.records import Reject, rejects_to_table
from ..ingest.sources import filesystem
from .atomic_file import is_local
from .lake_layout import (ENTRIES, QUARANTINE, VERSION_PREFIX, current_files, drop_dir, prune, published_drops,
                          read_manifest, write_manifest)

STAGING = "_staging"
INGEST_REPORT = "_ingest.json"
LAYOUTS = ("rename", "versioned")


@dataclass
class LakeWrite:
    entries_path: str
    quarantine_path: str
    rows: int
    files: int
    bytes: int


class DropWriter:
    """Streams entry chunks into row groups of a new Parquet file; `commit` swaps the drop in atomically.

    `layout`: "rename" (local default: a staging folder renamed into place) or "versioned" (object-store default:
    files under `drop=<key>/v-<id>/`, published by the manifest, then older versions deleted)."""

    def __init__(self, lake_url: str, drop: str, storage_options: dict | None = None, row_group_rows: int = 250_000,
                 layout: str | None = None):
        self.lake_url, self.drop = lake_url.rstrip("/"), drop
        self.fs = filesystem(lake_url, storage_options)
        self._local = is_local(self.fs)
        self.layout = layout or ("rename" if self._local else "versioned")
        if self.layout not in LAYOUTS:
            raise ValueError(f"lake layout must be one of {LAYOUTS}, not {self.layout!r}")
        if self.layout == "rename" and not self._local:
            raise ValueError(f"{lake_url}: an object store has no rename; use the versioned layout")
        self.published = False
        self.version = f"{VERSION_PREFIX}{uuid.uuid4().hex}"
        if self.layout == "rename":
            self.stage = f"{self.lake_url}/{STAGING}/{uuid.uuid4().hex}"
            self.entries_dir, self.quarantine_dir = f"{self.stage}/{ENTRIES}", f"{self.stage}/{QUARANTINE}"
        else:
            self.stage = None
            self.entries_dir = f"{drop_dir(self.lake_url, ENTRIES, drop)}/{self.version}"
            self.quarantine_dir = f"{drop_dir(self.lake_url, QUARANTINE, drop)}/{self.version}"
        self.fs.makedirs(self.entries_dir, exist_ok=True)
        self._file = self.fs.open(f"{self.entries_dir}/part-00000.parquet", "wb")
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
        self.fs.makedirs(self.quarantine_dir, exist_ok=True)
        with self.fs.open(f"{self.quarantine_dir}/rejects.parquet", "wb") as f:
            pq.write_table(qtable, f, compression="zstd")
        with self.fs.open(f"{self.entries_dir}/{INGEST_REPORT}", "w") as f:
            # indented for people; a drop of thousands of objects is written compact (the C encoder: 5x faster)
            f.write(json.dumps(report, default=str, indent=1 if len(report.get("sources", ())) <= 1000 else None))
        if self.layout == "versioned":
            self.publish()
            self.published = True  # from here the drop is committed: a failure below must not remove these files
            prune(self.fs, self.lake_url, self.drop, keep=self.version)
            return LakeWrite(self.entries_dir, self.quarantine_dir, self.rows, 1, int(self.fs.du(self.entries_dir)))
        entries_dst = drop_dir(self.lake_url, ENTRIES, self.drop)
        quarantine_dst = drop_dir(self.lake_url, QUARANTINE, self.drop)
        self._swap(self.entries_dir, entries_dst)
        self._swap(self.quarantine_dir, quarantine_dst)
        self._rm(self.stage)
        return LakeWrite(entries_dst, quarantine_dst, self.rows, 1, int(self.fs.du(entries_dst)))

    def publish(self) -> None:
        """The commit point of a versioned write: one manifest object naming this version and its files."""
        write_manifest(self.fs, self.lake_url, self.drop, {
            "version": self.version, "drop": self.drop, "committed_at": datetime.now(timezone.utc).isoformat(),
            "files": {ENTRIES: ["part-00000.parquet", INGEST_REPORT], QUARANTINE: ["rejects.parquet"]}})

    def abort(self) -> None:
        try:
            if self._writer is not None:
                self._writer.close()
            self._file.close()
        finally:
            if self.stage is not None:
                self._rm(self.stage)
            elif not self.published and not self._is_current():  # unpublished: no reader can see these files
                self._rm(self.entries_dir)
                self._rm(self.quarantine_dir)

    def _is_current(self) -> bool:
        """Whether the manifest names this write (a PUT that succeeded but reported an error)."""
        try:
            return (read_manifest(self.fs, self.lake_url, self.drop) or {}).get("version") == self.version
        except Exception:  # noqa: BLE001 - unreadable: keep the files, the next write of the drop prunes them
            return True

    def _swap(self, src: str, dst: str) -> None:
        """Rename `src` over `dst` (local lakes only): readers see the old drop or the new one, never half of either."""
        self.fs.makedirs(dst.rsplit("/", 1)[0], exist_ok=True)
        old = f"{self.stage}/old-{os.path.basename(dst)}"
        had_old = self.fs.exists(dst)
        if had_old:
            os.replace(self.fs._strip_protocol(dst), self.fs._strip_protocol(old))
        os.replace(self.fs._strip_protocol(src), self.fs._strip_protocol(dst))
        if had_old:
            self._rm(old)

    def _rm(self, path: str) -> None:
        if self.fs.exists(path):
            self.fs.rm(path, recursive=True)


def write_drop(lake_url: str, drop: str, chunks: Iterable[pa.Table], rejects_of, report_of, storage_options=None,
               layout: str | None = None) -> LakeWrite:
    """Write all chunks of a drop; `rejects_of()`/`report_of()` are read after the chunks are exhausted."""
    writer = DropWriter(lake_url, drop, storage_options, layout=layout)
    try:
        for chunk in chunks:
            writer.write(chunk)
        return writer.commit(rejects_of(), report_of())
    except BaseException:
        writer.abort()
        raise


def read_report(lake_url: str, drop: str, storage_options: dict | None = None) -> dict:
    fs = filesystem(lake_url, storage_options)
    found = current_files(fs, lake_url, ENTRIES, drop, suffix=INGEST_REPORT)
    path = found[0] if found else f"{fs._strip_protocol(drop_dir(lake_url, ENTRIES, drop))}/{INGEST_REPORT}"
    with fs.open(path, "r") as f:
        return json.load(f)


def _read_files(fs, files: list[str], empty: pa.Table) -> pa.Table:
    if not files:
        return empty
    return pa.concat_tables([pq.read_table(fs.open(p, "rb")) for p in files], promote_options="default")


def read_entries(lake_url: str, drop: str, storage_options: dict | None = None) -> pa.Table:
    fs = filesystem(lake_url, storage_options)
    return _read_files(fs, current_files(fs, lake_url, ENTRIES, drop), CANONICAL_SCHEMA.empty_table())


def read_quarantine(lake_url: str, drop: str, storage_options: dict | None = None) -> pa.Table:
    """The drop's rejects (the version its manifest names, or the flat files of an older drop)."""
    fs = filesystem(lake_url, storage_options)
    manifest = read_manifest(fs, lake_url, drop)
    return _read_files(fs, current_files(fs, lake_url, QUARANTINE, drop, manifest), QUARANTINE_SCHEMA.empty_table())


def lake_files(lake_url: str, dataset: str = ENTRIES, storage_options: dict | None = None) -> list[str]:
    """Every published drop's current Parquet files of `dataset` (for views over the whole lake)."""
    fs = filesystem(lake_url, storage_options)
    return [p for k in published_drops(fs, lake_url) for p in current_files(fs, lake_url, dataset, k)]


def list_lake_drops(lake_url: str, storage_options: dict | None = None) -> list[str]:
    """Drop keys present in the lake (decoded from their folder names; unpublished versions are not drops)."""
    return published_drops(filesystem(lake_url, storage_options), lake_url)


def read_window(lake_url: str, days: float | None = None, drops: list[str] | None = None,
                storage_options: dict | None = None, end=None) -> tuple[pa.Table, dict]:
    """Entries of the given drops (default all) whose ts lies within `days` before `end` (default: the newest ts).

    Returns the table and a description of the window (for metadata): drops read, start, end, rows."""
    import pyarrow.compute as pc
    import pyarrow.dataset as pads
    from pyarrow.fs import FSSpecHandler, PyFileSystem

    fs = filesystem(lake_url, storage_options)
    keys = drops if drops is not None else list_lake_drops(lake_url, storage_options)
    files = [p for k in keys for p in current_files(fs, lake_url, ENTRIES, k)]
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
