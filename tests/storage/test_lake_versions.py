"""Atomic drop replacement without rename: a writer killed (a real process, os._exit) after writing its files but
before publishing the manifest leaves the previous drop whole and readable, on local disk and on moto S3; the next
write replaces the drop whole and removes the orphan; flat (older) drops stay readable and are replaced too."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.core.entry_schema import CANONICAL_SCHEMA
from pipeline.core.ingest.records import Reject
from pipeline.core.ingest.sources import filesystem
from pipeline.core.storage.lake import (lake_files, list_lake_drops, read_entries, read_quarantine, read_report,
                                        read_window, write_drop)
from pipeline.core.storage.lake_layout import MANIFEST, drop_dir

KILLER = r"""
import json, os, sys
import pyarrow as pa
from pipeline.core.entry_schema import CANONICAL_SCHEMA
from pipeline.core.storage import lake
lake_url, drop, options = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
lake.DropWriter.publish = lambda self: os._exit(9)  # killed after the files, before the manifest
rows = {k: [None] * 4 for k in CANONICAL_SCHEMA.names}
rows["input"] = ["new"] * 4
rows["entry_id"] = [f"new{i}" for i in range(4)]
lake.write_drop(lake_url, drop, [pa.Table.from_pydict(rows, schema=CANONICAL_SCHEMA)], lambda: [],
                lambda: {"n": "new"}, options or None, layout="versioned")
