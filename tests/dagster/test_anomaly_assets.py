"""baselines and anomalies assets: detector state carries from one drop to the next; a planted spike is reported."""
import dagster as dg
import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from assets.anomalies import anomalies, baselines
from assets.ingest import log_entries
from pipeline.core.invariants.synthetic import generate_entries
from pipeline.core.storage.lake import read_entries
from pipeline.partitions import log_drops


def md(result, asset):
    (m,) = [e for e in result.get_asset_materialization_events() if e.asset_key == dg.AssetKey(asset)]
    return {k: v.value for k, v in m.materialization.metadata.items()}


def test_state_carries_forward_and_a_spike_is_found(deployment):
    res = deployment["resources"]
    day1 = generate_entries(3000, seed=0, start="2025-01-06", days=1.0)
    day2 = generate_entries(3000, seed=1, start="2025-01-07", days=1.0)
    order = np.argsort(day2.column("ts").to_numpy())
    spike_row = int(order[2000])  # well past any warm-up, in time order
    lat = day2.column("latency_ms").to_pylist()
    lat[spike_row] = lat[spike_row] * 60
    day2 = day2.set_column(day2.schema.get_field_index("latency_ms"), "latency_ms", pa.array(lat, pa.float64()))
    spike_request = day2.column("request_id")[spike_row].as_py()
    pq.write_table(day1, deployment["drops"] / "day1.parquet")
    pq.write_table(day2, deployment["drops"] / "day2.parquet")
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(log_drops.name, ["day1.parquet", "day2.parquet"])
    for key in ("day1.parquet", "day2.parquet"):
        assert dg.materialize([log_entries], partition_key=key, instance=instance, resources=res).success
    first = dg.materialize([anomalies], partition_key="day1.parquet", instance=instance, resources=res)
    assert md(first, "anomalies")["state_from"] == "fresh (warm-up)"
    second = dg.materialize([anomalies], partition_key="day2.parquet", instance=instance, resources=res)
    m = md(second, "anomalies")
    assert m["state_from"] == "day1.parquet" and m["critical"] >= 1
    con = duckdb.connect(str(deployment["root"] / "warehouse.duckdb"), read_only=True)
    got = con.sql("SELECT metric, severity, score, entry_id FROM anomalies WHERE drop = 'day2.parquet' "
                  "AND metric = 'latency_ms' ORDER BY score DESC LIMIT 1").fetchall()
    con.close()
    lake = read_entries(str(deployment["root"] / "lake"), "day2.parquet")
    request_of = dict(zip(lake.column("entry_id").to_pylist(), lake.column("request_id").to_pylist()))
    assert got and got[0][1] == "critical" and got[0][2] >= 6
    assert request_of[got[0][3]] == spike_request


def test_baselines_per_segment(deployment):
    res = deployment["resources"]
    pq.write_table(generate_entries(4000, seed=0), deployment["drops"] / "d.parquet")
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(log_drops.name, ["d.parquet"])
    assert dg.materialize([log_entries], partition_key="d.parquet", instance=instance, resources=res).success
    out = dg.materialize([baselines], instance=instance, resources=res)
    m = md(out, "baselines")
    assert m["segments"] >= 2 and m["p95_latency_ms"] > 0
    con = duckdb.connect(str(deployment["root"] / "warehouse.duckdb"), read_only=True)
    (n, med, mad) = con.sql("SELECT count, median, mad FROM latest_baselines WHERE segment = 'all' AND metric = 'latency_ms'").fetchall()[0]
    con.close()
    assert n == 4000 and med > 0 and mad > 0


def test_first_drop_is_primed_from_stored_baselines(deployment):
    res = deployment["resources"]
    history = generate_entries(4000, seed=4, start="2025-01-06", days=2.0)
    today = generate_entries(500, seed=5, start="2025-01-08", days=0.2)
    pq.write_table(history, deployment["drops"] / "history.parquet")
    pq.write_table(today, deployment["drops"] / "today.parquet")
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(log_drops.name, ["history.parquet", "today.parquet"])
    assert dg.materialize([log_entries], partition_key="history.parquet", instance=instance, resources=res).success
    assert dg.materialize([baselines], instance=instance, resources=res).success
    assert dg.materialize([log_entries], partition_key="today.parquet", instance=instance, resources=res).success
    # no anomalies state was saved for history.parquet, so today's detectors start from the baselines
    out = dg.materialize([anomalies], partition_key="today.parquet", instance=instance, resources=res)
    assert md(out, "anomalies")["state_from"].startswith("baselines computed")


def test_an_unreadable_state_is_skipped_for_the_one_before(deployment):
    """A truncated state file (a crash mid-write before writes were atomic) never fails the drop: the detectors
    resume from the nearest earlier drop whose state reads, and the state written is whole JSON again."""
    from assets.anomalies import state_url
    from pipeline.core.detectors import loads_state

    res = deployment["resources"]
    keys = [f"d{i}.parquet" for i in range(3)]
    for i, key in enumerate(keys):
        pq.write_table(generate_entries(800, seed=i, start=f"2025-01-0{6 + i}", days=1.0), deployment["drops"] / key)
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(log_drops.name, keys)
    for key in keys:
        assert dg.materialize([log_entries], partition_key=key, instance=instance, resources=res).success
    for key in keys[:2]:
        assert dg.materialize([anomalies], partition_key=key, instance=instance, resources=res).success
    middle = state_url(str(deployment["root"] / "artifacts"), keys[1])
    with open(middle, "r+") as f:
        whole = f.read()
        f.seek(0)
        f.truncate()
        f.write(whole[: len(whole) // 2])
    third = dg.materialize([anomalies], partition_key=keys[2], instance=instance, resources=res)
    assert third.success and md(third, "anomalies")["state_from"] == keys[0]
    with open(state_url(str(deployment["root"] / "artifacts"), keys[2])) as f:
        assert loads_state(f.read())
