"""alert_sensor through build_sensor_context against a loopback webhook and a real warehouse file, and
run_failure_alert_sensor on a real failed run."""
import json
from datetime import datetime, timedelta, timezone

import dagster as dg
import duckdb
import pytest
from dagster_duckdb import DuckDBResource
from werkzeug import Response

from pipeline.core.alerts import verify_signature
from resources.alerts import AlertSettings, PrometheusResource, SlackAlertResource, WebhookAlertResource
from resources.storage import LakeResource
from sensors.alerts import alert_sensor, alert_sensors, parse_cursor, run_failure_alert_sensor
from tests.core.alerts import add_anomaly, add_drop, create_tables

SECRET = "sensor-secret-42"


@pytest.fixture
def warehouse_file(tmp_path):
    now = datetime.now(timezone.utc)
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    create_tables(con)
    add_drop(con, "d1", now - timedelta(hours=2))
    add_drop(con, "d2", now - timedelta(minutes=10))
    add_anomaly(con, "d2", "latency_ms", 9.5)
    add_anomaly(con, "d2", "cost_usd", 3.0, severity="warning")
    con.close()
    return tmp_path / "warehouse.duckdb", now - timedelta(minutes=10)


def resources(tmp_path, db, url, **settings):
    return {
        "warehouse": DuckDBResource(database=str(db)),
        "lake": LakeResource(lake_url=str(tmp_path / "lake"), artifacts_url=str(tmp_path / "artifacts")),
        "slack_alerts": SlackAlertResource(),
        "alert_webhook": WebhookAlertResource(critical_url=url, secret=SECRET, timeout_seconds=2),
        "alert_settings": AlertSettings(settle_seconds=0, dagster_url="http://dagster.local:3000",
                                        **{"max_attempts": 1, **settings}),
        "prometheus": PrometheusResource(textfile_path=str(tmp_path / "strata.prom")),
    }


def tick(instance, res, cursor=None):
    ctx = dg.build_sensor_context(instance=instance, cursor=cursor, resources=res)
    return alert_sensor.evaluate_tick(ctx)


def test_delivers_advances_cursor_then_dedups(tmp_path, instance, httpserver, warehouse_file):
    db, d2_at = warehouse_file
    got = []

    def handler(request):
        got.append((verify_signature(SECRET, request.headers, request.get_data()), json.loads(request.get_data())))
        return Response("", status=204)

    httpserver.expect_request("/alerts").respond_with_handler(handler)
    res = resources(tmp_path, db, httpserver.url_for("/alerts"))
    first = tick(instance, res)
    assert parse_cursor(first.cursor) == d2_at
    ((ok, body),) = got
    assert ok and body["notifications"][0]["key"] == "anomaly:latency_ms:support-bot|gpt-4o|v2"
    assert body["notifications"][0]["links"] == {
        "dagster": "http://dagster.local:3000/assets/anomalies?view=partitions&partition=d2",
        "report": f"{tmp_path / 'artifacts'}/reports/report.html"}
    assert "1 deliveries ok, 0 failed, 0 pending" in first.skip_message
    assert "strata_anomalies{severity=\"critical\"} 1.0" in (tmp_path / "strata.prom").read_text()

    second = tick(instance, res, first.cursor)
    assert len(got) == 1 and second.cursor == first.cursor  # nothing new: deduplicated
    assert "0 notification(s) due" in second.skip_message
    con = duckdb.connect(str(db))
    assert con.sql("SELECT key, target, status FROM alert_log").fetchall() == [
        ("anomaly:latency_ms:support-bot|gpt-4o|v2", "webhook:critical", "delivered")]
    con.close()


