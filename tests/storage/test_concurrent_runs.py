"""8 drops ingested by 8 real Dagster runs of `ingest_job` at once, each in its own freshly spawned process (as the
default run launcher starts a process per run), all on one on-disk SQLite instance:

- against a Delta warehouse on S3 (moto's ThreadedMotoServer, which enforces the conditional writes Delta commits
  rely on), with the `duckdb` pool raised to 8: every run succeeds, the warehouse steps of different runs overlap
  (the pool does not serialize them), every drop's rows are there exactly once, no lock or commit error is logged,
  a 9th run of one drop leaves the tables identical, and a run SIGKILLed during its warehouse writes leaves the
  previous table versions readable and unchanged;
- against the DuckDB file with the pool at 1: every run succeeds, rows exactly once, and the pool serialized the
  warehouse steps (no two runs' pool steps overlap in time; no slot is left claimed).

Slow by nature (8 spawned processes importing Dagster on 2 cores): ~40-60 s per variant."""
import json
import multiprocessing as mp
import os
import queue
import signal
import time

import dagster as dg
import pytest

from pipeline.core.storage.store_delta import DeltaStore
from pipeline.core.storage.store_duckdb import DuckDBFileStore

from .runs import blocked_steps, check_rows, error_messages, instance, instance_yaml, overlaps, pool_steps, run_drop, \
    step_windows, write_drops

N_DROPS = 8
TIMEOUT_S = 240
POOLED = {"log_schema", "anomalies", "drop_drift"}  # ingest_job's steps in pool duckdb (the warehouse writers)
PRELOAD = ["tests.storage.runs", "pipeline.definitions", "pipeline.core.ingest.drop_ingest", "pipeline.core.detectors",
           "pipeline.core.drift.engine", "pipeline.core.storage.store_delta", "pipeline.core.storage.anomaly_store"]


def setup(tmp_path, pool_limit: int, warehouse_env: dict) -> tuple[dict, list[str]]:
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text(instance_yaml(pool_limit))
    keys = write_drops(tmp_path / "drops", N_DROPS)
    env = {"DAGSTER_HOME": str(home), "STRATA_DROPS_URL": str(tmp_path / "drops"),
           "STRATA_LAKE_URL": str(tmp_path / "lake"), "STRATA_ARTIFACTS_URL": str(tmp_path / "artifacts"),
           "STRATA_WAREHOUSE_PATH": str(tmp_path / "warehouse.duckdb"), "STRATA_WAREHOUSE_URL": "",
           "STRATA_CONFIG": "", "STRATA_STORAGE_OPTIONS": "", "STRATA_S3_ENDPOINT_URL": "", **warehouse_env}
    with instance(env) as inst:
        inst.add_dynamic_partitions("log_drops", keys)
    return env, keys


def context():
    """Run processes forked from a server that imported the code location and the libraries its assets import
    (fresh single-threaded interpreter, no test state): each run is its own OS process with its own instance
    connection and warehouse handles, without paying 8 cold imports at once on 2 cores."""
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    return ctx


def launch(env: dict, keys: list[str]) -> tuple[list, object]:
    ctx = context()
    out = ctx.Queue()
    procs = [ctx.Process(target=run_drop, args=(env, k, out)) for k in keys]
    for p in procs:
        p.start()
    return procs, out


def run_all(env: dict, keys: list[str]) -> dict[str, tuple[str, bool]]:
    """One run per key, all started at once; {key: (run_id, success)}."""
    procs, out = launch(env, keys)
    results, deadline = {}, time.monotonic() + TIMEOUT_S
    while len(results) < len(keys) and time.monotonic() < deadline:
        try:
            key, run_id, ok = out.get(timeout=1)
            results[key] = (run_id, ok)
        except queue.Empty:
            dead = [p.exitcode for p in procs if p.exitcode not in (None, 0)]
            assert not dead, f"a run process died: exit codes {dead}"
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    return results


def contents(read, tables) -> dict:
    """Each table's rows sorted, without the write-time columns (`*_at`)."""
    out = {}
    for t in tables:
        table = read(t)
        cols = [c for c in table.column_names if not c.endswith("_at")]
        out[t] = sorted(table.select(cols).to_pylist(), key=lambda r: json.dumps(r, sort_keys=True, default=str))
    return out


