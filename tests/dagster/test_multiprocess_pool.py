"""Two drops ingested by two runs launched side by side in separate processes (each with the job's in-process
executor), on one instance: the duckdb pool serializes warehouse writers across runs, so neither hits a DuckDB lock
error."""
import multiprocessing
import shutil
from pathlib import Path

import dagster as dg
import duckdb

from .conftest import write_drop

REPO = Path(__file__).resolve().parents[2]


def ingest_job_def():
    from pipeline.definitions import defs

    return defs.resolve_job_def("ingest_job")


def launch(key: str, env: dict, out) -> None:
    """One run in its own process (threads in one process would share Python's logging locks with Dagster's setup)."""
    import os

    os.environ.update(env)
    with dg.DagsterInstance.get() as instance:
        with dg.execute_job(dg.reconstructable(ingest_job_def), instance, tags={"dagster/partition": key}) as r:
            errors = [str(e.event_specific_data.error) for e in r.all_events if e.event_type_value == "STEP_FAILURE"]
            out.put((key, r.success, errors))


def test_two_drops_in_parallel_processes(tmp_path):
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO / "dagster.yaml", home / "dagster.yaml")
    env = {
        "DAGSTER_HOME": str(home), "STRATA_DROPS_URL": str(tmp_path / "drops"), "STRATA_LAKE_URL": str(tmp_path / "lake"),
        "STRATA_ARTIFACTS_URL": str(tmp_path / "artifacts"), "STRATA_WAREHOUSE_PATH": str(tmp_path / "wh.duckdb"),
    }
    for key in ("a.jsonl", "b.jsonl"):
        write_drop(tmp_path / "drops", key)
    from dagster._core.instance.ref import InstanceRef

    with dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home))) as instance:
        instance.add_dynamic_partitions("log_drops", ["a.jsonl", "b.jsonl"])
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=launch, args=(k, env, out)) for k in ("a.jsonl", "b.jsonl")]
    for p in procs:
        p.start()
    results = {}
    for _ in procs:
        key, ok, errors = out.get(timeout=300)
        results[key] = (ok, errors)
    for p in procs:
        p.join(timeout=60)
    assert results == {"a.jsonl": (True, []), "b.jsonl": (True, [])}
    con = duckdb.connect(str(tmp_path / "wh.duckdb"), read_only=True)
    assert con.sql("SELECT drop, rows_kept FROM drops ORDER BY drop").fetchall() == [("a.jsonl", 40), ("b.jsonl", 40)]
    con.close()
