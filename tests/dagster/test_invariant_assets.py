"""invariants / invariant_staleness assets and the per-family checks on log_entries, on synthetic drops."""
import dagster as dg
import duckdb
import pyarrow.parquet as pq

from assets.ingest import log_entries
from assets.invariant_checks import family_checks
from assets.invariants import invariant_staleness, invariants
from pipeline.core.invariants.synthetic import Drift, generate_entries
from pipeline.partitions import log_drops

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


def test_checks_before_any_baseline_say_nothing_was_checked(deployment):
    instance = dg.DagsterInstance.ephemeral()
    write(deployment, "d.parquet", generate_entries(500, seed=4))
    instance.add_dynamic_partitions(log_drops.name, ["d.parquet"])
    run = dg.materialize([log_entries, *family_checks], partition_key="d.parquet", instance=instance,
                         resources=deployment["resources"])
    evals = check_evals(run)
    families = {k: e for k, e in evals.items() if k not in ("log_entries_parse_rate", "log_entries_not_empty")}
    assert len(families) == 7  # every family reports: never a green pass with nothing checked
    for e in families.values():
        assert e.passed is False and e.severity == dg.AssetCheckSeverity.WARN
        assert e.description.startswith("Not checked: no invariant baseline") and e.metadata["checked"].value == 0


def test_learn_on_a_morning_cron_then_downstream_eagerly_with_freshness():
    from assets.automation import DEADLINE_CRON, LEARN_CRON
    from pipeline.definitions import defs

    graph = defs.resolve_asset_graph()
    cond = {k.to_user_string(): graph.get(k).automation_condition for k in graph.get_all_asset_keys()}
    assert LEARN_CRON in cond["invariants"].get_label() and LEARN_CRON in cond["baselines"].get_label()
    assert cond["invariant_staleness"].get_label() == "eager" and cond["strata_report"].get_label() == "eager"
    assert cond["log_entries"] is None and cond["anomalies"] is None  # per drop: the sensor launches them
    for key in ("invariants", "strata_report"):
        policy = graph.get(dg.AssetKey(key)).freshness_policy
        assert policy.deadline_cron == DEADLINE_CRON
    sensors = {s.name: s for s in defs.sensors}
    assert sensors["strata_daily_automation"].default_status == dg.DefaultSensorStatus.RUNNING
    assert all(s.description for s in defs.sensors)
