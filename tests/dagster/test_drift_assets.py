"""drop_drift (each drop against the window before it) and version_drift (newest version against the previous one)."""
import json

import dagster as dg
import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from assets.drift import drop_drift, same_services, version_drift
from assets.report import strata_report
from assets.ingest import log_entries
from pipeline.core.invariants.synthetic import Drift, generate_entries
from pipeline.partitions import log_drops

CLEAN = Drift(pii_rate=0.0, latency_factor=1.0, removed_tool=None, added_json_key=None, model_switch=None,
              escalation_factor=1.0)
CHANGED = Drift(pii_rate=0.0, latency_factor=1.0, removed_tool="lookup_order", added_json_key=None,
                model_switch=None, escalation_factor=1.0)


def md(result, asset):
    (m,) = [e for e in result.get_asset_materialization_events() if e.asset_key == dg.AssetKey(asset)]
    return {k: v.value for k, v in m.materialization.metadata.items()}


def _with_version(t: pa.Table, v: str) -> pa.Table:
    return t.set_column(t.schema.get_field_index("version"), "version", pa.array([v] * t.num_rows, pa.string()))


def test_drop_and_version_drift(deployment):
    res = deployment["resources"]
    day1 = _with_version(generate_entries(5000, seed=1, drift=CLEAN, start="2025-01-06", days=2.0), "v1")
    day2 = _with_version(generate_entries(5000, seed=2, drift=CHANGED, start="2025-01-08", days=1.0), "v2")
    pq.write_table(day1, deployment["drops"] / "day1.parquet")
    pq.write_table(day2, deployment["drops"] / "day2.parquet")
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(log_drops.name, ["day1.parquet", "day2.parquet"])
    assert dg.materialize([log_entries], partition_key="day1.parquet", instance=instance, resources=res).success
    first = dg.materialize([drop_drift], partition_key="day1.parquet", instance=instance, resources=res)
    assert "no earlier data" in md(first, "drop_drift")["skipped"] and md(first, "drop_drift")["score"] == 0.0
    (unchecked,) = [e.asset_check_evaluation_data for e in first.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"]
    assert unchecked.passed is False and unchecked.severity == dg.AssetCheckSeverity.WARN
    assert unchecked.description.startswith("Not compared: no earlier data")
    skipped = dg.materialize([version_drift], instance=instance, resources=res)
    assert "need two distinct values" in md(skipped, "version_drift")["skipped"]

    assert dg.materialize([log_entries], partition_key="day2.parquet", instance=instance, resources=res).success
    second = md(dg.materialize([drop_drift], partition_key="day2.parquet", instance=instance, resources=res),
                "drop_drift")
    assert second["verdict"] in ("REVIEW", "BLOCK") and second["ci_lo"] <= second["score"] <= second["ci_hi"]
    dims = {r.data["name"]: r.data for r in second["dimensions"].records}
    assert isinstance(second["score"], float) and dims["tool_usage"]["score"] > 0 and second["n_current"] == 5000
    scores = [r.data["score"] for r in second["dimensions"].records]
    assert scores == sorted(scores, reverse=True)  # the strongest dimension first
    assert list(second)[:3] == ["score", "ci_lo", "ci_hi"]  # score and CI first
    assert "lookup_order" in second["summary"]
    versions = md(dg.materialize([version_drift], instance=instance, resources=res), "version_drift")
    assert versions["verdict"] in ("REVIEW", "BLOCK")

    con = duckdb.connect(str(deployment["root"] / "warehouse.duckdb"), read_only=True)
    rows = con.sql("SELECT kind, subject, verdict, score, hypotheses FROM drift_results ORDER BY kind").fetchall()
    dims = con.sql("SELECT count(*) FROM drift_dimensions WHERE kind = 'drop' AND significant").fetchall()[0][0]
    con.close()
    assert [(r[0], r[1]) for r in rows] == [("drop", "day2.parquet"), ("version", "v1 -> v2")]
    assert any("lookup_order" in h for h in json.loads(rows[0][4])) and dims >= 1

    report = md(dg.materialize([strata_report], instance=instance, resources=res), "strata_report")
    html = (deployment["root"] / "artifacts" / "reports" / "report.html").read_text(encoding="utf-8")
    assert report["path"] == str(deployment["root"] / "artifacts" / "reports" / "report.html")
    # only log_entries ran (no drops table yet): ingest counts are 0, the drift figures are there
    assert report["rows_kept"] == 0 and report["html_bytes"] > 10_000
    assert isinstance(report["drift_score"], float) and report["drift_score"] > 0
    assert "Version diff: v1" in html
    assert "lookup_order" in html and "<svg" in html and "http://" not in html.split("<body", 1)[1].split("xmlns")[0]
    data = json.loads((deployment["root"] / "artifacts" / "reports" / "report.json").read_text())
    assert data["drift"]["version"]["verdict"] == versions["verdict"]
    assert (deployment["root"] / "artifacts" / "reports" / "report.md").read_text().startswith("# Strata report")


def test_drop_drift_compares_a_drop_with_its_own_services_past():
    base = pa.table({"service": ["bot", "bot", None, "billing"], "x": [1, 2, 3, 4]})
    assert same_services(base, pa.table({"service": ["bot", "bot"]})).column("x").to_pylist() == [1, 2]
    assert same_services(base, pa.table({"service": [None, "billing"]})).column("x").to_pylist() == [3, 4]
    assert same_services(base, pa.table({"service": ["new"]})).num_rows == 0
