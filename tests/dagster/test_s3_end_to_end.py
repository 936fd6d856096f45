"""S3 end to end through s3fs against moto's ThreadedMotoServer on loopback: sensor ticks, then log_entries."""
import json
import time

import dagster as dg
import pytest
import s3fs
from tests.s3_server import CREDS, moto_endpoint

from assets.anomalies import anomalies
from assets.drift import drop_drift
from assets.report import strata_report
from assets.ingest import log_entries, log_schema
from assets.invariants import invariant_staleness, invariant_suite, invariants
from pipeline.core.storage.invariant_store import baseline_url, suite_url
from pipeline.core.invariants import load_baseline
from pipeline.core.storage.lake import read_entries, read_report
from pipeline.partitions import log_drops
from resources.storage import LakeResource, ObjectStoreResource
from pipeline.jobs import ingest_job
from sensors.new_drop import new_log_drop_sensor



INSTANCE: list = []  # set per test by the `instance` fixture


def sensor_defs(resources):
    return dg.Definitions(assets=[log_entries, log_schema, anomalies, drop_drift], jobs=[ingest_job], sensors=[new_log_drop_sensor],
                          resources=resources)

from .conftest import ROWS



@pytest.fixture(scope="module")
def s3_endpoint():
    with moto_endpoint() as endpoint:
        yield endpoint


@pytest.fixture
def s3(s3_endpoint, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    fs = s3fs.S3FileSystem(**CREDS, client_kwargs={"endpoint_url": s3_endpoint}, skip_instance_cache=True)
    bucket = f"logs-{time.time_ns()}"
    fs.mkdir(bucket)
    return fs, bucket, s3_endpoint


def put(fs, path, rows):
    with fs.open(path, "wb") as f:
        f.write(("\n".join(json.dumps(r) for r in rows) + "\n").encode())


def test_sensor_and_ingest_through_s3(s3, deployment, instance):
    INSTANCE[:] = [instance]
    fs, bucket, endpoint = s3
    opts = json.dumps(CREDS)
    store = ObjectStoreResource(drops_url=f"s3://{bucket}/drops", storage_options_json=opts, s3_endpoint_url=endpoint)
    lake = LakeResource(lake_url=f"s3://{bucket}/lake", artifacts_url=f"s3://{bucket}/artifacts",
                        storage_options_json=opts, s3_endpoint_url=endpoint)
    put(fs, f"{bucket}/drops/2026-11-20.jsonl", ROWS)
    put(fs, f"{bucket}/drops/2026-11-21/part-1.jsonl", ROWS[:10])
    ctx = lambda cursor: dg.build_sensor_context(instance=INSTANCE[0], instance_ref=INSTANCE[0].get_ref(), cursor=cursor, definitions=sensor_defs({**deployment["resources"], "object_store": store}),
                                                  resources={"object_store": store})  # noqa: E731
    first = new_log_drop_sensor.evaluate_tick(ctx(None))
    assert [r.partition_key for r in first.run_requests] == ["2026-11-20.jsonl", "2026-11-21"] or \
        sorted(r.partition_key for r in first.run_requests) == ["2026-11-20.jsonl", "2026-11-21"]
    assert not new_log_drop_sensor.evaluate_tick(ctx(first.cursor)).run_requests
    time.sleep(1.1)  # S3 LastModified has one-second resolution
    put(fs, f"{bucket}/drops/2026-11-22.jsonl", ROWS[:5])
    third = new_log_drop_sensor.evaluate_tick(ctx(first.cursor))
    assert [r.partition_key for r in third.run_requests] == ["2026-11-22.jsonl"]

    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(log_drops.name, ["2026-11-20.jsonl", "2026-11-21"])
    resources = {**deployment["resources"], "object_store": store, "lake": lake}
    for key, n in (("2026-11-20.jsonl", 40), ("2026-11-21", 10)):
        res = dg.materialize([log_entries, log_schema], partition_key=key, instance=instance, resources=resources)
        assert res.success
        got = read_entries(lake.lake_url, key, lake.storage_options())
        assert got.num_rows == n and got.column("drop").unique().to_pylist() == [key]
        assert read_report(lake.lake_url, key, lake.storage_options())["rows_kept"] == n
    assert fs.exists(f"{bucket}/lake/log_entries/drop=2026-11-20.jsonl/_current.json")  # one PUT publishes the drop
    assert fs.glob(f"{bucket}/lake/quarantine/drop=2026-11-20.jsonl/v-*/rejects.parquet")
    assert not fs.exists(f"{bucket}/lake/_staging") or not fs.ls(f"{bucket}/lake/_staging")


def test_invariants_through_s3(s3, deployment, tmp_path):
    """Mine from an S3 lake, save the baseline and the generated suite to S3 artifacts, check staleness from S3."""
    import pyarrow.parquet as pq

    from pipeline.core.invariants.synthetic import generate_entries

    fs, bucket, endpoint = s3
    opts = json.dumps(CREDS)
    store = ObjectStoreResource(drops_url=f"s3://{bucket}/drops", storage_options_json=opts, s3_endpoint_url=endpoint)
    lake = LakeResource(lake_url=f"s3://{bucket}/lake", artifacts_url=f"s3://{bucket}/artifacts",
                        storage_options_json=opts, s3_endpoint_url=endpoint)
    local = tmp_path / "d.parquet"
    pq.write_table(generate_entries(1500, seed=0), local)
    fs.put(str(local), f"{bucket}/drops/d.parquet")
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(log_drops.name, ["d.parquet"])
    resources = {**deployment["resources"], "object_store": store, "lake": lake}
    assert dg.materialize([log_entries], partition_key="d.parquet", instance=instance, resources=resources).success
    res = dg.materialize([invariants, invariant_staleness, invariant_suite, strata_report], instance=instance,
                         resources=resources)
    assert res.success
    mined = load_baseline(baseline_url(lake.artifacts_url), lake.storage_options())
    assert len(mined) > 20 and any(i.severity == "critical" for i in mined)
    with fs.open(suite_url(lake.artifacts_url).removeprefix("s3://"), "r") as f:
        code = f.read()
    compile(code, "test_invariants.py", "exec")
    assert code.count("\ndef test_") == len(mined)
    with fs.open(f"{bucket}/artifacts/reports/report.html", "r") as f:  # the report, written to S3 too
        html = f.read()
    assert html.startswith("<!doctype html>") and "Invariants by family" in html and "<svg" in html
