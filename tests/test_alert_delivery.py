"""Real clients against loopback servers: slack-sdk (Web API and incoming webhook) and the signed httpx webhook,
with 429/Retry-After, 5xx, timeouts, the alert log and the next tick's retry."""
import json
import threading
from datetime import datetime, timedelta, timezone

import duckdb
import pytest
from werkzeug import Response

from pipeline.core.alerts import Deduper, Finding, RetryPolicy, dispatch, verify_signature
from pipeline.core.alerts.alert_log import delivered_targets, load_states, record, save_states
from resources.alerts import AlertSettings, SlackAlertResource, WebhookAlertResource

SECRET = "whsec-test-0123456789"
T0 = datetime(2026, 11, 20, 12, tzinfo=timezone.utc)


def finding(key="anomaly:latency_ms:bot|gpt-4o|v2", severity="critical", title="latency_ms anomalies in bot|gpt-4o|v2"):
    kind = "anomaly_critical" if severity == "critical" else "drift_review"
    return Finding(key=key, kind=kind, severity=severity, title=title, where={"drop": "d3", "segment": "bot|gpt-4o|v2"},
                   score=-9.1, evidence=("3 critical anomalies in 1 drop(s)",),
                   links={"dagster": "http://dagster:3000/assets/anomalies"})


def sleeper():
    slept = []
    return slept, slept.append


def test_slack_web_api_posts_blocks_and_honors_retry_after(httpserver):
    httpserver.expect_ordered_request("/api/chat.postMessage", method="POST").respond_with_response(
        Response(json.dumps({"ok": False, "error": "ratelimited"}), status=429, headers={"Retry-After": "1"},
                 content_type="application/json"))
    httpserver.expect_ordered_request("/api/chat.postMessage", method="POST").respond_with_json(
        {"ok": True, "channel": "C1", "ts": "1.000"})
    slack = SlackAlertResource(bot_token="xoxb-test-token", base_url=httpserver.url_for("/api/"),
                               critical_channel="#strata-critical", warning_channel="#strata-warn")
    slept, sleep = sleeper()
    n = Deduper().evaluate([finding()])
    with slack.open_targets() as targets:
        sent, done = dispatch(n, targets, RetryPolicy(max_attempts=3, sleep=sleep))
    assert [t.outcome.status_code for t in sent[0].result.attempts] == [429, 200] and done == n
    assert sum(slept) >= 1 and slept == [1.0]
    httpserver.check_assertions()
    (req, _), (req2, _) = httpserver.log
    body = req2.get_json()
    assert req2.headers["Authorization"] == "Bearer xoxb-test-token"
    assert body["channel"] == "#strata-critical"
    assert body["text"] == "[CRITICAL] latency_ms anomalies in bot|gpt-4o|v2 (drop=d3, segment=bot|gpt-4o|v2)"
    blocks = body["blocks"] if isinstance(body["blocks"], list) else json.loads(body["blocks"])
    assert blocks[0]["text"]["text"] == "latency_ms anomalies in bot|gpt-4o|v2"
    assert blocks[3] == {"type": "actions", "elements": [{"type": "button", "text": {
        "type": "plain_text", "text": "Open in Dagster"}, "url": "http://dagster:3000/assets/anomalies",
        "action_id": "strata-dagster"}]}
    assert req.get_data() == req2.get_data()


def test_slack_ok_false_is_final_and_warning_digest_goes_to_the_warning_channel(httpserver):
    httpserver.expect_request("/api/chat.postMessage").respond_with_json({"ok": False, "error": "channel_not_found"})
    slack = SlackAlertResource(bot_token="xoxb-test-token", base_url=httpserver.url_for("/api/"),
                               warning_channel="#warn")
    notes = Deduper().evaluate([finding("drift:drop", "warning", "Drift REVIEW"),
                                finding("drift:version:v1 -> v2", "warning", "Drift REVIEW v2")])
    with slack.open_targets() as targets:
        assert [t.name for t in targets] == ["slack:warning"]
        sent, done = dispatch(notes, targets, RetryPolicy(max_attempts=5, sleep=lambda s: None))
    assert len(httpserver.log) == 1 and done == []
    assert sent[0].result.error == "slack: channel_not_found"
    body = httpserver.log[0][0].get_json()
    assert body["channel"] == "#warn" and body["text"].startswith("Strata: 2 warning(s) open, 0 resolved")


def test_slack_incoming_webhook_path(httpserver):
    httpserver.expect_ordered_request("/services/T0/B0/crit", method="POST").respond_with_data("internal", status=500)
    httpserver.expect_ordered_request("/services/T0/B0/crit", method="POST").respond_with_data(
        "rate limited", status=429, headers={"Retry-After": "2"})
    httpserver.expect_ordered_request("/services/T0/B0/crit", method="POST").respond_with_data("ok")
    slack = SlackAlertResource(webhook_url=httpserver.url_for("/services/T0/B0/crit"))
    slept, sleep = sleeper()
    n = Deduper().evaluate([finding()])
    with slack.open_targets() as targets:
        sent, done = dispatch(n, targets, RetryPolicy(max_attempts=3, base=0.25, sleep=sleep, rng=lambda: 1.0))
    assert done == n and slept == [0.25, 2.0]
    assert [a.outcome.status_code for a in sent[0].result.attempts] == [500, 429, 200]
    body = httpserver.log[-1][0].get_json()
    assert body["text"].startswith("[CRITICAL]") and body["blocks"][0]["type"] == "header"
    httpserver.check_assertions()


@pytest.fixture
def signed_receiver(httpserver):
    """A webhook receiver that checks the signature over the exact bytes it got."""
    got = []

    def handler(request):
        raw = request.get_data()
        got.append({"raw": raw, "headers": dict(request.headers), "path": request.path,
                    "verified": verify_signature(SECRET, request.headers, raw)})
        return Response("", status=204)
    return got, handler