"""


def entries(n: int, tag: str) -> pa.Table:
    rows = {k: [None] * n for k in CANONICAL_SCHEMA.names}
    rows["input"] = [tag] * n
    rows["entry_id"] = [f"{tag}{i}" for i in range(n)]
    return pa.Table.from_pydict(rows, schema=CANONICAL_SCHEMA)


def kill_mid_write(lake_url: str, drop: str, options: dict | None) -> None:
    root = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)}
    proc = subprocess.run([sys.executable, "-c", KILLER, lake_url, drop, json.dumps(options or {})], env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 9, proc.stderr


def files_under(fs, lake_url: str, dataset: str, drop: str) -> list[str]:
    d = fs._strip_protocol(drop_dir(lake_url, dataset, drop))
    return sorted(p[len(d) + 1:] for p in fs.find(d))


def crash_and_recover(lake_url: str, options: dict | None):
    fs = filesystem(lake_url, options)
    key = "svc/2026-01-01 x"
    write_drop(lake_url, key, [entries(3, "old")], lambda: [Reject("s", 1, "bad", b"\xff")], lambda: {"n": "old"},
               options, layout="versioned")
    kill_mid_write(lake_url, key, options)
    # the killed write's files exist, unpublished; readers still see the whole previous drop
    assert len({p.split("/")[0] for p in files_under(fs, lake_url, "log_entries", key) if p.startswith("v-")}) == 2
    assert read_entries(lake_url, key, options).column("input").to_pylist() == ["old"] * 3
    assert read_report(lake_url, key, options) == {"n": "old"}
    assert read_quarantine(lake_url, key, options).column("reason").to_pylist() == ["bad"]
    assert list_lake_drops(lake_url, options) == [key]
    table, window = read_window(lake_url, storage_options=options)
    assert table.num_rows == 3 and window["drops"] == [key]
    # a drop whose only write was killed is not a drop at all
    kill_mid_write(lake_url, "never", options)
    assert list_lake_drops(lake_url, options) == [key] and read_entries(lake_url, "never", options).num_rows == 0
    # re-materializing replaces the drop whole and removes the superseded and orphaned versions
    w = write_drop(lake_url, key, [entries(2, "new")], lambda: [], lambda: {"n": "new"}, options, layout="versioned")
    assert read_entries(lake_url, key, options).column("input").to_pylist() == ["new"] * 2
    assert read_report(lake_url, key, options) == {"n": "new"} and read_quarantine(lake_url, key, options).num_rows == 0
    version = w.entries_path.rstrip("/").rsplit("/", 1)[-1]
    assert files_under(fs, lake_url, "log_entries", key) == sorted(
        [MANIFEST, f"{version}/_ingest.json", f"{version}/part-00000.parquet"])
    assert files_under(fs, lake_url, "quarantine", key) == [f"{version}/rejects.parquet"]
    assert [p.rsplit("/", 1)[-1] for p in lake_files(lake_url, storage_options=options)] == ["part-00000.parquet"]


def test_killed_writer_local(tmp_path):
    crash_and_recover(str(tmp_path / "lake"), None)


def test_killed_writer_s3(s3):
    fs, bucket, options = s3
    crash_and_recover(f"s3://{bucket}/lake", options)


def test_object_stores_default_to_versions(s3):
    fs, bucket, options = s3
    lake_url = f"s3://{bucket}/lake"
    w = write_drop(lake_url, "d", [entries(1, "a")], lambda: [], lambda: {}, options)
    assert "/v-" in w.entries_path and fs.exists(f"{bucket}/lake/log_entries/drop=d/{MANIFEST}")
    assert not fs.exists(f"{bucket}/lake/_staging")


def test_flat_drops_read_then_replaced(tmp_path):
    """A drop of the older flat layout (or a local rename write) is read as before; a versioned write replaces it."""
    lake_url = str(tmp_path / "lake")
    write_drop(lake_url, "d", [entries(2, "flat")], lambda: [Reject("s", 1, "bad", b"x")], lambda: {"n": 1})
    assert (tmp_path / "lake" / "log_entries" / "drop=d" / "part-00000.parquet").exists()  # local default: flat
    kill_mid_write(lake_url, "d", None)  # an unpublished version beside flat files is ignored
    assert read_entries(lake_url, "d").column("input").to_pylist() == ["flat"] * 2
    assert read_quarantine(lake_url, "d").num_rows == 1 and list_lake_drops(lake_url) == ["d"]
    write_drop(lake_url, "d", [entries(1, "v")], lambda: [], lambda: {"n": 2}, layout="versioned")
    assert read_entries(lake_url, "d").column("input").to_pylist() == ["v"] and read_report(lake_url, "d") == {"n": 2}
    assert not (tmp_path / "lake" / "log_entries" / "drop=d" / "part-00000.parquet").exists()
    write_drop(lake_url, "d", [entries(3, "flat2")], lambda: [], lambda: {"n": 3})  # and back: rename swaps the folder
    assert read_entries(lake_url, "d").column("input").to_pylist() == ["flat2"] * 3
    assert read_quarantine(lake_url, "d").num_rows == 0


def test_bad_layout_refused(tmp_path):
    with pytest.raises(ValueError):
        write_drop(str(tmp_path), "d", [], lambda: [], lambda: {}, layout="copy")


def test_lake_views_follow_manifests(tmp_path):
    import duckdb

    from pipeline.core.storage.warehouse import refresh_lake_views

    lake_url = str(tmp_path / "lake")
    write_drop(lake_url, "flat", [entries(2, "f")], lambda: [], lambda: {})
    write_drop(lake_url, "ver", [entries(1, "old")], lambda: [], lambda: {}, layout="versioned")
    write_drop(lake_url, "ver", [entries(3, "new")], lambda: [Reject("s", 1, "bad", b"x")], lambda: {},
               layout="versioned")
    kill_mid_write(lake_url, "ver", None)
    con = duckdb.connect()
    assert refresh_lake_views(con, lake_url)
    assert sorted(con.sql("SELECT input, count(*) FROM lake_entries GROUP BY ALL").fetchall()) == [("f", 2), ("new", 3)]
    assert con.sql("SELECT reason FROM lake_quarantine").fetchall() == [("bad",)]


def test_failure_after_publish_keeps_the_new_drop(tmp_path, monkeypatch):
    """Pruning fails after the manifest is published: the write is committed, so its files stay and are read."""
    from pipeline.core.storage import lake

    lake_url = str(tmp_path / "lake")
    write_drop(lake_url, "d", [entries(1, "old")], lambda: [], lambda: {}, layout="versioned")

    def broken(*args, **kwargs):
        raise OSError("store went away while pruning")

    monkeypatch.setattr(lake, "prune", broken)
    with pytest.raises(OSError):
        write_drop(lake_url, "d", [entries(2, "new")], lambda: [], lambda: {"n": 2}, layout="versioned")
    assert read_entries(lake_url, "d").column("input").to_pylist() == ["new"] * 2 and read_report(lake_url, "d") == {"n": 2}


def test_failure_before_publish_removes_the_unpublished_files(tmp_path):
    lake_url = str(tmp_path / "lake")
    write_drop(lake_url, "d", [entries(1, "old")], lambda: [], lambda: {}, layout="versioned")

    def exploding():
        yield entries(1, "new")
        raise RuntimeError("source went away")

    with pytest.raises(RuntimeError):
        write_drop(lake_url, "d", exploding(), lambda: [], lambda: {}, layout="versioned")
    assert read_entries(lake_url, "d").column("input").to_pylist() == ["old"]
    assert len([p for p in (tmp_path / "lake" / "log_entries" / "drop=d").iterdir() if p.name.startswith("v-")]) == 1


def test_rename_refused_on_object_stores(s3):
    fs, bucket, options = s3
    with pytest.raises(ValueError, match="no rename"):
        write_drop(f"s3://{bucket}/lake", "d", [], lambda: [], lambda: {}, options, layout="rename")
