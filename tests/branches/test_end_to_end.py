"""End to end: application -> strata_capture -> drop on file:// -> new_log_drop_sensor -> ingest_job (ingest,
anomalies, drop_drift): zero rejects, one entry per trace, branch_path filled; a branch-rate change planted in a
second drop (human_review 8% -> 35% of runs) is flagged by the anomalies and by the drop's drift.

The application's clock is pinned to two fixed hours (10:00 and 11:00 UTC on one day), so the SDK writes two hour
drops deterministically whatever time the test runs at. (~15 s)"""
from __future__ import annotations

import time
from datetime import datetime, timezone

import dagster as dg
import duckdb

import strata_capture as sc
from assets.anomalies import anomalies
from assets.drift import drop_drift
from assets.ingest import log_entries, log_schema
from pipeline.core.storage.lake import read_entries, read_report
from pipeline.jobs import ingest_job
from pipeline.partitions import log_drops
from sensors.new_drop import new_log_drop_sensor
from tests.dagster.conftest import deployment, instance  # noqa: F401 - fixtures

from .helpers import sdk_runs

T0_NS = int(datetime(2026, 3, 2, 10, 0, 30, tzinfo=timezone.utc).timestamp()) * 10**9  # 10:00:30: a logged call starts its latency earlier
RUNS = 200


def _app_hour(monkeypatch, tmp_path, drops, hour: int, human_share: float, seed: int) -> None:
    real = time.time_ns
    start = real()
    monkeypatch.setattr(time, "time_ns", lambda: T0_NS + hour * 3_600 * 10**9 + (real() - start))
    sc.configure(drop_url=f"file://{drops}", spool_dir=str(tmp_path / f"spool{hour}"), service="routing-bot",
                 version="1.0", flush_interval_s=3600, metrics="off")
    try:
        sdk_runs(RUNS, human_share, seed=seed)
        assert sc.flush(30)["completed"]
    finally:
        sc.shutdown()
        monkeypatch.setattr(time, "time_ns", real)


def _tick_and_run(defs, instance, deployment, cursor):  # noqa: F811
    ctx = dg.build_sensor_context(instance=instance, instance_ref=instance.get_ref(), definitions=defs, cursor=cursor,
                                  resources={"object_store": deployment["resources"]["object_store"]})
    tick = new_log_drop_sensor.evaluate_tick(ctx)
    assert len(tick.run_requests) == 1, ([r.partition_key for r in tick.run_requests], tick.cursor)
    [request] = tick.run_requests
    instance.add_dynamic_partitions(log_drops.name, [request.partition_key])
    res = defs.resolve_job_def("ingest_job").execute_in_process(partition_key=request.partition_key,
                                                                 instance=instance, raise_on_error=False)
    assert res.success
    return request.partition_key, tick.cursor, res


def test_sdk_drops_through_sensor_and_ingest_job_flag_a_branch_rate_change(deployment, instance, tmp_path,  # noqa: F811
                                                                             monkeypatch):
    drops = deployment["drops"]
    defs = dg.Definitions(assets=[log_entries, log_schema, anomalies, drop_drift], jobs=[ingest_job],
                          sensors=[new_log_drop_sensor], resources=deployment["resources"])
    lake = deployment["resources"]["lake"]

    _app_hour(monkeypatch, tmp_path, drops, 0, 0.08, seed=1)
    first, cursor, _ = _tick_and_run(defs, instance, deployment, None)
    assert first == "capture-routing-bot-20260302T10"
    assert read_report(lake.lake_url, first)["rows_rejected"] == 0
    rows = read_entries(lake.lake_url, first).to_pylist()
    assert len(rows) == RUNS and all(r["branch_path"] for r in rows)  # one entry per trace, every one with a path

    _app_hour(monkeypatch, tmp_path, drops, 1, 0.35, seed=2)
    second, _, res = _tick_and_run(defs, instance, deployment, cursor)
    assert second == "capture-routing-bot-20260302T11"
    assert read_report(lake.lake_url, second)["rows_rejected"] == 0

    con = duckdb.connect(str(deployment["root"] / "warehouse.duckdb"), read_only=True)
    try:
        flagged = con.sql("SELECT score, explanation FROM anomalies WHERE drop = ? AND metric = 'branch_rate'",
                          params=[second]).fetchall()
        earlier = con.sql("SELECT count(*) FROM anomalies WHERE drop = ? AND metric = 'branch_rate'",
                          params=[first]).fetchall()[0][0]
        dims = con.sql("SELECT name, significant FROM drift_dimensions WHERE subject = ?", params=[second]).fetchall()
    finally:
        con.close()
    assert earlier == 0
    human = [(s, e) for s, e in flagged if "triage->human_review" in e]
    assert human and human[0][0] > 3 and human[0][1].startswith("human_review taken in ")
    assert ("branch_path", True) in dims
    drift_md = res.asset_materializations_for_node("drop_drift")[0].metadata["summary"].value
    assert "human_review taken in " in drift_md and ", was " in drift_md
