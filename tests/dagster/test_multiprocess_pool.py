"""Two drops ingested by two concurrent multiprocess runs on one instance: the duckdb pool prevents lock errors."""
import shutil
import threading
from pathlib import Path

import dagster as dg
import duckdb

from .conftest import write_drop

REPO = Path(__file__).resolve().parents[2]


def ingest_job_def():
    from pipeline.definitions import defs

    return defs.resolve_job_def("ingest_job")


def test_two_drops_in_parallel_processes(tmp_path, monkeypatch):
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO / "dagster.yaml", home / "dagster.yaml")
    for name, value in {
        "DAGSTER_HOME": str(home), "STRATA_DROPS_URL": str(tmp_path / "drops"), "STRATA_LAKE_URL": str(tmp_path / "lake"),
        "STRATA_ARTIFACTS_URL": str(tmp_path / "artifacts"), "STRATA_WAREHOUSE_PATH": str(tmp_path / "wh.duckdb"),
    }.items():
        monkeypatch.setenv(name, value)
    for key in ("a.jsonl", "b.jsonl"):
        write_drop(tmp_path / "drops", key)
    results = {}
    with dg.DagsterInstance.get() as instance:
        instance.add_dynamic_partitions("log_drops", ["a.jsonl", "b.jsonl"])

        def go(key):
            with dg.execute_job(dg.reconstructable(ingest_job_def), instance, tags={"dagster/partition": key}) as r:
                results[key] = (r.success, [str(e.event_specific_data.error) for e in r.all_events
                                            if e.event_type_value == "STEP_FAILURE"])

        threads = [threading.Thread(target=go, args=(k,)) for k in ("a.jsonl", "b.jsonl")]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=300)
    assert results == {"a.jsonl": (True, []), "b.jsonl": (True, [])}
    con = duckdb.connect(str(tmp_path / "wh.duckdb"), read_only=True)
    assert con.sql("SELECT drop, rows_kept FROM drops ORDER BY drop").fetchall() == [("a.jsonl", 40), ("b.jsonl", 40)]
    con.close()
