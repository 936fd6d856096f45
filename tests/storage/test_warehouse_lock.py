"""Issue 13 item 11: a process holding the warehouse file (a run writing, a notebook reading) makes other openers
wait with backoff instead of failing; after the bounded wait the error names the file. Two real processes."""
import subprocess
import sys
import time

import duckdb
import pytest

from pipeline.core.storage.store_duckdb import DuckDBFileStore
from pipeline.core.storage.warehouse_lock import WarehouseBusy, connect_warehouse, is_lock_conflict

HOLD = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1], read_only=sys.argv[2] == "ro")
print("held", flush=True)
time.sleep(float(sys.argv[3]))
con.close()
"""


def hold(path, seconds, mode="rw"):
    """A second process holding the file open for `seconds`; returns once it holds it."""
    p = subprocess.Popen([sys.executable, "-c", HOLD, str(path), mode, str(seconds)], stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "held"
    return p


@pytest.fixture
def warehouse(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE drops AS SELECT 'd1' AS drop, 5 AS rows_kept")
    return path


@pytest.mark.parametrize("read_only", [True, False])
def test_opener_waits_for_a_writer_process(warehouse, read_only):
    holder = hold(warehouse, 1.5)
    t0 = time.monotonic()
    con = connect_warehouse(str(warehouse), read_only=read_only, timeout_s=60)
    waited = time.monotonic() - t0
    try:
        assert con.sql("SELECT drop, rows_kept FROM drops").fetchall() == [("d1", 5)]
    finally:
        con.close()
        holder.wait()
    assert holder.returncode == 0
    assert waited > 0.3  # it did wait (the holder had the file for 1.5 s from before the first attempt)


def test_writer_waits_for_a_reader_process(warehouse):
    """The `anomalies` step's case: a notebook holds the file read-only; the step's store waits, then writes."""
    import pyarrow as pa

    holder = hold(warehouse, 1.5, "ro")
    with DuckDBFileStore(str(warehouse), lock_timeout_s=60) as store:
        store.replace("drops", pa.table({"drop": ["d1"], "rows_kept": [7]}), {"drop": "d1"})
        assert store.scan("drops").to_pylist() == [{"drop": "d1", "rows_kept": 7}]
    holder.wait()


def test_bounded_wait_then_an_error_naming_the_file(warehouse):
    holder = hold(warehouse, 20)
    try:
        t0 = time.monotonic()
        with pytest.raises(WarehouseBusy) as err:
            connect_warehouse(str(warehouse), read_only=True, timeout_s=0.8)
        assert 0.7 <= time.monotonic() - t0 < 10
        assert str(warehouse) in str(err.value) and "locked by another process" in str(err.value)
        assert err.value.path == str(warehouse)
    finally:
        holder.kill()
        holder.wait()


def test_other_errors_are_not_retried(tmp_path):
    bad = tmp_path / "not-a-db.duckdb"
    bad.write_bytes(b"this is not a duckdb file" * 100)
    t0 = time.monotonic()
    with pytest.raises(duckdb.Error) as err:
        connect_warehouse(str(bad), read_only=True, timeout_s=30)
    assert time.monotonic() - t0 < 5 and not is_lock_conflict(err.value)


def test_backoff_is_bounded_and_grows():
    """The retry schedule on a fake clock: jittered exponential delays capped at max_delay_s, total within timeout."""
    sleeps, now = [], [0.0]

    def sleep(s):
        sleeps.append(s)
        now[0] += s

    class Locked(duckdb.IOException):
        pass

    import pipeline.core.storage.warehouse_lock as wl

    real = wl.duckdb.connect
    wl.duckdb.connect = lambda *a, **k: (_ for _ in ()).throw(Locked('Could not set lock on file "x": Conflicting lock'))
    try:
        with pytest.raises(WarehouseBusy):
            connect_warehouse("x", timeout_s=10, sleep=sleep, clock=lambda: now[0])
    finally:
        wl.duckdb.connect = real
    assert max(sleeps) <= 1.5 and 9.9 <= sum(sleeps) <= 10.0 + 1e-9
    assert sleeps[0] < 0.05 and len(sleeps) > 10
