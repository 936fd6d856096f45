"""Profile `postgres` for real: deploy/postgres/dagster.yaml against a throwaway PostgreSQL server; drops go through
the new-drop sensor and ingest_job on that instance, and the sensor's cursor, run keys, dynamic partitions, pool
slots and the run queue's per-service limit behave as on SQLite."""
import os
import shutil

import dagster as dg
import pytest
from dagster._core.storage.dagster_run import RunsFilter

from assets.anomalies import anomalies
from assets.drift import drop_drift
from assets.ingest import log_entries, log_schema
from pipeline.jobs import ingest_job
from sensors.new_drop import new_log_drop_sensor

from ..dagster.conftest import write_drop
from .conftest import DEPLOY


@pytest.fixture(scope="module")
def pg_instance(pg_server, tmp_path_factory):
    home = tmp_path_factory.mktemp("dagster_home")
    shutil.copy(DEPLOY / "postgres" / "dagster.yaml", home / "dagster.yaml")
    env = {"STRATA_PG_HOST": pg_server["host"], "STRATA_PG_PORT": str(pg_server["port"]),
           "STRATA_PG_USER": pg_server["user"], "STRATA_PG_PASSWORD": pg_server["password"],
           "STRATA_PG_DB": pg_server["db"]}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    instance = dg.DagsterInstance.from_config(str(home))
    yield instance
    instance.dispose()
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def test_instance_storage_is_postgres(pg_instance):
    from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage, PostgresScheduleStorage

    assert isinstance(pg_instance.run_storage, PostgresRunStorage)
    assert isinstance(pg_instance.event_log_storage, PostgresEventLogStorage)
    assert isinstance(pg_instance.schedule_storage, PostgresScheduleStorage)
    limits = pg_instance.get_concurrency_config().run_queue_config.tag_concurrency_limits
    assert limits == [{"key": "strata/service", "value": {"applyLimitPerUniqueValue": True}, "limit": 1}]


def test_drops_through_sensor_and_ingest_job(pg_instance, tmp_path):
    from dagster_duckdb import DuckDBResource

    from resources.storage import LakeResource, ObjectStoreResource, StrataConfigResource

    drops = tmp_path / "drops"
    for i, name in enumerate(["a.jsonl", "b.jsonl"]):
        os.utime(write_drop(drops, name), (1000 + i, 1000 + i))
    resources = {"object_store": ObjectStoreResource(drops_url=str(drops)),
                 "lake": LakeResource(lake_url=str(tmp_path / "lake"), artifacts_url=str(tmp_path / "artifacts")),
                 "warehouse": DuckDBResource(database=str(tmp_path / "warehouse.duckdb")),
                 "strata_config": StrataConfigResource(config_path="")}
    defs = dg.Definitions(assets=[log_entries, log_schema, anomalies, drop_drift], jobs=[ingest_job],
                          sensors=[new_log_drop_sensor], resources=resources)

    def tick(cursor):
        ctx = dg.build_sensor_context(instance=pg_instance, instance_ref=pg_instance.get_ref(), cursor=cursor,
                                      definitions=defs, resources={"object_store": resources["object_store"]})
        return new_log_drop_sensor.evaluate_tick(ctx)

    first = tick(None)
    assert [r.partition_key for r in first.run_requests] == ["a.jsonl", "b.jsonl"]
    for req in first.dynamic_partitions_requests:
        pg_instance.add_dynamic_partitions(req.partitions_def_name, list(req.partition_keys))
    assert pg_instance.get_dynamic_partitions("log_drops") == ["a.jsonl", "b.jsonl"]
    job = defs.resolve_job_def("ingest_job")
    for req in first.run_requests:
        res = job.execute_in_process(partition_key=req.partition_key, instance=pg_instance, raise_on_error=False,
                                     tags={**req.tags, "dagster/run_key": req.run_key})
        assert res.success
    # run keys are stored in PostgreSQL: the daemon would find them and not launch a drop twice
    runs = pg_instance.get_runs(filters=RunsFilter(tags={"dagster/run_key": "a.jsonl@1000.000000"}))
    assert len(runs) == 1 and runs[0].status == dg.DagsterRunStatus.SUCCESS
    assert runs[0].tags["dagster/partition"] == "a.jsonl"
    # the cursor carries across ticks: nothing new until a new drop arrives
    second = tick(first.cursor)
    assert not second.run_requests
    os.utime(write_drop(drops, "c.jsonl"), (1003, 1003))
    third = tick(first.cursor)
    assert [r.partition_key for r in third.run_requests] == ["c.jsonl"]
    # materializations are in the PostgreSQL event log
    mats = pg_instance.get_latest_materialization_event(dg.AssetKey("log_entries"))
    assert mats is not None and mats.dagster_event.partition == "b.jsonl"


def test_pool_slots_on_postgres(pg_instance):
    """Pool `duckdb` (one warehouse writer) is enforced from PostgreSQL: a second step cannot claim the slot."""
    storage = pg_instance.event_log_storage
    storage.set_concurrency_slots("duckdb", 1)
    first = storage.claim_concurrency_slot("duckdb", "run-1", "anomalies")
    second = storage.claim_concurrency_slot("duckdb", "run-2", "anomalies")
    assert first.is_claimed and not second.is_claimed
    storage.free_concurrency_slot_for_step("run-1", "anomalies")
    third = storage.claim_concurrency_slot("duckdb", "run-2", "anomalies")
    assert third.is_claimed
    assert storage.get_concurrency_info("duckdb").slot_count == 1
