"""new_log_drop_sensor through evaluate_tick: requests each new drop once, with partitions and run keys."""
import os

import dagster as dg

from assets.anomalies import anomalies
from assets.drift import drop_drift
from assets.ingest import log_entries, log_schema
from pipeline.jobs import ingest_job
from sensors.new_drop import new_log_drop_sensor



INSTANCE: list = []  # set per test by the `instance` fixture


def sensor_defs(resources):
    return dg.Definitions(assets=[log_entries, log_schema, anomalies, drop_drift], jobs=[ingest_job], sensors=[new_log_drop_sensor],
                          resources=resources)

from .conftest import write_drop


def tick(deployment, cursor=None):
    ctx = dg.build_sensor_context(instance=INSTANCE[0], instance_ref=INSTANCE[0].get_ref(), cursor=cursor, definitions=sensor_defs(deployment["resources"]),
                                  resources={"object_store": deployment["resources"]["object_store"]})
    return new_log_drop_sensor.evaluate_tick(ctx)


def test_requests_new_drops_once_across_ticks(deployment, instance):
    INSTANCE[:] = [instance]
    drops = deployment["drops"]
    for i, name in enumerate(["a.jsonl", "b.jsonl"]):
        os.utime(write_drop(drops, name), (1000 + i, 1000 + i))
    (drops / "c").mkdir()
    os.utime(write_drop(drops / "c", "part1.jsonl"), (1002, 1002))
    first = tick(deployment)
    assert [r.partition_key for r in first.run_requests] == ["a.jsonl", "b.jsonl", "c"]
    assert first.run_requests[0].run_key == "a.jsonl@1000.000000"
    (add,) = first.dynamic_partitions_requests
    assert list(add.partition_keys) == ["a.jsonl", "b.jsonl", "c"]
    second = tick(deployment, first.cursor)
    assert not second.run_requests and "no new drops" in second.skip_message
    os.utime(write_drop(drops, "d.jsonl"), (1003, 1003))
    third = tick(deployment, second.cursor or first.cursor)
    assert [r.partition_key for r in third.run_requests] == ["d.jsonl"]


def test_empty_prefix_skips(deployment, instance):
    INSTANCE[:] = [instance]
    res = tick(deployment)
    assert not res.run_requests and res.skip_message
