"""The dedup state machine over simulated time, and its state persisted through alert_log in a DuckDB file."""
from datetime import datetime, timedelta, timezone

import duckdb
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.core.alerts import Deduper, Finding
from pipeline.core.alerts.alert_log import load_states, save_states

T0 = datetime(2026, 11, 20, tzinfo=timezone.utc)


class Clock:
    def __init__(self):
        self.now = T0

    def __call__(self):
        return self.now

    def advance(self, **kw):
        self.now += timedelta(**kw)


def finding(key="anomaly:latency_ms:s|m|v", severity="critical", kind=None):
    kind = kind or ("anomaly_critical" if key.startswith("anomaly") else
                    "drift_block" if severity == "critical" else "drift_review")
    return Finding(key=key, kind=kind, severity=severity, title=key)


def tick(d: Deduper, findings, deliver=True, sources=None):
    due = d.evaluate(findings, sources)
    if deliver:
        for n in due:
            d.delivered(n)
    return [(n.key, n.action) for n in due]


def test_same_key_sent_once_then_renotified_every_interval():
    clock = Clock()
    d = Deduper(clock=clock)
    assert tick(d, [finding()]) == [("anomaly:latency_ms:s|m|v", "new")]
    sent = []
    for _ in range(9 * 60 // 5):  # nine hours of five-minute ticks
        clock.advance(minutes=5)
        sent += [(clock.now - T0, a) for _, a in tick(d, [finding(), finding()])]
    assert sent == [(timedelta(hours=4), "renotify"), (timedelta(hours=8), "renotify")]


def test_escalation_is_immediate_and_deescalation_silent():
    clock = Clock()
    d = Deduper(clock=clock)
    key = "drift:drop"
    assert tick(d, [finding(key, "warning")]) == [(key, "new")]
    clock.advance(minutes=1)
    due = d.evaluate([finding(key, "critical")])
    assert [(n.action, n.severity, n.previous_severity) for n in due] == [("escalated", "critical", "warning")]
    d.delivered(due[0])
    clock.advance(minutes=1)
    assert tick(d, [finding(key, "warning")]) == []  # back to warning: nothing to say
    clock.advance(minutes=1)
    assert tick(d, [finding(key, "critical")]) == []  # people already know it reached critical


def test_resolution_then_flap_within_window_waits_out_the_window():
    clock = Clock()
    d = Deduper(clock=clock)
    f = finding()
    assert tick(d, [f]) == [(f.key, "new")]
    clock.advance(minutes=10)
    assert tick(d, []) == [(f.key, "resolved")]
    clock.advance(minutes=10)
    assert tick(d, [f]) == []  # back 20 min after the alert: inside the 1 h window
    clock.advance(minutes=40)
    assert tick(d, [f]) == [(f.key, "new")]  # window over and still there: say so
    clock.advance(minutes=1)
    assert tick(d, []) == [(f.key, "resolved")]
    clock.advance(minutes=1)
    assert tick(d, []) == []  # resolved once only


def test_never_delivered_key_resolves_silently():
    clock = Clock()
    d = Deduper(clock=clock)
    assert tick(d, [finding()], deliver=False) == [(finding().key, "new")]
    clock.advance(minutes=1)
    assert tick(d, []) == []  # nobody was told it was open


def test_failed_delivery_stays_pending_with_a_stable_id():
    clock = Clock()
    d = Deduper(clock=clock)
    first = d.evaluate([finding()])
    clock.advance(minutes=1)
    again = d.evaluate([finding()])
    assert [n.id for n in again] == [first[0].id] and again[0].action == "new"
    d.delivered(again[0])
    clock.advance(minutes=1)
    assert d.evaluate([finding()]) == []
    d.delivered(first[0])  # a stale duplicate confirmation changes nothing
    assert d.states[finding().key].last_sent_at == T0 + timedelta(minutes=1)


def test_undelivered_resolution_then_reappearance_says_nothing():
    clock = Clock()
    d = Deduper(clock=clock)
    tick(d, [finding()])
    clock.advance(minutes=5)
    assert tick(d, [], deliver=False) == [(finding().key, "resolved")]
    clock.advance(minutes=5)
    assert tick(d, [finding()]) == []  # people never heard it resolved


def test_resolution_only_for_sources_covered():
    clock = Clock()
    d = Deduper(clock=clock)
    run = Finding(key="run:ingest_job:1", kind="run_failed", severity="critical", title="Run failed")
    tick(d, [finding(), run])
    clock.advance(minutes=1)
    assert tick(d, [], sources={"anomalies", "drift", "staleness"}) == [(finding().key, "resolved")]


def test_state_persists_across_two_ticks_in_a_duckdb_file(tmp_path):
    path, clock = str(tmp_path / "w.duckdb"), Clock()
    crit, warn = finding(), finding("drift:drop", "warning")

    def persisted_tick(findings, deliver_keys):
        con = duckdb.connect(path)
        d = Deduper(load_states(con), clock=clock)
        due = d.evaluate(findings)
        for n in due:
            if n.key in deliver_keys:
                d.delivered(n)
        save_states(con, d.states, clock.now)
        con.close()
        return [(n.key, n.action) for n in due]

    assert persisted_tick([crit, warn], {crit.key}) == [(crit.key, "new"), (warn.key, "new")]  # warn fails
    clock.advance(minutes=5)
    assert persisted_tick([crit, warn], {warn.key}) == [(warn.key, "new")]  # retried; crit deduped
    clock.advance(minutes=5)
    assert persisted_tick([crit, finding("drift:drop", "critical")], set()) == [("drift:drop", "escalated")]
    clock.advance(hours=5)
    assert persisted_tick([], {crit.key, "drift:drop"}) == [(crit.key, "resolved"), ("drift:drop", "resolved")]
    con = duckdb.connect(path)
    states = load_states(con)
    assert {k: (s.active, s.pending, s.notified_open) for k, s in states.items()} == {
        crit.key: (False, None, False), "drift:drop": (False, None, False)}
    assert states["drift:drop"].sent_severity == "warning" and states["drift:drop"].finding.severity == "critical"
    save_states(con, states, clock.now + timedelta(days=31))  # quiet resolved keys are forgotten
    assert load_states(con) == {}
    con.close()


def reference(ticks, window, renotify):
    """Sends for one key when every delivery succeeds, written the obvious way."""
    told_open, last_sent, out = False, None, []
    for t, present in ticks:
        if present and not told_open and (last_sent is None or t - last_sent >= window):
            told_open, last_sent = True, t
            out.append((t, "new"))
        elif present and told_open and t - last_sent >= renotify:
            last_sent = t
            out.append((t, "renotify"))
        elif not present and told_open:
            told_open = False
            out.append((t, "resolved"))
    return out


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 300), st.booleans()), max_size=60),
       st.integers(0, 120), st.integers(1, 600))
def test_matches_reference_model(steps, window_min, renotify_min):
    clock = Clock()
    d = Deduper(window=timedelta(minutes=window_min), renotify=timedelta(minutes=renotify_min), clock=clock)
    ticks, got = [], []
    for gap, present in steps:
        clock.advance(minutes=gap)
        ticks.append((clock.now, present))
        got += [(clock.now, a) for _, a in tick(d, [finding()] if present else [])]
    assert got == reference(ticks, timedelta(minutes=window_min), timedelta(minutes=renotify_min))
