"""Prometheus gauges from the warehouse: textfile parsed back, and a push to a loopback Pushgateway."""
import math
from datetime import timedelta

import duckdb
from prometheus_client.parser import text_string_to_metric_families

from pipeline.core.alerts.prometheus import StrataMetrics
from pipeline.core.storage.drift_store import store_drift

from . import NOW, add_anomaly, add_drop, create_tables, drift_report, make_warehouse


def samples(text):
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for fam in text_string_to_metric_families(text) for s in fam.samples}


def test_textfile_round_trips_the_values(tmp_path):
    con = duckdb.connect(make_warehouse(tmp_path / "w.duckdb"))
    path = tmp_path / "strata.prom"
    StrataMetrics.from_warehouse(con).write_textfile(str(path))
    got = samples(path.read_text())
    assert got == {
        ("strata_invariants", (("status", "holds"),)): 1.0,
        ("strata_invariants", (("status", "degraded"),)): 1.0,
        ("strata_invariants", (("status", "violated"),)): 2.0,  # the newest check only
        ("strata_anomalies", (("severity", "warning"),)): 1.0,  # the newest drop (d3) only
        ("strata_anomalies", (("severity", "critical"),)): 4.0,
        ("strata_drift_score", (("kind", "drop"), ("subject", "d3"))): 0.4,
        ("strata_drift_score", (("kind", "version"), ("subject", "v2 -> v3"))): 0.45,
        ("strata_rows_ingested_total", ()): 600.0,
    }
    con.close()


def test_empty_warehouse_exports_zeros_and_odd_values_survive(tmp_path):
    con = duckdb.connect(str(tmp_path / "e.duckdb"))
    got = samples(_text(StrataMetrics.from_warehouse(con)))
    assert got[("strata_invariants", (("status", "violated"),))] == 0.0
    assert got[("strata_rows_ingested_total", ())] == 0.0
    assert not any(name == "strata_drift_score" for name, _ in got)
    create_tables(con)
    add_drop(con, 'drop "quoted" ü\n', NOW, rows_kept=2**53)
    add_anomaly(con, 'drop "quoted" ü\n', "m", 1.0, severity="critical")
    store_drift(con, "drop", 'drop "quoted" ü\n', drift_report(float("nan"), "REVIEW"), NOW - timedelta(hours=1))
    got = samples(_text(StrataMetrics.from_warehouse(con)))
    assert got[("strata_rows_ingested_total", ())] == 2.0**53
    assert got[("strata_anomalies", (("severity", "critical"),))] == 1.0
    assert math.isnan(got[("strata_drift_score", (("kind", "drop"), ("subject", 'drop "quoted" ü\n')))])
    con.close()


def _text(metrics):
    from prometheus_client import generate_latest

    return generate_latest(metrics.registry).decode()


def test_push_puts_to_the_job_path(tmp_path, httpserver):
    con = duckdb.connect(make_warehouse(tmp_path / "w.duckdb"))
    httpserver.expect_oneshot_request("/metrics/job/strata-test", method="PUT").respond_with_data("", status=200)
    StrataMetrics.from_warehouse(con).push(httpserver.url_for("/"), job="strata-test")
    (req, _), = httpserver.log
    got = samples(req.get_data().decode())
    assert got[("strata_invariants", (("status", "violated"),))] == 2.0
    assert got[("strata_rows_ingested_total", ())] == 600.0
    httpserver.check_assertions()
    con.close()