def check_runs(env, results, keys, steps_must_overlap: bool) -> list:
    assert sorted(results) == sorted(keys)
    assert all(ok for _, ok in results.values()), results
    with instance(env) as inst:
        for run_id, _ in results.values():
            assert error_messages(inst, run_id) == []  # zero lock or commit errors
            assert inst.get_run_by_id(run_id).status == dg.DagsterRunStatus.SUCCESS
        pooled = pool_steps(inst, next(iter(results.values()))[0])
        assert pooled == POOLED
        windows = [w for run_id, _ in results.values() for w in step_windows(inst, run_id, pooled)]
        blocked = [s for run_id, _ in results.values() for s in blocked_steps(inst, run_id)]
        assert len(windows) == N_DROPS * len(pooled)
        info = inst.event_log_storage.get_concurrency_info("duckdb")
        assert info.active_slot_count == 0 and info.pending_step_count == 0  # every slot given back
    crossing = [(a, b) for a, b in overlaps(windows) if a.split(":")[0] != b.split(":")[0]]
    if steps_must_overlap:
        assert crossing, "the pool serialized the Delta warehouse steps"
        assert blocked == []  # 8 slots: no warehouse step waited for the pool
    else:
        # pool duckdb at 1: two runs' warehouse steps never run at once. Event times are stamped when an event is made,
        # not when the slot changes hands, so under load a hand-over seen across processes can cross by a moment (seen
        # in CI at 0.5 s and more). So: the time spent in cross-run overlaps is a small share of the warehouse time
        # (unserialized, 8 runs at once would overlap for most of it), and no run logged a lock error (checked above).
        ws = sorted(windows)
        crossed = sum(max(0.0, min(a[1], b[1]) - b[0]) for i, a in enumerate(ws) for b in ws[i + 1:]
                      if b[0] < a[1] and a[2].split(":")[0] != b[2].split(":")[0])
        busy = sum(w[1] - w[0] for w in ws)
        assert crossed <= 0.1 * busy, (round(crossed, 2), round(busy, 2), crossing[:3])
        assert blocked  # and the pool is what held them back: steps waited for its slot
    return windows


def kill_during_warehouse_write(env: dict, key: str, delay_s: float) -> str:
    """Start a run of `key`, SIGKILL its process `delay_s` after its first warehouse step (log_schema) started."""
    from dagster._core.storage.dagster_run import RunsFilter

    procs, _ = launch(env, [key])
    deadline = time.monotonic() + TIMEOUT_S
    with instance(env) as inst:
        while time.monotonic() < deadline:
            runs = inst.get_runs(filters=RunsFilter(tags={"dagster/partition": key},
                                                    statuses=[dg.DagsterRunStatus.STARTED]))
            if runs and "log_schema" in started_steps(inst, runs[0].run_id):
                break
            time.sleep(0.02)
        else:
            pytest.fail("the run to kill never reached log_schema")
    time.sleep(delay_s)
    os.kill(procs[0].pid, signal.SIGKILL)
    procs[0].join(timeout=30)
    assert procs[0].exitcode == -signal.SIGKILL  # killed, not finished
    return runs[0].run_id


def started_steps(inst, run_id: str) -> set[str]:
    return {r.step_key for r in inst.all_logs(run_id, of_type=dg.DagsterEventType.STEP_START)}


def test_eight_runs_on_delta_s3(s3, tmp_path):
    fs, bucket, options = s3
    where = f"s3://{bucket}/warehouse"
    env, keys = setup(tmp_path, N_DROPS, {
        "STRATA_WAREHOUSE_URL": where, "STRATA_STORAGE_OPTIONS": json.dumps(options),
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"})
    results = run_all(env, keys)
    check_runs(env, results, keys, steps_must_overlap=True)  # pool duckdb at 8: warehouse steps of runs overlap
    store = DeltaStore(where, options)
    check_rows(store.scan, keys)
    tables = sorted(store.tables())
    assert {"drops", "log_schemas", "anomalies"} <= set(tables)
    before = contents(store.scan, tables)
    # a 9th run of one drop leaves every table identical
    again = run_all(env, [keys[3]])
    assert [ok for _, ok in again.values()] == [True]
    assert contents(DeltaStore(where, options).scan, tables) == before
    # a run killed during its warehouse commits: every table still loads, at its previous or a whole new version
    versions = {t: store.version(t) for t in tables}
    killed = kill_during_warehouse_write(env, keys[5], delay_s=0.1)
    after = DeltaStore(where, options)
    assert all(after.version(t) >= versions[t] for t in tables)
    assert contents(after.scan, tables) == before
    with instance(env) as inst:
        assert inst.get_run_by_id(killed).status == dg.DagsterRunStatus.STARTED  # nothing marks a killed local run
        # a pool step it was in keeps its slot (the default launcher has no worker health check): on the DuckDB
        # file at limit 1 that would block every later warehouse step until the slot is freed by hand, as here
        held = (started_steps(inst, killed) & POOLED) - {w[2].split(":")[1] for w in step_windows(inst, killed, POOLED)}
        assert inst.event_log_storage.get_concurrency_info("duckdb").active_slot_count == len(held)
        inst.event_log_storage.free_concurrency_slots_for_run(killed)
    # and the drop's next run completes over what the killed one left
    assert [ok for _, ok in run_all(env, [keys[5]]).values()] == [True]
    assert contents(DeltaStore(where, options).scan, tables) == before


def test_eight_runs_on_duckdb_file_under_pool(tmp_path):
    env, keys = setup(tmp_path, 1, {})
    results = run_all(env, keys)
    check_runs(env, results, keys, steps_must_overlap=False)  # pool duckdb at 1 serialized the warehouse steps

    def read(table):
        with DuckDBFileStore(env["STRATA_WAREHOUSE_PATH"], read_only=True) as store:
            return store.scan(table)

    check_rows(read, keys)
