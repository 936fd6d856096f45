"""Findings as check statuses (drift verdict, critical anomalies, violated invariants), alerting observed on the
`alerts` asset, failed runs in alert_log without a target, the declared lineage, run tags, and a light code location."""
import subprocess
import sys
from collections import Counter
from pathlib import Path

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource
from hypothesis import given
from hypothesis import strategies as st

from assets.anomalies import critical_check
from assets.drift import verdict_check
from assets.invariants import staleness_check
from pipeline.core.storage.drops import KEY_SEP
from pipeline.partitions import ALL_SERVICES, SERVICE_TAG, drop_service
from sensors.alerts import run_failure_alert_sensor
from resources.alerts import AlertSettings, SlackAlertResource, WebhookAlertResource

from .test_alert_sensor import failing_job, resources, tick, warehouse_file  # noqa: F401 (fixture)

REPO = Path(__file__).resolve().parents[2]
SEV = dg.AssetCheckSeverity


def _drift(verdict):
    return {"score": 0.31, "ci_lo": 0.25, "ci_hi": 0.37, "verdict": verdict, "n_current": 2500, "n_baseline": 5000,
            "significant_dimensions": 3}


def test_drift_verdict_is_green_yellow_red():
    ok, review, block = (verdict_check(_drift(v), "drop d") for v in ("PASS", "REVIEW", "BLOCK"))
    assert ok.passed is True
    assert review.passed is False and review.severity == SEV.WARN
    assert block.passed is False and block.severity == SEV.ERROR
    assert block.description == ("drop d: drift score 0.310 (95% CI 0.250-0.370) over 2,500 entries vs 5,000, "
                                 "3 significant dimension(s): verdict BLOCK.")
    unchecked = verdict_check({"verdict": "NOT COMPARED", "skipped": "no earlier data to compare with yet"}, "d")
    assert unchecked.passed is False and unchecked.severity == SEV.WARN and unchecked.description.startswith("Not compared")


def test_critical_anomalies_fail_as_an_error():
    top = [{"metric": "latency_ms", "segment": "bot", "score": 9.2}]
    bad = critical_check(Counter({"critical": 2, "warning": 5}), 1000, top)
    assert bad.passed is False and bad.severity == SEV.ERROR
    assert bad.description == ("1,000 entries scored against their past: 2 critical and 5 warning anomalies; worst: "
                               "latency_ms in bot (+9.2 sigma).")
    assert critical_check(Counter({"warning": 1}), 10, []).passed is True


def test_staleness_check_turns_red_on_violated_and_yellow_on_degraded():
    red = staleness_check(Counter({"holds": 20, "violated": 1}), 21, 900)
    yellow = staleness_check(Counter({"holds": 20, "degraded": 1}), 21, 900)
    green = staleness_check(Counter({"holds": 21}), 21, 900)
    nothing = staleness_check(Counter(), 0, 900)
    assert (red.passed, red.severity) == (False, SEV.ERROR)
    assert (yellow.passed, yellow.severity) == (False, SEV.WARN)
    assert green.passed is True and "21 baseline invariant(s) checked" in green.description
    assert nothing.passed is False and nothing.description.startswith("Not checked")


def test_alert_tick_is_observed_on_the_alerts_asset(tmp_path, instance, warehouse_file):  # noqa: F811
    db, _ = warehouse_file
    result = tick(instance, resources(tmp_path, db, ""))
    (obs,) = result.asset_events
    md = {k: v.value for k, v in obs.metadata.items()}
    assert obs.asset_key == dg.AssetKey("alerts")
    assert (md["due"], md["skipped"], md["delivered"], md["failed"], md["pending"]) == (1, 1, 0, 0, 0)
    assert md["findings"] >= 1 and "1 notification(s) due" in md["summary"]


def test_a_failed_run_is_recorded_without_any_target(tmp_path, instance):
    result = failing_job.execute_in_process(instance=instance, raise_on_error=False)
    res = {"slack_alerts": SlackAlertResource(), "alert_webhook": WebhookAlertResource(),
           "alert_settings": AlertSettings(dagster_url="http://dagster.local:3000"),
           "warehouse": DuckDBResource(database=str(tmp_path / "w.duckdb"))}
    ctx = dg.build_run_status_sensor_context(
        sensor_name="run_failure_alert_sensor", dagster_instance=instance, dagster_run=result.dagster_run,
        dagster_event=result.get_run_failure_event(), resources=res).for_run_failure()
    run_failure_alert_sensor(ctx)
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    assert con.sql("SELECT kind, target, status, title FROM alert_log").fetchall() == [
        ("run_failed", "none", "skipped", "Run failed: failing_job")]
    con.close()


