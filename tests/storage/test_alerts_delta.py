"""Alert state, log and claims with the Delta warehouse (local folder and moto S3), and the alert sensor ticking on
a Delta warehouse against a loopback webhook: delivered once, deduplicated next tick, every row in Delta."""
import json
from datetime import timedelta

import dagster as dg
import duckdb
import pytest
from werkzeug import Response

from pipeline.core.alerts import Finding, Notification, Outcome, RetryPolicy, deliver
from pipeline.core.alerts.alert_log import CLAIMS_ENV, claims_path, delivered_targets, load_states, record, save_states
from pipeline.core.alerts.dedup import Deduper
from pipeline.core.alerts.dispatch import Sent
from pipeline.core.storage.store_delta import DeltaStore
from resources.alerts import AlertSettings, PrometheusResource, SlackAlertResource, WebhookAlertResource
from resources.storage import LakeResource
from resources.warehouse import WarehouseResource
from sensors.alerts import WarehouseClaims, alert_sensor, parse_cursor
from tests.core.alerts import NOW, add_anomaly, add_drop, create_tables

SECRET = "delta-secret-7"


def note(key, severity="critical"):
    f = Finding(key=key, kind="drift_block", severity=severity, title=f"drift ü {key}")
    return Notification(key=key, action="new", finding=f, since=NOW)


def state_log_roundtrip(store):
    a, b = note("a"), note("b")
    outcomes = iter([Outcome(False, 503, "HTTP 503", True), Outcome(True, 200)])
    ok = deliver("webhook:critical", lambda: next(outcomes), RetryPolicy(sleep=lambda s: None))
    assert record(store, [Sent("webhook:critical", (a, b), ok)], [note("w", "warning")], NOW) == 5
    assert record(store, [], [note("x", "warning")], NOW) == 1  # appends, never replaces
    con = store.reader()
    try:
        rows = con.sql("SELECT key, attempt, status, http_status FROM alert_log ORDER BY key, attempt").fetchall()
        assert rows == [("a", 1, "retrying", 503), ("a", 2, "delivered", 200), ("b", 1, "retrying", 503),
                        ("b", 2, "delivered", 200), ("w", 0, "skipped", None), ("x", 0, "skipped", None)]
        assert delivered_targets(con, [a.id, "nope"]) == {a.id: {"webhook:critical"}}
    finally:
        con.close()
    deduper = Deduper({}, timedelta(hours=1), timedelta(hours=24), lambda: NOW)
    deduper.evaluate([a.finding, b.finding], {"drift"})
    assert save_states(store, deduper.states, NOW) == 2
    assert save_states(store, {k: v for k, v in deduper.states.items() if k == "a"}, NOW) == 1  # replaced whole
    con = store.reader()
    try:
        states = load_states(con)
    finally:
        con.close()
    assert list(states) == ["a"] and states["a"].finding.title == "drift ü a" and states["a"].active


def test_state_and_log_on_local_delta(tmp_path):
    state_log_roundtrip(DeltaStore(str(tmp_path / "wh")))


def test_state_and_log_on_s3_delta(s3):
    fs, bucket, options = s3
    store = DeltaStore(f"s3://{bucket}/wh", options)
    state_log_roundtrip(store)
    assert {"alert_log", "alert_state"} <= set(store.tables())


def test_claims_file_is_atomic_across_ticks(tmp_path):
    path = str(tmp_path / "claims" / "c.duckdb")
    wh = WarehouseResource(database=str(tmp_path / "unused.duckdb"), url=str(tmp_path / "wh"))
    one, two = WarehouseClaims(wh, lambda: NOW, path), WarehouseClaims(wh, lambda: NOW, path)
    assert one.take("webhook:critical", ["k|new", "j|new"]) == ({"k|new", "j|new"}, set())
    assert two.take("webhook:critical", ["k|new"]) == (set(), set())  # held by the other tick
    one.settle("webhook:critical", ["k|new"], delivered=True)
    assert two.take("webhook:critical", ["k|new"]) == (set(), {"k|new"})  # delivered within the guard
    assert claims_path({CLAIMS_ENV: "/x/c.duckdb"}) == "/x/c.duckdb"
    assert claims_path({"DAGSTER_HOME": "/dh"}) == "/dh/strata_alert_claims.duckdb"


@pytest.fixture
def delta_warehouse(tmp_path):
    """A Delta warehouse holding two drops and a critical and a warning anomaly in the newest (copied from the
    alert tests' DuckDB tables, so the types are the pipeline's)."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    create_tables(con)
    add_drop(con, "d1", NOW - timedelta(hours=2))
    add_drop(con, "d2", NOW - timedelta(minutes=10))
    add_anomaly(con, "d2", "latency_ms", 9.5)
    add_anomaly(con, "d2", "cost_usd", 3.0, severity="warning")
    store = DeltaStore(str(tmp_path / "delta"))
    for table in ("drops", "anomalies"):
        store.overwrite(table, con.sql(f"SELECT * FROM {table}").to_arrow_table())
    con.close()
    return store


def test_alert_sensor_on_delta(tmp_path, httpserver, delta_warehouse, monkeypatch):
    monkeypatch.setenv(CLAIMS_ENV, str(tmp_path / "claims.duckdb"))
    got = []

    def handler(request):
        got.append(json.loads(request.get_data()))
        return Response("", status=204)

    httpserver.expect_request("/alerts").respond_with_handler(handler)
    res = {"warehouse": WarehouseResource(database=str(tmp_path / "unused.duckdb"), url=delta_warehouse.url),
           "lake": LakeResource(lake_url=str(tmp_path / "lake"), artifacts_url=str(tmp_path / "artifacts")),
           "slack_alerts": SlackAlertResource(),
           "alert_webhook": WebhookAlertResource(critical_url=httpserver.url_for("/alerts"), secret=SECRET,
                                                 timeout_seconds=2),
           "alert_settings": AlertSettings(settle_seconds=0, max_attempts=1),
           "prometheus": PrometheusResource(textfile_path=str(tmp_path / "strata.prom"))}
    instance = dg.DagsterInstance.ephemeral()
    first = alert_sensor.evaluate_tick(dg.build_sensor_context(instance=instance, resources=res))
    assert "1 deliveries ok, 0 failed" in first.skip_message, first.skip_message
    assert parse_cursor(first.cursor) == NOW - timedelta(minutes=10)
    assert [n["key"] for b in got for n in b["notifications"]] == ["anomaly:latency_ms:support-bot|gpt-4o|v2"]
    second = alert_sensor.evaluate_tick(dg.build_sensor_context(instance=instance, cursor=first.cursor, resources=res))
    third = alert_sensor.evaluate_tick(dg.build_sensor_context(instance=instance, resources=res))  # cursor lost
    assert len(got) == 1 and "0 notification(s) due" in second.skip_message + third.skip_message
    assert not (tmp_path / "unused.duckdb").exists()  # nothing went to a DuckDB warehouse file
    con = delta_warehouse.reader()
    try:
        assert con.sql("SELECT key, target, status FROM alert_log").fetchall() == [
            ("anomaly:latency_ms:support-bot|gpt-4o|v2", "webhook:critical", "delivered")]
        assert con.sql("SELECT count(*) FROM alert_state WHERE active").fetchall() == [(1,)]  # the critical one
    finally:
        con.close()
    claims = duckdb.connect(str(tmp_path / "claims.duckdb"), read_only=True)
    assert claims.sql("SELECT target, status FROM alert_claims").fetchall() == [("webhook:critical", "delivered")]
    claims.close()
    assert "strata_anomalies" in (tmp_path / "strata.prom").read_text()
