"""Slack Block Kit and webhook bodies: content, Slack's limits, escaping, odd input."""
import json
from datetime import datetime, timezone

from hypothesis import given
from hypothesis import strategies as st

from pipeline.core.alerts import Finding, Notification
from pipeline.core.alerts.messages import escape, fallback_text, slack_alert, slack_digest, webhook_body

SINCE = datetime(2026, 11, 20, 12, tzinfo=timezone.utc)


def note(action="new", severity="critical", title="PII leak: e-mails", key="invariant:pii", previous=None, **kw):
    f = Finding(key=key, kind="invariant_violated" if severity == "critical" else "staleness_violated",
                severity=severity, title=title, **kw)
    return Notification(key=key, action=action, finding=f, since=SINCE, previous_severity=previous)


def walk_texts(blocks):
    for b in blocks:
        for part in [b.get("text")] + b.get("fields", []) + b.get("elements", []):
            if isinstance(part, dict) and "text" in part:
                yield b["type"], part["text"] if isinstance(part["text"], str) else part["text"]["text"]


def check_limits(blocks):
    assert 1 <= len(blocks) <= 50
    for kind, text in walk_texts(blocks):
        assert len(text) <= (150 if kind == "header" else 3000)


def test_alert_blocks_carry_what_where_how_bad_evidence_and_links():
    n = note(where={"invariant": "pii", "family": "pii"}, drop_pp=3.0, evidence=("3 of 100 rows", "a <b> & c"),
             links={"dagster": "http://dagster:3000/assets/x", "report": "/art/reports/report.html"})
    text, blocks = slack_alert(n)
    assert text == "[CRITICAL] PII leak: e-mails (invariant=pii, family=pii)"
    assert blocks[0] == {"type": "header", "text": {"type": "plain_text", "text": "PII leak: e-mails", "emoji": True}}
    fields = [f["text"] for f in blocks[1]["fields"]]
    assert fields == ["*Severity*\n:rotating_light: critical", "*Kind*\ninvariant_violated",
                      "*Where*\ninvariant=pii, family=pii", "*How bad*\nconfidence −3.0 pp"]
    assert blocks[2]["text"]["text"] == ("• 3 of 100 rows\n• a &lt;b&gt; &amp; c\n"
                                         "report: `/art/reports/report.html`")
    assert blocks[3]["elements"][0]["url"] == "http://dagster:3000/assets/x"
    assert "`invariant:pii`" in blocks[-1]["elements"][0]["text"]


def test_actions_have_their_labels():
    assert slack_alert(note("resolved"))[1][0]["text"]["text"] == "Resolved: PII leak: e-mails"
    assert slack_alert(note("renotify"))[1][0]["text"]["text"] == "Still open: PII leak: e-mails"
    esc = note("escalated", previous="warning")
    assert slack_alert(esc)[1][0]["text"]["text"] == "Escalated warning → critical: PII leak: e-mails"
    assert ":white_check_mark:" in slack_alert(note("resolved"))[1][1]["fields"][0]["text"]


def test_digest_of_many_warnings_stays_within_slack_limits():
    notes = [note(severity="warning", key=f"k{i}", title=f"warning {i} " + "é" * 400,
                  evidence=("z" * 290,), links={"dagster": f"http://d/{i}"}) for i in range(120)]
    notes.append(note("resolved", severity="warning", key="gone"))
    text, blocks = slack_digest(notes)
    check_limits(blocks)
    assert blocks[0]["text"]["text"] == "Strata digest: 120 warning(s) open, 1 resolved"
    assert blocks[-1]["elements"][0]["text"] == "… and 73 more"
    assert blocks[1]["text"]["text"].startswith(":warning: *<http://d/0|warning 0 ")
    assert len(text) <= 3000


@given(st.text(max_size=5000), st.lists(st.text(max_size=2000), max_size=8),
       st.dictionaries(st.text(min_size=1, max_size=20), st.text(max_size=500), max_size=6))
def test_any_text_renders_within_limits_and_as_valid_json(title, evidence, where):
    n = note(title=title or "t", evidence=tuple(evidence), where=where, links={"dagster": "https://x/" + title[:50]})
    text, blocks = slack_alert(n)
    check_limits(blocks)
    assert len(text) <= 1000 and len(fallback_text(n)) <= 1000
    json.dumps(blocks)
    body = json.loads(webhook_body([n]).decode("utf-8"))
    assert body["notifications"][0]["title"] == n.finding.title


def test_webhook_body_is_utf8_json_with_every_field():
    n = note(score=float("nan"), verdict="BLOCK", title="Drift 🚀 ü", evidence=("e",))
    raw = webhook_body([n, note("resolved", key="other")], sent_at=SINCE)
    body = json.loads(raw)
    assert "🚀".encode() in raw and b"NaN" not in raw
    assert body["type"] == "digest" and body["version"] == 1 and body["sent_at"] == SINCE.isoformat()
    first = body["notifications"][0]
    assert {k: first[k] for k in ("id", "key", "action", "severity", "kind", "title", "score", "verdict", "evidence",
                                  "since")} == {
        "id": f"invariant:pii|new|{SINCE.isoformat()}", "key": "invariant:pii", "action": "new",
        "severity": "critical", "kind": "invariant_violated", "title": "Drift 🚀 ü", "score": None,
        "verdict": "BLOCK", "evidence": ["e"], "since": SINCE.isoformat()}
    assert json.loads(webhook_body([n]))["type"] == "alert"


def test_escape():
    assert escape("<@U123> & <!channel>") == "&lt;@U123&gt; &amp; &lt;!channel&gt;"
