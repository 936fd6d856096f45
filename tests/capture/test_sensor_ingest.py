"""An SDK drop through Dagster: new_log_drop_sensor requests the capture folder once, the ingest assets
materialize it with zero rejects and one entry per trace."""
from __future__ import annotations

import dagster as dg

import strata_capture as sc
from assets.anomalies import anomalies
from assets.drift import drop_drift
from assets.ingest import log_entries, log_schema
from pipeline.core.storage.lake import read_entries, read_report
from pipeline.jobs import ingest_job
from pipeline.partitions import log_drops
from sensors.new_drop import new_log_drop_sensor
from tests.dagster.conftest import deployment, instance  # noqa: F401 - fixtures

TRACES = 25


def test_sdk_drop_through_sensor_and_ingest(deployment, instance, tmp_path):  # noqa: F811
    sc.configure(drop_url=str(deployment["drops"]), spool_dir=str(tmp_path / "spool"), service="routing-bot",
                 flush_interval_s=3600, metrics="off")
    try:
        for i in range(TRACES):
            with sc.span("agent", kind="agent", input={"ticket": i}) as root:
                sc.branch("triage", "human_review" if i % 5 == 0 else "auto_reply")
                sc.log(model="gpt-4o-mini", input=f"ticket {i}", output="ok", prompt_tokens=20, completion_tokens=5,
                       latency_ms=40, tool_calls=["lookup_ticket"])
                root.set_output("resolved")
        assert sc.flush(10)["completed"]
    finally:
        sc.shutdown()
    defs = dg.Definitions(assets=[log_entries, log_schema, anomalies, drop_drift], jobs=[ingest_job],
                          sensors=[new_log_drop_sensor], resources=deployment["resources"])
    ctx = dg.build_sensor_context(instance=instance, instance_ref=instance.get_ref(), definitions=defs,
                                  resources={"object_store": deployment["resources"]["object_store"]})
    tick = new_log_drop_sensor.evaluate_tick(ctx)
    [request] = tick.run_requests
    key = request.partition_key
    assert key.startswith("capture-routing-bot-")
    instance.add_dynamic_partitions(log_drops.name, [key])
    res = dg.materialize([log_entries, log_schema], partition_key=key, instance=instance,
                         resources=deployment["resources"])
    assert res.success
    lake = deployment["resources"]["lake"]
    assert read_report(lake.lake_url, key)["rows_rejected"] == 0
    rows = read_entries(lake.lake_url, key).to_pylist()
    assert len(rows) == TRACES
    assert {r["output"] for r in rows} == {"resolved"} and all(r["tool_calls"] == ["lookup_ticket"] for r in rows)
    assert sorted(r["prompt_tokens"] for r in rows) == [20] * TRACES
