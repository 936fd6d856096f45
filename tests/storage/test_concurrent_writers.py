"""8 drops ingested by 8 concurrent runs in separate processes, against a Delta warehouse on S3 (moto) and against the
DuckDB file (whose writers wait for each other's lock): every row exactly once, no errors, a re-run leaves identical
tables, a retried run appends nothing; a writer killed mid-commit leaves the previous version readable.
Slow-ish by nature (8 spawned processes on 2 cores, moto in the test process): ~30-50 s for the module."""
import multiprocessing as mp
import time

import pyarrow.compute as pc
import pytest

from pipeline.core.storage.store_delta import DeltaStore
from pipeline.core.storage.store_duckdb import DuckDBFileStore

from .writers import N_ROWS, drop_bytes, replace_forever, replace_forever_duckdb, run_drop

N_DROPS = 8
SLOW_ROW = 1  # drop_rows marks one row per drop as a 5 s latency: one anomaly per drop


def sorted_rows(table, drop_cols=()):
    cols = [c for c in table.column_names if c not in drop_cols]
    return sorted(table.select(cols).to_pylist(), key=lambda r: tuple(str(r[c]) for c in cols))


def setup_drops(root):
    """The drops and the lake on local disk: what is under test is the warehouse (on S3 for Delta)."""
    (root / "drops").mkdir()
    for i in range(N_DROPS):
        (root / "drops" / f"day-{i}.jsonl").write_bytes(drop_bytes(i))
    return [f"day-{i}.jsonl" for i in range(N_DROPS)]


def run_all(pool, kind, where, root, options, keys, run_prefix):
    """One run per key, all at once; `run_prefix` is a string or one per key (the run's idempotency token)."""
    prefixes = [run_prefix] * len(keys) if isinstance(run_prefix, str) else run_prefix
    args = [(kind, where, str(root / "drops"), str(root / "lake"), options, k, f"{p}-{k}") for k, p in zip(keys, prefixes)]
    return pool.starmap(run_drop, args, chunksize=1)


@pytest.fixture(scope="module")
def pool():
    """8 worker processes (spawned, as run workers are), shared by the module's tests."""
    with mp.get_context("spawn").Pool(N_DROPS) as p:
        yield p


def check_tables(read, keys):
    entries = read("log_entries")
    assert entries.num_rows == N_DROPS * N_ROWS
    counts = {r["drop"]: r["n"] for r in read("log_entries").group_by("drop").aggregate([("line", "count")])
              .rename_columns(["drop", "n"]).to_pylist()}
    assert counts == {k: N_ROWS for k in keys}
    # no row twice: (drop, line) is unique
    assert len({(r["drop"], r["line"]) for r in entries.select(["drop", "line"]).to_pylist()}) == entries.num_rows
    drops = read("drops")
    assert sorted(drops.column("drop").to_pylist()) == sorted(keys)
    assert set(drops.column("rows_kept").to_pylist()) == {N_ROWS}
    anomalies = read("anomalies")
    assert sorted(anomalies.column("drop").to_pylist()) == sorted(keys)  # SLOW_ROW per drop, once each
    assert pc.all(pc.equal(anomalies.column("metric"), "latency_ms")).as_py()
    runs = read("ingest_runs")
    assert sorted(runs.column("drop").to_pylist()) == sorted(keys)


