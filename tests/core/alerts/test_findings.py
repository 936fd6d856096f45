"""collect_findings over a real DuckDB warehouse file: which rows become findings, with which keys and severities."""
import math
from datetime import timedelta

import duckdb
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.core.alerts import Finding, Links, collect_findings, evaluated_drops
from pipeline.core.alerts.findings import merge_by_key

from . import NOW, SEGMENT, add_anomaly, add_drop, add_staleness, create_tables, make_warehouse


@pytest.fixture
def con(tmp_path):
    c = duckdb.connect(make_warehouse(tmp_path / "w.duckdb"))
    yield c
    c.close()


def by_key(findings):
    return {f.key: f for f in findings}


def test_first_evaluation_covers_newest_drop_and_newest_checks(con):
    found = by_key(collect_findings(con, links=Links("http://dagster:3000/", "/art")))
    assert set(found) == {"invariant:pii-email", "invariant:lat-p95", f"anomaly:latency_ms:{SEGMENT}",
                          "anomaly:total_tokens:*", "drift:drop", "drift:version:v2 -> v3"}
    pii = found["invariant:pii-email"]
    assert (pii.kind, pii.severity, pii.title) == ("invariant_violated", "critical", "PII leak: no e-mail addresses in responses")
    assert pii.drop_pp == 3.0 and "3 of 100 rows violate it" in pii.evidence
    assert "redacted samples: j***@e***.com, ü***@ö***.de" in pii.evidence
    assert pii.links == {"dagster": "http://dagster:3000/assets/invariant_staleness",
                         "report": "/art/reports/report.html"}
    lat = found["invariant:lat-p95"]
    assert (lat.kind, lat.severity, lat.drop_pp) == ("staleness_violated", "warning", 45.0)
    anomaly = found[f"anomaly:latency_ms:{SEGMENT}"]
    # worst by |score| (the NaN row counts, never wins), the warning row is not counted
    assert anomaly.severity == "critical" and anomaly.score == -9.1
    assert anomaly.evidence[:2] == ("3 critical anomalies in 1 drop(s)", "worst: 5 vs expected 100")
    assert anomaly.where == {"drop": "d3", "segment": SEGMENT, "service": "support-bot", "model": "gpt-4o",
                             "version": "v2", "metric": "latency_ms"}
    assert anomaly.links["dagster"] == "http://dagster:3000/assets/anomalies?view=partitions&partition=d3"
    assert anomaly.links["report"] == "/art/reports/report.html"
    assert found["anomaly:total_tokens:*"].title == "total_tokens anomalies in all traffic"
    drift = found["drift:drop"]
    assert (drift.kind, drift.severity, drift.verdict, drift.score) == ("drift_review", "warning", "REVIEW", 0.4)
    assert "+$0.50 per 10k requests (+50%)" in drift.evidence and "latency up 40% on gpt-4o" in drift.evidence
    version = found["drift:version:v2 -> v3"]  # the older v1 -> v2 BLOCK is superseded
    assert (version.kind, version.where) == ("drift_review", {"subject": "v2 -> v3", "version": "v3"})


def test_drops_since_the_cursor_merge_into_the_worst(con):
    found = by_key(collect_findings(con, NOW - timedelta(hours=2, minutes=30)))
    assert found["drift:drop"].kind == "drift_block" and found["drift:drop"].severity == "critical"
    assert found["drift:drop"].where == {"drop": "d2"}
    assert f"anomaly:cost_usd:{SEGMENT}" in found  # d2's anomaly; d1's is before the cursor
    assert found[f"anomaly:cost_usd:{SEGMENT}"].score == 8.0
    assert not any(f.links for f in found.values())  # no dagster_url, no artifacts: no links


