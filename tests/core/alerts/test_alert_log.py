"""alert_log rows per attempt (delivered / retrying / failed / skipped) and which targets a notification reached."""
from datetime import datetime, timezone

import duckdb

from pipeline.core.alerts import Finding, Notification, Outcome, RetryPolicy, deliver
from pipeline.core.alerts.alert_log import delivered_targets, load_states, record, save_states
from pipeline.core.alerts.dedup import Deduper
from pipeline.core.alerts.dispatch import Sent, Target, dispatch

SINCE = datetime(2026, 11, 20, tzinfo=timezone.utc)


def note(key, severity="critical"):
    f = Finding(key=key, kind="drift_block" if severity == "critical" else "drift_review", severity=severity,
                title=f"drift ü {key}")
    return Notification(key=key, action="new", finding=f, since=SINCE)


def test_every_attempt_is_a_row_and_delivered_targets_are_remembered(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    a, b = note("a"), note("b")
    outcomes = iter([Outcome(False, 503, "HTTP 503", True), Outcome(True, 200)])
    ok = deliver("webhook:critical", lambda: next(outcomes), RetryPolicy(sleep=lambda s: None))
    bad = deliver("slack:critical", lambda: Outcome(False, 404, "HTTP 404"), RetryPolicy(sleep=lambda s: None))
    n = record(con, [Sent("webhook:critical", (a, b), ok), Sent("slack:critical", (a,), bad)], [note("w", "warning")],
               SINCE)
    rows = con.sql("SELECT key, target, attempt, status, http_status, error FROM alert_log "
                   "ORDER BY target, key, attempt").fetchall()
    assert n == 6 and rows == [
        ("w", "none", 0, "skipped", None, "no target configured for warning alerts"),
        ("a", "slack:critical", 1, "failed", 404, "HTTP 404"),
        ("a", "webhook:critical", 1, "retrying", 503, "HTTP 503"),
        ("a", "webhook:critical", 2, "delivered", 200, None),
        ("b", "webhook:critical", 1, "retrying", 503, "HTTP 503"),
        ("b", "webhook:critical", 2, "delivered", 200, None)]
    assert delivered_targets(con, [a.id, b.id, "nope"]) == {a.id: {"webhook:critical"}, b.id: {"webhook:critical"}}
    assert delivered_targets(con, []) == {}
    con.close()


def test_partial_failure_retries_only_the_missing_target(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    posts = {"slack:critical": [], "webhook:critical": []}
    slack_up = [False]

    def target(name, up):
        return Target(name, "critical", lambda batch: lambda: (posts[name].append([n.key for n in batch]) or
                                                               Outcome(up(), 200 if up() else 500, None if up() else "HTTP 500", True)))

    targets = [target("slack:critical", lambda: slack_up[0]), target("webhook:critical", lambda: True)]
    d = Deduper()
    due = d.evaluate([note("a").finding])
    sent, done = dispatch(due, targets, RetryPolicy(max_attempts=1), already=delivered_targets(con, [n.id for n in due]))
    record(con, sent)
    assert done == [] and posts == {"slack:critical": [["a"]], "webhook:critical": [["a"]]}
    save_states(con, d.states, SINCE)
    d = Deduper(load_states(con))
    slack_up[0] = True
    due = d.evaluate([note("a").finding])
    sent, done = dispatch(due, targets, RetryPolicy(max_attempts=1), already=delivered_targets(con, [n.id for n in due]))
    assert [n.key for n in done] == ["a"]
    assert posts == {"slack:critical": [["a"], ["a"]], "webhook:critical": [["a"]]}  # the webhook is not posted twice
    con.close()


def test_digest_batches_warnings_per_target_and_render_errors_fail_only_their_batch():
    seen = []
    warn = Target("webhook:warning", "warning", lambda b: (seen.append([n.key for n in b]), lambda: Outcome(True, 200))[1])
    crit = Target("webhook:critical", "critical", lambda b: 1 / 0)
    notes = [note("w1", "warning"), note("w2", "warning"), note("c1"), note("c2")]
    sent, done = dispatch(notes, [warn, crit], RetryPolicy(max_attempts=3, sleep=lambda s: None), digest_warnings=True)
    assert seen == [["w1", "w2"]] and [n.key for n in done] == ["w1", "w2"]
    assert [(s.target, [n.key for n in s.batch], s.result.ok) for s in sent] == [
        ("webhook:warning", ["w1", "w2"], True), ("webhook:critical", ["c1"], False), ("webhook:critical", ["c2"], False)]
    assert sent[1].result.error == "render: division by zero" and len(sent[1].result.attempts) == 1
    seen.clear()
    dispatch(notes, [warn], RetryPolicy(), digest_warnings=False)
    assert seen == [["w1"], ["w2"]]