@given(st.lists(st.text(st.characters(blacklist_characters="_", blacklist_categories=("Cs",)), min_size=1),
                min_size=1, max_size=4))
def test_drop_service_is_the_top_folder_when_grouped(parts):
    key = KEY_SEP.join(parts)
    expected = parts[0] if len(parts) > 1 else ALL_SERVICES
    assert drop_service(key) == expected


def test_new_drops_are_tagged_by_service_and_observed(deployment, instance):
    from sensors.new_drop import new_log_drop_sensor

    from .conftest import write_drop

    from assets.anomalies import anomalies
    from assets.drift import drop_drift
    from assets.ingest import log_entries, log_schema, raw_log_drops
    from pipeline.jobs import ingest_job

    write_drop(deployment["drops"], "a.jsonl")
    defs = dg.Definitions(assets=[raw_log_drops, log_entries, log_schema, anomalies, drop_drift], jobs=[ingest_job], sensors=[new_log_drop_sensor],
                          resources=deployment["resources"])
    ctx = dg.build_sensor_context(instance=instance, instance_ref=instance.get_ref(), definitions=defs,
                                  resources={"object_store": deployment["resources"]["object_store"]})
    result = new_log_drop_sensor.evaluate_tick(ctx)
    (req,) = result.run_requests
    assert req.tags[SERVICE_TAG] == ALL_SERVICES and req.tags["strata/drop"] == "a.jsonl"
    (obs,) = result.asset_events
    assert obs.asset_key == dg.AssetKey("raw_log_drops") and obs.partition == "a.jsonl"
    assert obs.metadata["objects"].value == 1 and obs.metadata["bytes"].value > 1000


def test_lineage_is_declared():
    from pipeline.definitions import defs

    graph = defs.resolve_asset_graph()

    def parents(key):
        return {k.to_user_string() for k in graph.get(dg.AssetKey(key)).parent_keys}

    assert parents("log_entries") == {"raw_log_drops"}
    assert "log_schema" in parents("strata_report") and "baselines" in parents("anomalies")
    assert not graph.get(dg.AssetKey("raw_log_drops")).is_materializable
    assert graph.get(dg.AssetKey("raw_log_drops")).partitions_def.name == "log_drops"
    family = [c for c in defs.asset_checks if c.node_def.name == "log_entries_invariant_families"][0]
    assert dg.AssetKey("invariants") in {d.asset_key for s in family.check_specs for d in s.additional_deps}
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        if node.is_materializable:
            assert node.owners == ["team:strata"] and node.code_version and node.description, key
    for job in ("ingest_job", "learn_job", "staleness_job", "publish_job", "checks_job"):
        assert defs.resolve_job_def(job).executor_def.name == "in_process"


def test_loading_the_code_location_imports_no_scipy_or_numba():
    out = subprocess.run([sys.executable, "-W", "error::dagster.PreviewWarning", "-c",
                          "import sys; import pipeline.definitions; print(sorted(m for m in ('scipy', 'numba', "
                          "'pipeline.core.detectors', 'pipeline.core.drift.engine') if m in sys.modules))"],
                         cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"
    assert "PreviewWarning" not in out.stderr


def test_detector_state_resumes_from_the_same_services_previous_drop(tmp_path, instance):
    from types import SimpleNamespace

    from assets.anomalies import previous_state, state_url
    from pipeline.core.detectors import dumps_state
    from resources.storage import LakeResource

    lake = LakeResource(lake_url=str(tmp_path / "lake"), artifacts_url=str(tmp_path / "artifacts"))
    keys = [f"support{KEY_SEP}d1", f"billing{KEY_SEP}d1", f"support{KEY_SEP}d2"]
    instance.add_dynamic_partitions("log_drops", keys)
    for key in keys[:2]:
        path = Path(state_url(lake.artifacts_url, key))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dumps_state({}))
    ctx = SimpleNamespace(instance=instance)
    assert previous_state(ctx, lake, keys[2])[1] == keys[0]  # billing's d1 is nearer, but another service
    assert previous_state(ctx, lake, keys[1]) == (None, None)  # no earlier billing drop: fresh or primed
