"""Baselines go through the warehouse store: appended with the run id as token on the DuckDB file and on Delta
(local and moto S3), history kept, `latest_baselines` the newest set on both, a retried run a no-op."""
from datetime import datetime, timedelta, timezone

import duckdb
import pyarrow as pa
import pytest

from pipeline.core.entry_schema import CANONICAL_SCHEMA
from pipeline.core.baselines import compute_baselines, store_baselines
from pipeline.core.storage.store_delta import DeltaStore
from pipeline.core.storage.store_duckdb import DuckDBFileStore

T0 = datetime(2026, 1, 1, 12, tzinfo=timezone.utc)


def _entries(n: int, scale: float) -> pa.Table:
    rows = [{"service": "svc", "model": "m", "version": "v1", "latency_ms": scale * (i + 1)} for i in range(n)]
    return pa.Table.from_pylist(rows, schema=CANONICAL_SCHEMA)


def _check(store, reader):
    first, second = compute_baselines(_entries(10, 1.0)), compute_baselines(_entries(10, 2.0))
    win = {"start": "2026-01-01 00:00:00", "end": "2026-01-02 00:00:00"}
    assert store_baselines(store, first, win, T0, token="run-1") == first.num_rows
    store_baselines(store, first, win, T0, token="run-1")  # a retried step: no second copy
    store_baselines(store, second, {"start": None, "end": None}, T0 + timedelta(days=1), token="run-2")
    con = reader()
    try:
        assert con.sql("SELECT count(*) FROM baselines").fetchall()[0][0] == first.num_rows + second.num_rows
        latest = con.sql("SELECT computed_at, window_start, p50 FROM latest_baselines "
                         "WHERE segment = 'all' AND metric = 'latency_ms'").fetchall()
        assert latest == [(T0 + timedelta(days=1), None, 11.0)]
        old = con.sql("SELECT window_start, window_end, p50 FROM baselines WHERE computed_at = ? "
                      "AND segment = 'svc|m|v1' AND metric = 'latency_ms'", params=[T0]).fetchall()
        assert old == [("2026-01-01 00:00:00", "2026-01-02 00:00:00", 5.5)]
        assert con.sql("SELECT 1 FROM duckdb_views() WHERE view_name = 'latest_baselines'").fetchall()
    finally:
        con.close()


def test_duckdb_file(tmp_path):
    path = tmp_path / "wh.duckdb"
    with DuckDBFileStore(str(path)) as store:
        _check(store, store.reader)
        types = dict(store.con.sql("SELECT column_name, data_type FROM duckdb_columns() "
                                   "WHERE table_name = 'baselines'").fetchall())
    assert types["computed_at"] == "TIMESTAMP WITH TIME ZONE" and types["count"] == "BIGINT"


def test_plain_connection_still_works():
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    store_baselines(con, compute_baselines(_entries(5, 1.0)), {"start": "a", "end": "b"}, T0)
    assert con.sql("SELECT DISTINCT window_start, window_end FROM latest_baselines").fetchall() == [("a", "b")]


def test_delta_local(tmp_path):
    store = DeltaStore(str(tmp_path / "wh"))
    _check(store, store.reader)


def test_delta_s3(s3):
    fs, bucket, options = s3
    store = DeltaStore(f"s3://{bucket}/wh", options)
    _check(store, store.reader)
    assert "baselines" in store.tables()


def test_empty_window_on_delta(tmp_path):
    """No entries in the window: nothing appended, but the table exists with the DDL's types on both stores."""
    empty = compute_baselines(CANONICAL_SCHEMA.empty_table())
    store = DeltaStore(str(tmp_path / "wh"))
    assert store_baselines(store, empty, {"start": None, "end": None}, T0, token="r") == 0
    schema = store.scan("baselines").schema
    assert schema.field("segment").type == pa.string() and schema.field("count").type == pa.int64()
    assert schema.field("mean").type == pa.float64()
    with DuckDBFileStore(str(tmp_path / "wh.duckdb")) as duck:
        assert store_baselines(duck, empty, {}, T0) == 0
        assert duck.scan("baselines").num_rows == 0