def test_webhook_500_then_200_is_delivered_on_attempt_two_and_signed(httpserver, signed_receiver):
    got, handler = signed_receiver
    httpserver.expect_ordered_request("/hooks/critical").respond_with_data("oops", status=500)
    httpserver.expect_ordered_request("/hooks/critical").respond_with_handler(handler)
    hook = WebhookAlertResource(critical_url=httpserver.url_for("/hooks/critical"),
                                warning_url=httpserver.url_for("/hooks/warning"), secret=SECRET)
    slept, sleep = sleeper()
    notes = Deduper().evaluate([finding()])
    with hook.open_targets() as targets:
        sent, done = dispatch(notes, targets, AlertSettings(backoff_base_seconds=0.5).policy(sleep))
    assert done == notes and [a.number for a in sent[0].result.attempts] == [1, 2] and sent[0].result.ok
    assert len(slept) == 1 and 0 <= slept[0] <= 0.5
    (one,) = got
    assert one["verified"] and one["path"] == "/hooks/critical"
    body = json.loads(one["raw"])
    assert body["notifications"][0]["key"] == "anomaly:latency_ms:bot|gpt-4o|v2"
    assert one["headers"]["Content-Type"] == "application/json; charset=utf-8"
    # tampering or replaying what the receiver got fails verification
    ts = int(one["headers"]["X-Strata-Timestamp"])
    assert not verify_signature(SECRET, one["headers"], one["raw"].replace(b"-9.1", b"-1.0"))
    assert not verify_signature(SECRET, one["headers"], one["raw"], now=ts + 301)
    assert not verify_signature("other-secret", one["headers"], one["raw"])


def test_webhook_routes_by_severity_and_digests_warnings(httpserver, signed_receiver):
    got, handler = signed_receiver
    httpserver.expect_request("/hooks/critical").respond_with_handler(handler)
    httpserver.expect_request("/hooks/warning").respond_with_handler(handler)
    hook = WebhookAlertResource(critical_url=httpserver.url_for("/hooks/critical"),
                                warning_url=httpserver.url_for("/hooks/warning"), secret=SECRET)
    notes = Deduper().evaluate([finding(), finding("drift:drop", "warning", "w1"),
                                finding("drift:version:a", "warning", "w2 ✓")])
    with hook.open_targets() as targets:
        sent, done = dispatch(notes, targets, RetryPolicy(sleep=lambda s: None), digest_warnings=True)
    assert len(done) == 3 and all(g["verified"] for g in got)
    by_path = {g["path"]: json.loads(g["raw"]) for g in got}
    assert [n["key"] for n in by_path["/hooks/critical"]["notifications"]] == ["anomaly:latency_ms:bot|gpt-4o|v2"]
    assert by_path["/hooks/warning"]["type"] == "digest"
    assert [n["title"] for n in by_path["/hooks/warning"]["notifications"]] == ["w1", "w2 ✓"]


def test_webhook_4xx_is_not_retried(httpserver):
    httpserver.expect_request("/hooks/critical").respond_with_data("gone", status=410)
    hook = WebhookAlertResource(critical_url=httpserver.url_for("/hooks/critical"), secret=SECRET)
    with hook.open_targets() as targets:
        sent, done = dispatch(Deduper().evaluate([finding()]), targets, RetryPolicy(max_attempts=5, sleep=lambda s: None))
    assert len(httpserver.log) == 1 and done == [] and sent[0].result.error == "HTTP 410: gone"


def test_webhook_timeout_is_logged_failed_stays_pending_and_is_delivered_next_tick(tmp_path, httpserver):
    release, verified = threading.Event(), []

    def slow_then_ok(request):
        if not release.is_set():
            release.wait(3)  # well past the client's 0.3 s timeout
        verified.append(verify_signature(SECRET, request.headers, request.get_data()))
        return Response("", status=200)

    httpserver.expect_request("/hooks/critical").respond_with_handler(slow_then_ok)
    hook = WebhookAlertResource(critical_url=httpserver.url_for("/hooks/critical"), secret=SECRET, timeout_seconds=0.3)
    db, clock = str(tmp_path / "w.duckdb"), [T0]

    def tick():
        con = duckdb.connect(db)
        d = Deduper(load_states(con), clock=lambda: clock[0])
        due = d.evaluate([finding()])
        already = delivered_targets(con, [n.id for n in due])
        with hook.open_targets() as targets:
            sent, done = dispatch(due, targets, RetryPolicy(max_attempts=2, sleep=lambda s: None), already=already)
        for n in done:
            d.delivered(n)
        record(con, sent, at=clock[0])
        save_states(con, d.states, clock[0])
        rows = con.sql("SELECT attempt, status, error FROM alert_log ORDER BY attempted_at, attempt").fetchall()
        pending = {k: s.pending for k, s in load_states(con).items()}
        con.close()
        return sent, rows, pending

    sent, rows, pending = tick()
    assert not sent[0].result.ok
    assert [(a, s) for a, s, _ in rows] == [(1, "retrying"), (2, "failed")]
    assert all("timed out" in e.lower() or "timeout" in e.lower() for _, _, e in rows)
    assert pending == {"anomaly:latency_ms:bot|gpt-4o|v2": "new"}
    release.set()
    clock[0] += timedelta(minutes=1)
    sent, rows, pending = tick()
    assert sent[0].result.ok and rows[-1][:2] == (1, "delivered") and pending == {"anomaly:latency_ms:bot|gpt-4o|v2": None}
    assert verified and all(verified)
    clock[0] += timedelta(minutes=1)
    sent, rows, _ = tick()
    assert sent == [] and len(rows) == 3  # delivered: the third tick has nothing to send
