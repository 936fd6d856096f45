"""invariants / invariant_staleness assets and the per-family checks on log_entries, on synthetic drops."""
import dagster as dg
import duckdb
import pyarrow.parquet as pq

from assets.ingest import log_entries
from assets.invariant_checks import family_checks
from assets.invariants import invariant_staleness, invariants
from pipeline.core.invariants.synthetic import Drift, generate_entries
from pipeline.partitions import log_drops
from pipeline.schedules import daily_staleness_schedule

CLEAN = Drift(pii_rate=0.0, latency_factor=1.0, removed_tool=None, added_json_key=None, model_switch=None, escalation_factor=1.0)


def write(deployment, name, table):
    pq.write_table(table, deployment["drops"] / name)


def check_evals(result):
    return {e.asset_check_evaluation_data.check_name: e.asset_check_evaluation_data
            for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"}


def md(result, asset):
    (m,) = [e for e in result.get_asset_materialization_events() if e.asset_key == dg.AssetKey(asset)]
    return {k: v.value for k, v in m.materialization.metadata.items()}


def test_mine_check_and_catch_a_pii_leak(deployment):
    res = deployment["resources"]
    instance = dg.DagsterInstance.ephemeral()
    write(deployment, "day1.parquet", generate_entries(3000, seed=0))
    write(deployment, "day2.parquet", generate_entries(3000, seed=1, start="2025-01-13"))
    instance.add_dynamic_partitions(log_drops.name, ["day1.parquet", "day2.parquet"])
    for key in ("day1.parquet", "day2.parquet"):
        assert dg.materialize([log_entries], partition_key=key, instance=instance, resources=res).success

    learned = dg.materialize([invariants, invariant_staleness], instance=instance, resources=res)
    assert learned.success
    m = md(learned, "invariants")
    assert m["invariants"] > 20 and m["family_pii"] >= 6 and m["severity_critical"] >= 6
    assert m["window"]["rows"] <= 6000 and m["rows"] > 0
    s = md(learned, "invariant_staleness")
    assert s["violated"] == 0 and s["holds"] > 0
    con = duckdb.connect(str(deployment["root"] / "warehouse.duckdb"), read_only=True)
    assert con.sql("SELECT count(*) FROM invariants").fetchall() == [(m["invariants"],)]
    assert con.sql("SELECT count(*) FROM staleness WHERE status = 'violated'").fetchall() == [(0,)]
    con.close()

    leak = Drift(pii_rate=0.05, latency_factor=1.0, removed_tool=None, added_json_key=None, model_switch=None, escalation_factor=1.0)
    write(deployment, "day3.parquet", generate_entries(2000, seed=2, drift=leak, start="2025-01-20"))
    instance.add_dynamic_partitions(log_drops.name, ["day3.parquet"])
    run = dg.materialize([log_entries, *family_checks], partition_key="day3.parquet", instance=instance,
                         resources=res, raise_on_error=False)
    evals = check_evals(run)
    pii = evals["log_entries_pii_free"]
    assert pii.passed is False and pii.severity == dg.AssetCheckSeverity.ERROR
    assert pii.metadata["violated"].value >= 1
    assert evals["log_entries_structure_holds"].passed is True


def test_checks_pass_with_a_note_before_any_baseline(deployment):
    instance = dg.DagsterInstance.ephemeral()
    write(deployment, "d.parquet", generate_entries(500, seed=4))
    instance.add_dynamic_partitions(log_drops.name, ["d.parquet"])
    run = dg.materialize([log_entries, *family_checks], partition_key="d.parquet", instance=instance,
                         resources=deployment["resources"])
    evals = check_evals(run)
    assert all(e.passed for e in evals.values()) and evals["log_entries_pii_free"].metadata["note"].value == "no baseline mined yet"


def test_daily_staleness_schedule_requests_the_staleness_job():
    ctx = dg.build_schedule_context(scheduled_execution_time=None)
    (req,) = daily_staleness_schedule.evaluate_tick(ctx).run_requests
    assert daily_staleness_schedule.job_name == "staleness_job" and req is not None
    assert daily_staleness_schedule.cron_schedule == "30 5 * * *"