@pytest.mark.parametrize("kind", ["delta", "duckdb"])
def test_eight_concurrent_runs(s3, tmp_path, kind, pool):
    fs, bucket, options = s3
    keys = setup_drops(tmp_path)
    where = f"s3://{bucket}/warehouse" if kind == "delta" else str(tmp_path / "warehouse.duckdb")

    def read(table):
        if kind == "delta":
            return DeltaStore(where, options).scan(table)
        with DuckDBFileStore(where, read_only=True) as store:
            return store.scan(table)

    results = run_all(pool, kind, where, tmp_path, options, keys, "run1")
    assert [r["error"] for r in results] == [None] * N_DROPS  # zero lock or commit errors
    check_tables(read, keys)
    before = {t: sorted_rows(read(t), ("ingested_at", "updated_at")) for t in ("log_entries", "drops", "anomalies", "log_schemas")}
    # re-running two drops (new runs) leaves identical tables; retrying a run (same token) appends nothing
    again = run_all(pool, kind, where, tmp_path, options, [keys[2], keys[3], keys[0]], ["run2", "run2", "run1"])
    assert [r["error"] for r in again] == [None] * 3
    after = {t: sorted_rows(read(t), ("ingested_at", "updated_at")) for t in before}
    assert after == before
    runs = read("ingest_runs")
    assert runs.num_rows == N_DROPS + 2  # run1 of keys[0] retried: no second row; the run2s are new runs
    assert sorted(runs.filter(pc.equal(runs.column("drop"), keys[0])).column("run_id").to_pylist()) == [f"run1-{keys[0]}"]


def test_killed_writer_leaves_previous_version_readable(s3):
    fs, bucket, options = s3
    where = f"s3://{bucket}/warehouse"
    store = DeltaStore(where, options)
    import pyarrow as pa

    store.replace("log_entries", pa.table({"drop": ["k"] * 5, "line": pa.array(range(5), pa.int64()), "model": ["v0"] * 5}),
                  {"drop": "k"})
    store.replace("log_entries", pa.table({"drop": ["other"], "line": pa.array([0], pa.int64()), "model": ["x"]}),
                  {"drop": "other"})
    ctx = mp.get_context("spawn")
    for delay in (2.0, 3.5):  # somewhere before, during or between commits
        p = ctx.Process(target=replace_forever, args=(where, options, "k", 50_000))
        p.start()
        time.sleep(delay)
        p.kill()
        p.join()
        table = DeltaStore(where, options).scan("log_entries")
        k = table.filter(pc.equal(table.column("drop"), "k"))
        models = set(k.column("model").to_pylist())
        assert len(models) == 1  # one version of the drop, never a mix or half of one
        assert k.num_rows == (5 if models == {"v0"} else 50_000)
        assert table.filter(pc.equal(table.column("drop"), "other")).num_rows == 1


def test_killed_duckdb_writer_leaves_the_last_commit(tmp_path):
    import pyarrow as pa

    path = str(tmp_path / "warehouse.duckdb")
    with DuckDBFileStore(path) as store:
        store.replace("log_entries", pa.table({"drop": ["k"] * 5, "line": pa.array(range(5), pa.int64()), "model": ["v0"] * 5}),
                      {"drop": "k"})
    p = mp.get_context("spawn").Process(target=replace_forever_duckdb, args=(path, "k", 300_000))
    p.start()
    time.sleep(3.0)
    p.kill()
    p.join()
    with DuckDBFileStore(path, read_only=True) as store:
        table = store.scan("log_entries")
    models = set(table.column("model").to_pylist())
    assert len(models) == 1 and table.num_rows == (5 if models == {"v0"} else 300_000)


def test_moto_enforces_conditional_writes(s3):
    """The premise of the Delta test: a second create of the same log entry (If-None-Match: *) is refused."""
    import boto3
    from botocore.exceptions import ClientError

    fs, bucket, options = s3
    client = boto3.client("s3", endpoint_url=options["client_kwargs"]["endpoint_url"], region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")
    key = "t/_delta_log/00000000000000000001.json"
    client.put_object(Bucket=bucket, Key=key, Body=b"first", IfNoneMatch="*")
    with pytest.raises(ClientError) as err:
        client.put_object(Bucket=bucket, Key=key, Body=b"second", IfNoneMatch="*")
    assert err.value.response["Error"]["Code"] in ("PreconditionFailed", "412", "ConditionalRequestConflict")
    assert client.get_object(Bucket=bucket, Key=key)["Body"].read() == b"first"
