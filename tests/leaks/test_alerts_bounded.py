"""Items 14 and 15: an alert tick is bounded (time budget, a hanging target gets no more of the tick, a storm of
critical findings goes out as one summary) and overlapping ticks send each notification once (atomic claims)."""
from __future__ import annotations

import json
import logging
import threading
import time
from collections import Counter
from datetime import datetime, timedelta, timezone

import duckdb
import pytest
from dagster_duckdb import DuckDBResource
from werkzeug import Response

from pipeline.core.alerts.alert_log import claim, ensure_tables, settle
from resources.alerts import AlertSettings, PrometheusResource, SlackAlertResource, WebhookAlertResource
from sensors.alerts import alert_tick
from tests.core.alerts import add_anomaly, add_drop, create_tables

LOG = logging.getLogger("alert-test")


def _warehouse(tmp_path, critical: int) -> DuckDBResource:
    path = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(path))
    create_tables(con)
    add_drop(con, "d1", datetime.now(timezone.utc) - timedelta(minutes=10))
    for i in range(critical):
        add_anomaly(con, "d1", f"metric_{i:02d}", 9.0 + i)
    con.close()
    return DuckDBResource(database=str(path))


def _tick(tmp_path, warehouse, url, timeout=2.0, monotonic=time.monotonic, **settings):
    hook = WebhookAlertResource(critical_url=url, timeout_seconds=timeout)
    cfg = AlertSettings(settle_seconds=0, **{"max_attempts": 1, **settings})
    return alert_tick(LOG, None, warehouse, str(tmp_path / "artifacts"), SlackAlertResource(), hook, cfg,
                      PrometheusResource(), sleep=lambda s: None, monotonic=monotonic)


def _log(warehouse) -> list[tuple]:
    with warehouse.get_connection() as con:
        return con.sql("SELECT notification_id, status FROM alert_log ORDER BY attempted_at").fetchall()


def test_a_storm_of_critical_findings_is_one_summary(tmp_path, httpserver):
    bodies = []
    httpserver.expect_request("/storm").respond_with_handler(
        lambda r: bodies.append(json.loads(r.get_data())) or Response("", status=204))
    warehouse = _warehouse(tmp_path, 20)
    _, summary = _tick(tmp_path, warehouse, httpserver.url_for("/storm"))
    assert len(bodies) == 1 and bodies[0]["type"] == "digest" and len(bodies[0]["notifications"]) == 20
    assert "20 notification(s) due" in summary and "0 pending" in summary
    _, again = _tick(tmp_path, warehouse, httpserver.url_for("/storm"))
    assert len(bodies) == 1 and "0 notification(s) due" in again


def test_a_hanging_webhook_gets_one_try_per_tick_and_the_rest_waits(tmp_path, httpserver):
    calls = []

    def hang(request):
        calls.append(len(json.loads(request.get_data())["notifications"]))
        time.sleep(1.0)  # longer than the client's timeout: the request times out
        return Response("", status=204)

    httpserver.expect_request("/hang").respond_with_handler(hang)  # its own path: late requests match nothing else
    warehouse = _warehouse(tmp_path, 4)  # below the storm threshold: four separate messages
    _, summary = _tick(tmp_path, warehouse, httpserver.url_for("/hang"), timeout=0.3, max_attempts=3)
    log = _log(warehouse)  # one batch, its three attempts; the three other batches are not tried this tick
    assert len({nid for nid, _ in log}) == 1 and calls and set(calls) == {1}
    assert Counter(s for _, s in log) == Counter({"retrying": 2, "failed": 1})
    assert "4 pending" in summary


def test_no_delivery_starts_after_the_time_budget(tmp_path, httpserver):
    sent = []
    httpserver.expect_request("/hook").respond_with_handler(
        lambda r: sent.extend(n["id"] for n in json.loads(r.get_data())["notifications"]) or Response("", status=204))
    warehouse = _warehouse(tmp_path, 12)
    clock = iter(range(0, 10_000, 4))  # every look at the clock: 4 "seconds" later
    _, summary = _tick(tmp_path, warehouse, httpserver.url_for("/hook"), monotonic=lambda: next(clock),
                       tick_budget_seconds=20, storm_threshold=50)
    first = len(sent)
    assert 0 < first < 12 and f"{12 - first} pending" in summary
    for _ in range(12):  # later ticks send the rest, each notification once
        _tick(tmp_path, warehouse, httpserver.url_for("/hook"), storm_threshold=50)
    assert len(sent) == 12 and len(set(sent)) == 12


def test_overlapping_ticks_send_each_notification_once(tmp_path, httpserver):
    sent, lock = [], threading.Lock()

    def slow(request):
        time.sleep(0.3)  # a slow receiver: the two ticks overlap while it answers
        with lock:
            sent.extend(n["id"] for n in json.loads(request.get_data())["notifications"])
        return Response("", status=204)

    httpserver.expect_request("/slow").respond_with_handler(slow)
    warehouse = _warehouse(tmp_path, 3)
    url = httpserver.url_for("/slow")
    errors = []

    def run():
        try:
            _tick(tmp_path, warehouse, url, timeout=5)
        except Exception as exc:  # a tick may lose a warehouse write conflict: it raises and retries next tick
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for _ in range(2):
        run()  # later ticks settle what the overlapping ones left pending, without re-sending
    assert sorted(Counter(sent).values()) == [1, 1, 1]
    with warehouse.get_connection() as con:
        assert con.execute("SELECT count(*) FROM alert_state WHERE pending IS NOT NULL").fetchall() == [(0,)]


def test_a_claim_is_taken_once_and_a_dead_ticks_lease_runs_out(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    ensure_tables(con)
    now = datetime(2026, 12, 1, tzinfo=timezone.utc)
    t = "webhook:critical"
    assert claim(con, t, ["a|new", "b|new"], "tick-1", now) == ({"a|new", "b|new"}, set())
    assert claim(con, t, ["a|new", "b|new", "c|new"], "tick-2", now) == ({"c|new"}, set())
    settle(con, t, ["a|new"], "tick-1", delivered=True, now=now)
    assert claim(con, t, ["a|new"], "tick-2", now) == (set(), {"a|new"})  # delivered by tick-1: done, not re-sent
    # tick-1 died holding "b": after the lease another tick takes it; "a" stays guarded
    later = now + timedelta(minutes=6)
    assert claim(con, t, ["a|new", "b|new"], "tick-3", later) == ({"b|new"}, {"a|new"})
    settle(con, t, ["b|new"], "tick-3", delivered=False, now=later)  # failed: pending again
    assert claim(con, t, ["b|new"], "tick-4", later) == ({"b|new"}, set())
    assert claim(con, "slack:critical", ["a|new"], "tick-4", later) == ({"a|new"}, set())  # per target
    # long after, the same message may legitimately be owed again (re-opened after the dedup window)
    assert claim(con, t, ["a|new"], "tick-5", now + timedelta(hours=2)) == ({"a|new"}, set())
    settle(con, t, ["a|new"], "tick-5", delivered=True, now=now + timedelta(hours=2))
    assert claim(con, t, ["a|new"], "tick-6", now + timedelta(days=40)) == ({"a|new"}, set())  # pruned, then new
