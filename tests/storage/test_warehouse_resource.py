"""WarehouseResource in the assets: the same ingest steps write the DuckDB file or the Delta store (chosen by `url`),
and the SQL readers see the same rows through `get_connection()` on either."""
import dagster as dg
import pytest

from assets.anomalies import anomalies
from assets.drift import drop_drift
from assets.ingest import log_entries, log_schema
from pipeline.partitions import log_drops
from resources.storage import LakeResource, ObjectStoreResource, StrataConfigResource
from resources.warehouse import WarehouseResource

from ..dagster.conftest import ROWS, write_drop


def run_drops(tmp_path, url):
    drops = tmp_path / "drops"
    for name in ("a.jsonl", "b.jsonl"):
        write_drop(drops, name, rows=ROWS, bad_lines=1)
    wh = WarehouseResource(database=str(tmp_path / "warehouse.duckdb"), url=url)
    resources = {"object_store": ObjectStoreResource(drops_url=str(drops)),
                 "lake": LakeResource(lake_url=str(tmp_path / "lake"), artifacts_url=str(tmp_path / "artifacts")),
                 "warehouse": wh, "strata_config": StrataConfigResource(config_path="")}
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(log_drops.name, ["a.jsonl", "b.jsonl"])
    for key in ("a.jsonl", "b.jsonl", "a.jsonl"):  # a re-run of a.jsonl replaces its rows
        res = dg.materialize([log_entries, log_schema, anomalies, drop_drift], partition_key=key, instance=instance,
                             resources=resources)
        assert res.success
    with wh.get_connection() as con:
        return {
            "drops": con.sql("SELECT drop, rows_read, rows_kept, rows_rejected FROM drops ORDER BY drop").fetchall(),
            "schemas": con.sql("SELECT drop, role, path FROM log_schemas ORDER BY ALL").fetchall(),
            "anomalies": con.sql("SELECT drop, count(*) FROM anomalies GROUP BY drop ORDER BY drop").fetchall(),
        }


def test_duckdb_and_delta_hold_the_same_rows(tmp_path):
    duck = run_drops(tmp_path / "duck", "")
    delta = run_drops(tmp_path / "delta", str(tmp_path / "delta" / "warehouse"))
    assert duck["drops"] == [("a.jsonl", 41, 40, 1), ("b.jsonl", 41, 40, 1)]
    assert duck["schemas"] and duck == delta
    assert (tmp_path / "delta" / "warehouse" / "drops" / "_delta_log").is_dir()
    assert not (tmp_path / "delta" / "warehouse.duckdb").exists()  # nothing went to a DuckDB file


def test_lock_wait_is_bounded_by_the_resource(tmp_path):
    import subprocess
    import sys

    from pipeline.core.storage.warehouse_lock import WarehouseBusy

    path = tmp_path / "warehouse.duckdb"
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys, time\nc = duckdb.connect(sys.argv[1])\n"
                               "print('held', flush=True)\ntime.sleep(30)", str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(WarehouseBusy, match="warehouse.duckdb"):
            with WarehouseResource(database=str(path), lock_timeout_s=0.5).get_connection():
                pass
    finally:
        holder.kill()
        holder.wait()