def test_evaluated_drops_since_until_and_fallback(con):
    assert [d for d, _ in evaluated_drops(con, None)] == ["d3"]
    assert [d for d, _ in evaluated_drops(con, NOW - timedelta(hours=2, minutes=30))] == ["d2", "d3"]
    assert [d for d, _ in evaluated_drops(con, NOW)] == ["d3"]  # nothing new: the newest drop stays evaluated
    # d3 is still settling: the cursor sees d2 only, and the fallback is the newest settled drop
    assert [d for d, _ in evaluated_drops(con, NOW - timedelta(hours=2, minutes=30), NOW - timedelta(minutes=90))] == ["d2"]
    assert [d for d, _ in evaluated_drops(con, None, NOW - timedelta(hours=5))] == []


def test_empty_and_missing_tables_give_no_findings(tmp_path):
    c = duckdb.connect(str(tmp_path / "empty.duckdb"))
    assert collect_findings(c) == [] and evaluated_drops(c, None) == []
    create_tables(c)
    assert collect_findings(c, NOW) == []
    c.close()


def test_adversarial_rows(tmp_path):
    c = duckdb.connect(str(tmp_path / "odd.duckdb"))
    create_tables(c)
    add_drop(c, "drop 🚀 ünïcode", NOW)
    huge = "x" * 100_000
    add_anomaly(c, "drop 🚀 ünïcode", "latency_ms", float("nan"), value=float("inf"), expected=None, explanation=huge)
    add_anomaly(c, "drop 🚀 ünïcode", "latency_ms", None, segment="a|b")  # a segment with two parts only
    add_staleness(c, NOW, "pii-x", "pii", "critical", "violated", evidence="not json", support=None)
    c.execute("UPDATE staleness SET evidence = '[1, 2]' WHERE id = 'pii-x'")  # JSON of the wrong shape
    c.execute("INSERT INTO drift_results VALUES (?, 'drop', 'drop 🚀 ünïcode', 'b', 'c', 'nan', NULL, NULL, 'BLOCK',"
              " NULL, NULL, 'nope', '{broken')", [NOW])
    found = by_key(collect_findings(c))
    assert set(found) == {"invariant:pii-x", "anomaly:latency_ms:" + SEGMENT, "anomaly:latency_ms:a|b", "drift:drop"}
    a = found["anomaly:latency_ms:" + SEGMENT]
    assert a.score is None and all(len(e) <= 300 for e in a.evidence) and a.evidence[-1].endswith("…")
    assert found["anomaly:latency_ms:a|b"].where["model"] == "b" and "version" not in found["anomaly:latency_ms:a|b"].where
    assert found["invariant:pii-x"].severity == "critical" and found["invariant:pii-x"].drop_pp == 49.0
    d = found["drift:drop"]
    assert d.severity == "critical" and d.score is None and d.evidence == ()
    c.close()


def test_finding_validation_and_round_trip():
    f = Finding(key="k", kind="drift_block", severity="critical", title="t" * 500, score=float("nan"),
                where={"drop": "d", "empty": "", "none": None}, evidence=("a", "", None, "b", "c", "d", "e", "f"))
    assert len(f.title) == 150 and f.score is None and f.where == {"drop": "d"} and f.evidence == ("a", "b", "c", "d", "e")
    assert Finding.from_dict(f.to_dict()) == f and f.source == "drift"
    for bad in ({"kind": "nope"}, {"severity": "info"}, {"key": ""}):
        with pytest.raises(ValueError):
            Finding(**{"key": "k", "kind": "drift_block", "severity": "critical", "title": "t", **bad})


@given(st.lists(st.tuples(st.sampled_from("abc"), st.sampled_from(["warning", "critical"]),
                          st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True))), max_size=30))
def test_merge_keeps_one_finding_per_key_with_the_worst_severity(items):
    findings = [Finding(key=k, kind="drift_review", severity=s, title=k, score=x) for k, s, x in items]
    merged = by_key(merge_by_key(findings))
    assert set(merged) == {k for k, _, _ in items}
    for k, f in merged.items():
        sevs = {s for kk, s, _ in items if kk == k}
        assert f.severity == ("critical" if "critical" in sevs else "warning")
        same = [abs(g.score or 0) for g in findings if g.key == k and g.severity == f.severity]
        assert math.isclose(abs(f.score or 0), max(same))