def test_failed_delivery_is_recorded_pending_and_retried_next_tick(tmp_path, instance, httpserver, warehouse_file):
    db, _ = warehouse_file
    httpserver.expect_ordered_request("/alerts").respond_with_data("down", status=503)
    httpserver.expect_ordered_request("/alerts").respond_with_data("", status=200)
    res = resources(tmp_path, db, httpserver.url_for("/alerts"))
    first = tick(instance, res)  # must not raise
    assert "0 deliveries ok, 1 failed, 1 pending" in first.skip_message
    second = tick(instance, res, first.cursor)
    assert "1 deliveries ok, 0 failed, 0 pending" in second.skip_message
    con = duckdb.connect(str(db))
    assert con.sql("SELECT status, http_status, error FROM alert_log ORDER BY attempted_at").fetchall() == [
        ("failed", 503, "HTTP 503: down"), ("delivered", 200, None)]
    con.close()


def test_a_broken_warehouse_never_raises(tmp_path, instance):
    bad = tmp_path / "odd.duckdb"
    con = duckdb.connect(str(bad))
    con.execute("CREATE TABLE drops (drop VARCHAR)")  # a table of the wrong shape: every evaluation fails
    con.close()
    result = tick(instance, resources(tmp_path, bad, ""), cursor="2026-01-01T00:00:00+00:00")
    assert result.skip_message.startswith("alerting failed, retrying next tick")
    assert result.cursor == "2026-01-01T00:00:00+00:00"


def test_no_target_configured_still_keeps_state(tmp_path, instance, warehouse_file):
    db, _ = warehouse_file
    result = tick(instance, resources(tmp_path, db, ""))
    assert "1 notification(s) due" in result.skip_message and "0 pending" in result.skip_message
    con = duckdb.connect(str(db))
    assert con.sql("SELECT status FROM alert_log").fetchall() == [("skipped",)]
    con.close()


@dg.op
def explode():
    raise ValueError("upstream broke")


@dg.job
def failing_job():
    explode()


def test_run_failure_posts_to_slack_and_the_webhook(tmp_path, instance, httpserver):
    httpserver.expect_request("/api/chat.postMessage").respond_with_json({"ok": True})
    httpserver.expect_request("/hook").respond_with_data("", status=204)
    result = failing_job.execute_in_process(instance=instance, raise_on_error=False)
    assert not result.success
    res = {"slack_alerts": SlackAlertResource(bot_token="xoxb-t", base_url=httpserver.url_for("/api/"),
                                              critical_channel="#ops"),
           "alert_webhook": WebhookAlertResource(critical_url=httpserver.url_for("/hook"), secret=SECRET),
           "alert_settings": AlertSettings(dagster_url="http://dagster.local:3000", max_attempts=1),
           "warehouse": DuckDBResource(database=str(tmp_path / "w.duckdb"))}
    ctx = dg.build_run_status_sensor_context(
        sensor_name="run_failure_alert_sensor", dagster_instance=instance, dagster_run=result.dagster_run,
        dagster_event=result.get_run_failure_event(), resources=res).for_run_failure()
    run_failure_alert_sensor(ctx)
    (slack_req, _), (hook_req, _) = sorted(httpserver.log, key=lambda e: e[0].path)
    body = slack_req.get_json()
    assert body["channel"] == "#ops" and body["text"].startswith("[CRITICAL] Run failed: failing_job")
    assert f"http://dagster.local:3000/runs/{result.run_id}" in json.dumps(body["blocks"])
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    assert verify_signature(SECRET, hook_req.headers, hook_req.get_data())
    hook = json.loads(hook_req.get_data())["notifications"][0]
    assert hook["kind"] == "run_failed" and hook["where"]["run_id"] == result.run_id
    assert sorted(con.sql("SELECT target, status FROM alert_log").fetchall()) == [
        ("slack:critical", "delivered"), ("webhook:critical", "delivered")]
    con.close()


def test_exported_sensors():
    assert [s.name for s in alert_sensors] == ["alert_sensor", "run_failure_alert_sensor"]
    assert parse_cursor("garbage") is None and parse_cursor("2026-01-01T00:00:00") is None
