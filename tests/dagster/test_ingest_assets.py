"""log_entries / log_schema materialize per drop with numeric metadata; checks grade the parse rate; re-runs replace."""
import dagster as dg
import duckdb

from assets import ingest_checks
from assets.ingest import log_entries, log_schema
from pipeline.core.storage.lake import read_entries
from pipeline.partitions import log_drops

from .conftest import write_drop

CHECKS = [ingest_checks.log_entries_parse_rate, ingest_checks.log_entries_not_empty]


def run(deployment, key):
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(log_drops.name, [key])
    return dg.materialize([log_entries, log_schema, *CHECKS], partition_key=key, instance=instance,
                          resources=deployment["resources"])


def mat_metadata(result, asset):
    (m,) = [e for e in result.get_asset_materialization_events() if e.asset_key == dg.AssetKey(asset)]
    return {k: v.value for k, v in m.materialization.metadata.items()}


def check_results(result):
    return {e.asset_check_evaluation_data.check_name: e.asset_check_evaluation_data
            for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"}


def test_drop_materializes_with_metadata_and_checks(deployment):
    write_drop(deployment["drops"], "d1.jsonl", bad_lines=2)
    res = run(deployment, "d1.jsonl")
    assert res.success
    md = mat_metadata(res, "log_entries")
    assert (md["rows_read"], md["rows_kept"], md["rows_rejected"]) == (42, 40, 2)
    assert abs(md["parse_rate"] - 40 / 42) < 1e-9 and md["format"] == "jsonl x1"
    preview = [r.data for r in md["preview"].records]
    assert preview[0]["input"] == "question 0" and preview[0]["latency_ms"] == 100
    assert md["dagster/row_count"] == 40 and md["dagster/table_name"] == "lake_entries"
    assert md["dagster/uri"].startswith("file:///")
    columns = {c.name: c for c in md["dagster/column_schema"].columns}
    assert columns["latency_ms"].type == "double" and "milliseconds" in columns["latency_ms"].description
    assert all(c.description for c in columns.values())
    checks = check_results(res)
    rate = checks["log_entries_parse_rate"]
    assert rate.passed is False and rate.severity == dg.AssetCheckSeverity.WARN  # 95.2%: between 90% and 99%
    assert rate.description.startswith("Parse rate 95.24%: 40 of 42 records normalized, 2 quarantined")
    assert checks["log_entries_not_empty"].passed is True
    schema_md = mat_metadata(res, "log_schema")
    roles = {r.data["role"]: r.data for r in schema_md["roles"].records}
    assert schema_md["roles_assigned"] >= 6 and roles["latency_ms"]["path"] == "$.latency_ms"
    con = duckdb.connect(str(deployment["root"] / "warehouse.duckdb"), read_only=True)
    assert con.sql("SELECT rows_kept FROM drops WHERE drop = 'd1.jsonl'").fetchall() == [(40,)]
    assert con.sql("SELECT count(*) FROM lake_entries").fetchall() == [(40,)]
    assert con.sql("SELECT count(*) FROM lake_quarantine").fetchall() == [(2,)]
    con.close()


def test_parse_rate_below_90_percent_is_an_error(deployment):
    write_drop(deployment["drops"], "bad.jsonl", rows=[{"prompt": "x"}] * 5, bad_lines=5)
    rate = check_results(run(deployment, "bad.jsonl"))["log_entries_parse_rate"]
    assert rate.passed is False and rate.severity == dg.AssetCheckSeverity.ERROR


def test_rematerializing_a_drop_replaces_it_without_duplicates(deployment):
    write_drop(deployment["drops"], "d.jsonl")
    run(deployment, "d.jsonl")
    ids1 = sorted(read_entries(str(deployment["root"] / "lake"), "d.jsonl").column("entry_id").to_pylist())
    run(deployment, "d.jsonl")
    ids2 = sorted(read_entries(str(deployment["root"] / "lake"), "d.jsonl").column("entry_id").to_pylist())
    assert ids1 == ids2 and len(ids1) == 40 == len(set(ids1))


def test_unreadable_drop_fails_the_step_naming_the_object(deployment):
    (deployment["drops"] / "broken.jsonl.gz").write_bytes(b"\x1f\x8b\x08\x00" + b"\x00" * 20)
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(log_drops.name, ["broken.jsonl.gz"])
    res = dg.materialize([log_entries], partition_key="broken.jsonl.gz", instance=instance,
                         resources=deployment["resources"], raise_on_error=False)
    assert not res.success
    (failure,) = [e for e in res.all_events if e.event_type_value == "STEP_FAILURE"]
    msg = str(failure.step_failure_data.error)
    assert "broken.jsonl.gz" in msg and "truncated or corrupt" in msg


def test_a_corrupt_compressed_object_is_quarantined_and_the_rest_of_the_drop_kept(deployment):
    """One truncated .gz in a drop of several objects: the others' entries are kept, the broken object is quarantined
    as stored (byte-exact) with the cause, and the step succeeds (a drop of that one object alone fails, above)."""
    import gzip
    import json

    import pyarrow.parquet as pq

    folder = deployment["drops"] / "d3"
    write_drop(folder, "a.jsonl")
    blob = gzip.compress(("\n".join(json.dumps({"prompt": f"q{i}", "response": "ok", "model": "m"})
                                    for i in range(500)) + "\n").encode())
    (folder / "b.jsonl.gz").write_bytes(blob[: len(blob) // 2])
    res = run(deployment, "d3")
    assert res.success
    md = mat_metadata(res, "log_entries")
    assert (md["rows_kept"], md["rows_rejected"]) == (40, 1)
    lake = deployment["root"] / "lake"
    assert read_entries(str(lake), "d3").num_rows == 40
    (rejects,) = list((lake / "quarantine").glob("drop=d3/**/rejects.parquet"))
    (row,) = pq.read_table(rejects).to_pylist()
    assert row["source"].endswith("b.jsonl.gz") and "truncated or corrupt" in row["reason"]
    assert row["raw"] == (folder / "b.jsonl.gz").read_bytes()
